namespace MLNetMerge;

/// <summary>Settings of DARE: drop and rescale, then a base merge (Yu et al. 2024, arXiv:2311.03099). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class DareOptions : MergeOptions
{
    internal override string MethodName => "dare";

    /// <summary>Drop probability p. Default 0.5.</summary>
    [RecipeParameter("drop")]
    public double Drop { get; set; } = Declared.MergeNumber("dare", "drop");

    /// <summary>Divide the survivors by 1 − p. Default true.</summary>
    [RecipeParameter("rescale")]
    public bool Rescale { get; set; } = Declared.MergeFlag("dare", "rescale");

    /// <summary>Base method over the dropped vectors. Default <see cref="DareMerge.Ta"/>.</summary>
    [RecipeParameter("merge")]
    public DareMerge Merge { get; set; } = Declared.MergeChoice<DareMerge>("dare", "merge");

    /// <summary>λ; null: 0.3 over task arithmetic, 1.0 over averaging and TIES.</summary>
    [RecipeParameter("scale")]
    public double? Scale { get; set; }

    /// <summary>With TIES as the base, a magnitude trim after the drop when below 1. Default 1.</summary>
    [RecipeParameter("keep")]
    public double Keep { get; set; } = Declared.MergeNumber("dare", "keep");

    /// <summary>With TIES as the base, divide the agreeing values by their weight sum (false: their sum, mergekit's dare_ties). Default true.</summary>
    [RecipeParameter("normalize")]
    public bool Normalize { get; set; } = Declared.MergeFlag("dare", "normalize");

    /// <summary>mergekit's memory switch for its mask tensors; accepted for recipe compatibility, no effect here. Default false.</summary>
    [RecipeParameter("int8_mask")]
    public bool Int8Mask { get; set; } = Declared.MergeFlag("dare", "int8_mask");

    /// <summary>The sign elected where the weighted sum of an element is exactly 0. Default <see cref="SignTie.Majority"/>.</summary>
    [RecipeParameter("sign_tie")]
    public SignTie SignTie { get; set; } = Declared.MergeChoice<SignTie>("dare", "sign_tie");
}
