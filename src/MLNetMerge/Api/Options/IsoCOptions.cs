namespace MLNetMerge;

/// <summary>Settings of ISO-C: per matrix, the summed task vectors with their singular spectrum flattened to its mean
/// (Marczak et al. 2025, arXiv:2502.04959). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class IsoCOptions : MergeOptions
{
    internal override string MethodName => "iso_c";

    /// <summary>λ: multiplies the merged update. Default 1.</summary>
    [RecipeParameter("scale")]
    public double Scale { get; set; } = Declared.MergeNumber("iso_c", "scale");

    /// <summary>Which tensors are merged as matrices. Default <see cref="MatrixSelection.All2d"/>.</summary>
    [RecipeParameter("matrices")]
    public MatrixSelection Matrices { get; set; } = Declared.MergeChoice<MatrixSelection>("iso_c", "matrices");
}
