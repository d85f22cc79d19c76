namespace MLNetMerge;

/// <summary>Settings of AdaMerging: merge coefficients learned by entropy minimisation on unlabeled inputs (Yang et al. 2024, arXiv:2310.02575). Defaults are the stage's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class AdaMergingOptions : AlignmentOptions
{
    internal override string MethodName => "adamerging";

    /// <summary>One coefficient per task and tensor (layer) or per task (task). Default <see cref="CoefficientGranularity.Layer"/>.</summary>
    [RecipeParameter("granularity")]
    public CoefficientGranularity Granularity { get; set; } = Declared.StageChoice<CoefficientGranularity>("adamerging", "granularity");

    /// <summary>Plain task vectors, or TIES-trimmed ones (AdaMerging++). Default <see cref="AdaMergingVectors.Plain"/>.</summary>
    [RecipeParameter("vectors")]
    public AdaMergingVectors Vectors { get; set; } = Declared.StageChoice<AdaMergingVectors>("adamerging", "vectors");

    /// <summary>TIES keep fraction of AdaMerging++'s trimmed vectors. Default 0.2.</summary>
    [RecipeParameter("keep")]
    public double Keep { get; set; } = Declared.StageNumber("adamerging", "keep");

    /// <summary>Adam steps, each on one batch of every task. Default 500.</summary>
    [RecipeParameter("steps")]
    public int Steps { get; set; } = (int)Declared.StageNumber("adamerging", "steps");

    /// <summary>Unlabeled examples per task per step. Default 16.</summary>
    [RecipeParameter("batch_size")]
    public int BatchSize { get; set; } = (int)Declared.StageNumber("adamerging", "batch_size");

    /// <summary>Adam's learning rate. Default 0.001.</summary>
    [RecipeParameter("learning_rate")]
    public double LearningRate { get; set; } = Declared.StageNumber("adamerging", "learning_rate");

    /// <summary>Starting coefficient. Default 0.3.</summary>
    [RecipeParameter("init")]
    public double InitialCoefficient { get; set; } = Declared.StageNumber("adamerging", "init");

    /// <summary>Clamp coefficients to [0, 1] in the forward pass (the authors' code). Default true.</summary>
    [RecipeParameter("clamp")]
    public bool Clamp { get; set; } = Declared.StageFlag("adamerging", "clamp");
}
