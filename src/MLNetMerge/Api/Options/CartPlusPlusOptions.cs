namespace MLNetMerge;

/// <summary>Settings of CART++: CART's low-rank vectors with AdaMerging's learned coefficients (Choi et al. 2024, arXiv:2412.12153). Defaults are the stage's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class CartPlusPlusOptions : AlignmentOptions
{
    internal override string MethodName => "cart_plus_plus";

    /// <summary>CART's rank ratio r / min(m, n). Default 0.12.</summary>
    [RecipeParameter("rank_ratio")]
    public double RankRatio { get; set; } = Declared.StageNumber("cart_plus_plus", "rank_ratio");

    /// <summary>Starting coefficient (CART's λ). Default 2.</summary>
    [RecipeParameter("init")]
    public double InitialCoefficient { get; set; } = Declared.StageNumber("cart_plus_plus", "init");

    /// <summary>One coefficient per task and tensor (layer) or per task (task). Default <see cref="CoefficientGranularity.Layer"/>.</summary>
    [RecipeParameter("granularity")]
    public CoefficientGranularity Granularity { get; set; } = Declared.StageChoice<CoefficientGranularity>("cart_plus_plus", "granularity");

    /// <summary>Adam steps, each on one batch of every task. Default 500.</summary>
    [RecipeParameter("steps")]
    public int Steps { get; set; } = (int)Declared.StageNumber("cart_plus_plus", "steps");

    /// <summary>Unlabeled examples per task per step. Default 16.</summary>
    [RecipeParameter("batch_size")]
    public int BatchSize { get; set; } = (int)Declared.StageNumber("cart_plus_plus", "batch_size");

    /// <summary>Adam's learning rate. Default 0.001.</summary>
    [RecipeParameter("learning_rate")]
    public double LearningRate { get; set; } = Declared.StageNumber("cart_plus_plus", "learning_rate");
}
