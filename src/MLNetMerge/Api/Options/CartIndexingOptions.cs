namespace MLNetMerge;

/// <summary>Settings of CART indexing: one model per task, <c>θavg + λ lowrank(ct)</c> (Choi et al. 2024, arXiv:2412.12153). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class CartIndexingOptions : MergeOptions
{
    internal override string MethodName => "cart_indexing";

    /// <summary>r / min(m, n) of each block matrix's truncated SVD. Default 0.12.</summary>
    [RecipeParameter("rank_ratio")]
    public double RankRatio { get; set; } = Declared.MergeNumber("cart_indexing", "rank_ratio");

    /// <summary>λ. Default 2.</summary>
    [RecipeParameter("scale")]
    public double Scale { get; set; } = Declared.MergeNumber("cart_indexing", "scale");

    /// <summary>Products by the Gram matrix in the truncated SVD's subspace iteration (each one power step of A Aᵀ). Default 13.</summary>
    [RecipeParameter("power_iterations")]
    public int PowerIterations { get; set; } = (int)Declared.MergeNumber("cart_indexing", "power_iterations");

    /// <summary>Extra sketch columns of the truncated SVD (sketch r + oversampling). Default 64.</summary>
    [RecipeParameter("oversampling")]
    public int Oversampling { get; set; } = (int)Declared.MergeNumber("cart_indexing", "oversampling");

    /// <summary>Products by the Gram matrix between orthonormalisations: the degree of the truncated SVD's Chebyshev filter (1: the shifted power iteration). Default 3.</summary>
    [RecipeParameter("filter_degree")]
    public int FilterDegree { get; set; } = (int)Declared.MergeNumber("cart_indexing", "filter_degree");
}
