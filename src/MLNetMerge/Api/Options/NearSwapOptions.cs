namespace MLNetMerge;

/// <summary>Settings of mergekit's nearswap: one fine-tuned model's values where they lie within <c>t</c> of the base,
/// the base moved <c>t</c> toward them elsewhere (alchemonaut 2024; Goddard et al. 2024, arXiv:2403.13257). Defaults
/// are the method's declared parameters (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class NearSwapOptions : MergeOptions
{
    internal override string MethodName => "nearswap";

    /// <summary>Sameness threshold, in the weights' units. Default 0.0001.</summary>
    [RecipeParameter("t")]
    public double T { get; set; } = Declared.MergeNumber("nearswap", "t");
}
