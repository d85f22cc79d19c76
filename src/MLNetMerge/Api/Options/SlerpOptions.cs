namespace MLNetMerge;

/// <summary>Settings of Spherical linear interpolation of two models (Shoemake 1985; as mergekit applies it). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class SlerpOptions : MergeOptions
{
    internal override string MethodName => "slerp";

    /// <summary>Interpolation position: 0 gives the first model, 1 the second. Default 0.5.</summary>
    [RecipeParameter("t")]
    public double Position { get; set; } = Declared.MergeNumber("slerp", "t");

    /// <summary>Interpolate task vectors around the base, or the raw weights. Default <see cref="SlerpOver.TaskVectors"/>.</summary>
    [RecipeParameter("over")]
    public SlerpOver Over { get; set; } = Declared.MergeChoice<SlerpOver>("slerp", "over");
}
