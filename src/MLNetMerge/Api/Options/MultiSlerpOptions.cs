namespace MLNetMerge;

/// <summary>Settings of mergekit's multislerp: barycentric SLERP of the task models, the weighted mean direction at the
/// weighted mean norm (Goddard et al. 2024, arXiv:2403.13257). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class MultiSlerpOptions : MergeOptions
{
    internal override string MethodName => "multislerp";

    /// <summary>Divide the tasks' <see cref="MergeOptions.Weights"/> by their sum. Default true.</summary>
    [RecipeParameter("normalize_weights")]
    public bool NormalizeWeights { get; set; } = Declared.MergeFlag("multislerp", "normalize_weights");

    /// <summary>ε added to norms. Default 1e-8.</summary>
    [RecipeParameter("eps")]
    public double Epsilon { get; set; } = Declared.MergeNumber("multislerp", "eps");

    /// <summary>Interpolate task vectors around the base, or the raw weights. Default <see cref="SlerpOver.TaskVectors"/>.</summary>
    [RecipeParameter("over")]
    public SlerpOver Over { get; set; } = Declared.MergeChoice<SlerpOver>("multislerp", "over");
}
