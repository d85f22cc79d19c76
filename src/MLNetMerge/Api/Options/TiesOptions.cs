namespace MLNetMerge;

/// <summary>Settings of TIES-Merging: trim, elect sign, disjoint merge (Yadav et al. 2023, arXiv:2306.01708). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class TiesOptions : MergeOptions
{
    internal override string MethodName => "ties";

    /// <summary>Fraction of each task vector kept by magnitude. Default 0.2.</summary>
    [RecipeParameter("keep")]
    public double Keep { get; set; } = Declared.MergeNumber("ties", "keep");

    /// <summary>λ; null: 1.0 with <see cref="TiesMerge.Mean"/>, 0.3 with <see cref="TiesMerge.Sum"/>.</summary>
    [RecipeParameter("scale")]
    public double? Scale { get; set; }

    /// <summary>Disjoint merge of the agreeing values. Default <see cref="TiesMerge.Mean"/>.</summary>
    [RecipeParameter("merge")]
    public TiesMerge Merge { get; set; } = Declared.MergeChoice<TiesMerge>("ties", "merge");

    /// <summary>Magnitude threshold over the whole task vector, per tensor, or per tensor keeping exactly ⌊keep·N⌋. Default <see cref="TiesTrim.Global"/>.</summary>
    [RecipeParameter("trim")]
    public TiesTrim Trim { get; set; } = Declared.MergeChoice<TiesTrim>("ties", "trim");

    /// <summary>mergekit's memory switch for its mask tensors; accepted for recipe compatibility, no effect here. Default false.</summary>
    [RecipeParameter("int8_mask")]
    public bool Int8Mask { get; set; } = Declared.MergeFlag("ties", "int8_mask");

    /// <summary>The sign elected where the weighted sum of an element is exactly 0. Default <see cref="SignTie.Majority"/>.</summary>
    [RecipeParameter("sign_tie")]
    public SignTie SignTie { get; set; } = Declared.MergeChoice<SignTie>("ties", "sign_tie");
}
