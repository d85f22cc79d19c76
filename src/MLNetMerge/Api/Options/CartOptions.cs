namespace MLNetMerge;

/// <summary>Settings of CART: centered task vectors around the average, each block matrix truncated to low rank (Choi et al. 2024, arXiv:2412.12153). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class CartOptions : MergeOptions
{
    internal override string MethodName => "cart";

    /// <summary>r / min(m, n) of each block matrix's truncated SVD. Default 0.12.</summary>
    [RecipeParameter("rank_ratio")]
    public double RankRatio { get; set; } = Declared.MergeNumber("cart", "rank_ratio");

    /// <summary>λ. Default 2.</summary>
    [RecipeParameter("scale")]
    public double Scale { get; set; } = Declared.MergeNumber("cart", "scale");

    /// <summary>Products by the Gram matrix in the truncated SVD's subspace iteration (each one power step of A Aᵀ). Default 13.</summary>
    [RecipeParameter("power_iterations")]
    public int PowerIterations { get; set; } = (int)Declared.MergeNumber("cart", "power_iterations");

    /// <summary>Extra sketch columns of the truncated SVD (sketch r + oversampling). Default 64.</summary>
    [RecipeParameter("oversampling")]
    public int Oversampling { get; set; } = (int)Declared.MergeNumber("cart", "oversampling");

    /// <summary>Products by the Gram matrix between orthonormalisations: the degree of the truncated SVD's Chebyshev filter (1: the shifted power iteration). Default 3.</summary>
    [RecipeParameter("filter_degree")]
    public int FilterDegree { get; set; } = (int)Declared.MergeNumber("cart", "filter_degree");
}
