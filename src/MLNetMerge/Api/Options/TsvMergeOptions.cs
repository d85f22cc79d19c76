namespace MLNetMerge;

/// <summary>Settings of TSV-M: per matrix, the top 1/T singular vectors of each task vector, decorrelated by orthogonal
/// Procrustes (Gargiulo et al. 2025, arXiv:2412.00081). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class TsvMergeOptions : MergeOptions
{
    internal override string MethodName => "tsv_m";

    /// <summary>λ (the paper's α): multiplies the merged update. Default 1.</summary>
    [RecipeParameter("scale")]
    public double Scale { get; set; } = Declared.MergeNumber("tsv_m", "scale");

    /// <summary>Which tensors are merged as matrices. Default <see cref="MatrixSelection.All2d"/>.</summary>
    [RecipeParameter("matrices")]
    public MatrixSelection Matrices { get; set; } = Declared.MergeChoice<MatrixSelection>("tsv_m", "matrices");

    /// <summary>Products by the Gram matrix in the per-task truncated SVD's subspace iteration (each one power step of τ τᵀ). Default 12.</summary>
    [RecipeParameter("power_iterations")]
    public int PowerIterations { get; set; } = (int)Declared.MergeNumber("tsv_m", "power_iterations");

    /// <summary>Products by the Gram matrix between orthonormalisations: the degree of the per-task truncated SVD's Chebyshev filter (1: the shifted power iteration). Default 3.</summary>
    [RecipeParameter("filter_degree")]
    public int FilterDegree { get; set; } = (int)Declared.MergeNumber("tsv_m", "filter_degree");
}
