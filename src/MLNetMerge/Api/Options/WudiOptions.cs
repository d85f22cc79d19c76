namespace MLNetMerge;

/// <summary>Settings of WUDI-Merging: per matrix, Adam steps from the summed task vectors on each task's interference
/// seen by its own rows (Cheng et al. 2025, arXiv:2503.08099). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class WudiOptions : MergeOptions
{
    internal override string MethodName => "wudi";

    /// <summary>Adam steps per matrix. Default 300.</summary>
    [RecipeParameter("iterations")]
    public int Iterations { get; set; } = (int)Declared.MergeNumber("wudi", "iterations");

    /// <summary>Adam's learning rate (betas 0.9, 0.999, ε 1e-8, no weight decay). Default 1e-5.</summary>
    [RecipeParameter("learning_rate")]
    public double LearningRate { get; set; } = Declared.MergeNumber("wudi", "learning_rate");

    /// <summary>Which tensors are merged as matrices. Default <see cref="MatrixSelection.All2d"/>.</summary>
    [RecipeParameter("matrices")]
    public MatrixSelection Matrices { get; set; } = Declared.MergeChoice<MatrixSelection>("wudi", "matrices");
}
