namespace MLNetMerge;

/// <summary>Settings of TALL masks: each task its own masked copy of the merge (Wang et al. 2024, arXiv:2405.07813). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class TallOptions : MergeOptions
{
    internal override string MethodName => "tall";

    /// <summary>κ: mask threshold factor. Default 0.4.</summary>
    [RecipeParameter("kappa")]
    public double Kappa { get; set; } = Declared.MergeNumber("tall", "kappa");

    /// <summary>λ. Default 0.3.</summary>
    [RecipeParameter("scale")]
    public double Scale { get; set; } = Declared.MergeNumber("tall", "scale");
}
