namespace MLNetMerge;

/// <summary>Settings of mergekit's nuslerp: SLERP of two models at <c>t = w2 / (w1 + w2)</c> from the tasks'
/// <see cref="MergeOptions.Weights"/> (Goddard et al. 2024, arXiv:2403.13257). Defaults are the method's declared
/// parameters (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class NuSlerpOptions : MergeOptions
{
    internal override string MethodName => "nuslerp";

    /// <summary>Interpolate each tensor as one flattened vector (false: per vector along an axis). Default true.</summary>
    [RecipeParameter("nuslerp_flatten")]
    public bool Flatten { get; set; } = Declared.MergeFlag("nuslerp", "nuslerp_flatten");

    /// <summary>With <see cref="Flatten"/> false: vectors along the first axis (a 2-D weight's columns) instead of the
    /// last (its rows). Default false.</summary>
    [RecipeParameter("nuslerp_row_wise")]
    public bool RowWise { get; set; } = Declared.MergeFlag("nuslerp", "nuslerp_row_wise");

    /// <summary>Interpolate task vectors around the base, or the raw weights. Default <see cref="SlerpOver.TaskVectors"/>.</summary>
    [RecipeParameter("over")]
    public SlerpOver Over { get; set; } = Declared.MergeChoice<SlerpOver>("nuslerp", "over");
}
