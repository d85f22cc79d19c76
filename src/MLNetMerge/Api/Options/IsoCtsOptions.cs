namespace MLNetMerge;

/// <summary>Settings of ISO-CTS: ISO-C's common subspace plus task-specific directions orthogonal to it, flat spectrum
/// (Marczak et al. 2025, arXiv:2502.04959). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class IsoCtsOptions : MergeOptions
{
    internal override string MethodName => "iso_cts";

    /// <summary>λ: multiplies the merged update. Default 1.</summary>
    [RecipeParameter("scale")]
    public double Scale { get; set; } = Declared.MergeNumber("iso_cts", "scale");

    /// <summary>Share of min(m, n) given to the common subspace (before rounding the task part to a multiple of T).
    /// Default 0.8.</summary>
    [RecipeParameter("common_space_fraction")]
    public double CommonSpaceFraction { get; set; } = Declared.MergeNumber("iso_cts", "common_space_fraction");

    /// <summary>Which tensors are merged as matrices. Default <see cref="MatrixSelection.All2d"/>.</summary>
    [RecipeParameter("matrices")]
    public MatrixSelection Matrices { get; set; } = Declared.MergeChoice<MatrixSelection>("iso_cts", "matrices");

    /// <summary>Products by the Gram matrix in the per-task truncated SVD's subspace iteration (each one power step of τ τᵀ). Default 12.
    /// Only tall matrices (more rows than columns) take that truncated SVD; wide and square ones take exact per-task SVDs.</summary>
    [RecipeParameter("power_iterations")]
    public int PowerIterations { get; set; } = (int)Declared.MergeNumber("iso_cts", "power_iterations");

    /// <summary>Products by the Gram matrix between orthonormalisations: the degree of the per-task truncated SVD's Chebyshev filter (1: the shifted power iteration). Default 3.
    /// Tall matrices only, as <see cref="PowerIterations"/>.</summary>
    [RecipeParameter("filter_degree")]
    public int FilterDegree { get; set; } = (int)Declared.MergeNumber("iso_cts", "filter_degree");
}
