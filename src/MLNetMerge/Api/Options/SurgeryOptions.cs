namespace MLNetMerge;

/// <summary>Settings of Representation Surgery: per task, <c>z' = z − B·ReLU(A z)</c> on the merged features, trained with
/// L1 towards the fine-tuned model's features on unlabeled inputs, then the frozen fine-tuned head (Yang et al. 2024,
/// arXiv:2402.02705). Defaults are the stage's declared parameters (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class SurgeryOptions : AlignmentOptions
{
    internal override string MethodName => "surgery";

    /// <summary>Bottleneck width r of each task's module. Default 16.</summary>
    [RecipeParameter("rank")]
    public int Rank { get; set; } = (int)Declared.StageNumber("surgery", "rank");

    /// <summary>Adam steps per task. Default 500.</summary>
    [RecipeParameter("steps")]
    public int Steps { get; set; } = (int)Declared.StageNumber("surgery", "steps");

    /// <summary>Adam's learning rate. Default 0.001.</summary>
    [RecipeParameter("learning_rate")]
    public double LearningRate { get; set; } = Declared.StageNumber("surgery", "learning_rate");

    /// <summary>Examples per step. Default 32.</summary>
    [RecipeParameter("batch")]
    public int BatchSize { get; set; } = (int)Declared.StageNumber("surgery", "batch");
}
