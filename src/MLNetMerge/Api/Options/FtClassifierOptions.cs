namespace MLNetMerge;

/// <summary>Settings of FT-Classifier: a new head per task trained on few-shot unlabeled inputs to match the fine-tuned model (Kong et al. 2024, arXiv:2412.13526). Defaults are the stage's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class FtClassifierOptions : AlignmentOptions
{
    internal override string MethodName => "ft_classifier";

    /// <summary>Unlabeled examples per class k (labels, when present, only balance the draw); 0 = every input. Default 5.</summary>
    [RecipeParameter("shots")]
    public int ShotsPerClass { get; set; } = (int)Declared.StageNumber("ft_classifier", "shots");

    /// <summary>Passes over the sample. Default 5.</summary>
    [RecipeParameter("epochs")]
    public int Epochs { get; set; } = (int)Declared.StageNumber("ft_classifier", "epochs");

    /// <summary>Adam's learning rate. Default 0.0005.</summary>
    [RecipeParameter("learning_rate")]
    public double LearningRate { get; set; } = Declared.StageNumber("ft_classifier", "learning_rate");

    /// <summary>Examples per step (the paper's: 1). Default 1.</summary>
    [RecipeParameter("batch")]
    public int BatchSize { get; set; } = (int)Declared.StageNumber("ft_classifier", "batch");
}
