namespace MLNetMerge;

/// <summary>Settings of Model Tinting and Tinting++: merge coefficients and one task-specific layer trained on unlabeled inputs (Jung et al. 2024, arXiv:2412.19098). Defaults are the stage's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class TintingOptions : AlignmentOptions
{
    internal override string MethodName => PlusPlus ? "tinting_plus_plus" : "tinting";

    /// <summary>Tinting++ (confidence-based filtering of the pseudo-labels) instead of Model Tinting. Default false.</summary>
    public bool PlusPlus { get; set; }

    /// <summary>Samples left out of the loss; null: none for Model Tinting, disagree-and-more-confident (the authors' code) for Tinting++.</summary>
    [RecipeParameter("filter")]
    public TintingFilter? Filter { get; set; }

    /// <summary>Task-specific layer: null for each task's head, else the index of the transformer block duplicated per task.</summary>
    [RecipeParameter("layer")]
    public int? Block { get; set; }

    /// <summary>Loss against the individual model. Default <see cref="TintingLoss.Hard"/>.</summary>
    [RecipeParameter("loss")]
    public TintingLoss Loss { get; set; } = Declared.StageChoice<TintingLoss>("tinting", "loss");

    /// <summary>Rounds; each visits every task once in a shuffled order with one Adam step. Default 500.</summary>
    [RecipeParameter("rounds")]
    public int Rounds { get; set; } = (int)Declared.StageNumber("tinting", "rounds");

    /// <summary>Adam learning rate for coefficients and task layers. Default 0.01.</summary>
    [RecipeParameter("lr")]
    public double LearningRate { get; set; } = Declared.StageNumber("tinting", "lr");

    /// <summary>Unlabeled examples per task step. Default 32.</summary>
    [RecipeParameter("batch")]
    public int BatchSize { get; set; } = (int)Declared.StageNumber("tinting", "batch");

    /// <summary>Initial value of every merge coefficient (clamped to [0, 1]). Default 0.3.</summary>
    [RecipeParameter("init")]
    public double InitialCoefficient { get; set; } = Declared.StageNumber("tinting", "init");
}
