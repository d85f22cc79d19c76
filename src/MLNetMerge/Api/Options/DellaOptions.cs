namespace MLNetMerge;

/// <summary>Settings of DELLA: magnitude-ranked drop probabilities, then TIES-style merging (Deep et al. 2024, arXiv:2406.11617). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class DellaOptions : MergeOptions
{
    internal override string MethodName => "della";

    /// <summary>Mean keep probability. Default 0.7.</summary>
    [RecipeParameter("density")]
    public double Density { get; set; } = Declared.MergeNumber("della", "density");

    /// <summary>Half-width of the keep-probability range. Default 0.15.</summary>
    [RecipeParameter("epsilon")]
    public double Epsilon { get; set; } = Declared.MergeNumber("della", "epsilon");

    /// <summary>λ. Default 1.</summary>
    [RecipeParameter("scale")]
    public double Scale { get; set; } = Declared.MergeNumber("della", "scale");

    /// <summary>Disjoint merge of the agreeing values. Default <see cref="DellaMerge.Mean"/>.</summary>
    [RecipeParameter("merge")]
    public DellaMerge Merge { get; set; } = Declared.MergeChoice<DellaMerge>("della", "merge");

    /// <summary>TIES's sign election and disjoint merge (false: mergekit's della_linear). Default true.</summary>
    [RecipeParameter("sign_consensus")]
    public bool SignConsensus { get; set; } = Declared.MergeFlag("della", "sign_consensus");

    /// <summary>Divide survivors by their keep probability. Default true.</summary>
    [RecipeParameter("rescale")]
    public bool Rescale { get; set; } = Declared.MergeFlag("della", "rescale");

    /// <summary>mergekit's memory switch for its mask tensors; accepted for recipe compatibility, no effect here. Default false.</summary>
    [RecipeParameter("int8_mask")]
    public bool Int8Mask { get; set; } = Declared.MergeFlag("della", "int8_mask");

    /// <summary>The sign elected where the weighted sum of an element is exactly 0. Default <see cref="SignTie.Majority"/>.</summary>
    [RecipeParameter("sign_tie")]
    public SignTie SignTie { get; set; } = Declared.MergeChoice<SignTie>("della", "sign_tie");
}
