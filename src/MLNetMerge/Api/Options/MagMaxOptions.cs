namespace MLNetMerge;

/// <summary>Settings of MagMax: the largest-magnitude task-vector entry per element (Marczak et al. 2024, arXiv:2407.06322). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class MagMaxOptions : MergeOptions
{
    internal override string MethodName => "magmax";

    /// <summary>λ: multiplies the selected task vector. Default 1.</summary>
    [RecipeParameter("scale")]
    public double Scale { get; set; } = Declared.MergeNumber("magmax", "scale");
}
