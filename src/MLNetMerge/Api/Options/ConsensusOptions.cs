namespace MLNetMerge;

/// <summary>Settings of Consensus merging: TALL masks vote, elements kept by at least k tasks (Wang et al. 2024, arXiv:2405.07813). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class ConsensusOptions : MergeOptions
{
    internal override string MethodName => "consensus";

    /// <summary>κ: mask threshold factor. Default 0.4.</summary>
    [RecipeParameter("kappa")]
    public double Kappa { get; set; } = Declared.MergeNumber("consensus", "kappa");

    /// <summary>Minimum number of task masks an element needs. Default 2.</summary>
    [RecipeParameter("k")]
    public double MinimumAgreement { get; set; } = Declared.MergeNumber("consensus", "k");

    /// <summary>λ. Default 0.3.</summary>
    [RecipeParameter("scale")]
    public double Scale { get; set; } = Declared.MergeNumber("consensus", "scale");
}
