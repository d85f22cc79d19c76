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

    /// <summary>Power iterations of the randomized SVD. Default 8.</summary>
    [RecipeParameter("power_iterations")]
    public int PowerIterations { get; set; } = (int)Declared.MergeNumber("cart_indexing", "power_iterations");
}
