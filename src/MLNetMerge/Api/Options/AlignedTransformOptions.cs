namespace MLNetMerge;

/// <summary>Settings of an aligned transformation per task between merged and fine-tuned features, then the frozen fine-tuned head (Kong et al. 2024, arXiv:2412.13526). Defaults are the stage's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class AlignedTransformOptions : AlignmentOptions
{
    internal override string MethodName => "aligned_transform";

    /// <summary>The family member. Default <see cref="AlignedTransformKind.Orthogonal"/>.</summary>
    [RecipeParameter("transform")]
    public AlignedTransformKind Transform { get; set; } = Declared.StageChoice<AlignedTransformKind>("aligned_transform", "transform");

    /// <summary>Closed form, or Adam with the β‖WᵀW − I‖² penalty. Default <see cref="TransformSolver.ClosedForm"/>.</summary>
    [RecipeParameter("solver")]
    public TransformSolver Solver { get; set; } = Declared.StageChoice<TransformSolver>("aligned_transform", "solver");

    /// <summary>Unlabeled examples per class k; 0 = every input. Default 5.</summary>
    [RecipeParameter("shots")]
    public int ShotsPerClass { get; set; } = (int)Declared.StageNumber("aligned_transform", "shots");

    /// <summary>Ridge λ of the least-squares kinds (not orthogonal or Euclidean), relative to the mean feature energy. Default 0.001.</summary>
    [RecipeParameter("ridge")]
    public double Ridge { get; set; } = Declared.StageNumber("aligned_transform", "ridge");

    /// <summary>Trained solver: Adam steps. Default 1000.</summary>
    [RecipeParameter("steps")]
    public int Steps { get; set; } = (int)Declared.StageNumber("aligned_transform", "steps");

    /// <summary>Trained solver: learning rate. Default 0.01.</summary>
    [RecipeParameter("learning_rate")]
    public double LearningRate { get; set; } = Declared.StageNumber("aligned_transform", "learning_rate");

    /// <summary>Trained solver: β; null: 10 for orthogonal and Euclidean, 0.01 for invertible, 0 otherwise.</summary>
    [RecipeParameter("beta")]
    public double? Beta { get; set; }

    /// <summary>The settings that apply (the stage refuses the others): the ridge only for the least-squares kinds, the
    /// schedule and β only for the trained solver.</summary>
    internal override Dictionary<string, Merging.ParameterValue> StageParameters()
    {
        var p = base.StageParameters();
        if (Transform is AlignedTransformKind.Orthogonal or AlignedTransformKind.Euclidean) p.Remove("ridge");
        if (Solver != TransformSolver.Trained) { p.Remove("steps"); p.Remove("learning_rate"); p.Remove("beta"); }
        return p;
    }
}
