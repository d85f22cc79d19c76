namespace MLNetMerge;

/// <summary>Settings of Model Breadcrumbs: drop the smallest and the largest magnitudes (Davari &amp; Belilovsky 2024, arXiv:2312.06795). Defaults are the method's declared parameters
/// (<c>mlnetmerge methods</c> lists them).</summary>
public sealed class BreadcrumbsOptions : MergeOptions
{
    internal override string MethodName => "breadcrumbs";

    /// <summary>Fraction kept per tensor. Default 0.9.</summary>
    [RecipeParameter("density")]
    public double Density { get; set; } = Declared.MergeNumber("breadcrumbs", "density");

    /// <summary>Fraction of the largest magnitudes dropped. Default 0.01.</summary>
    [RecipeParameter("gamma")]
    public double Gamma { get; set; } = Declared.MergeNumber("breadcrumbs", "gamma");

    /// <summary>λ. Default 0.3.</summary>
    [RecipeParameter("scale")]
    public double Scale { get; set; } = Declared.MergeNumber("breadcrumbs", "scale");

    /// <summary>Apply TIES's sign election and disjoint mean (mergekit's breadcrumbs_ties). Default false.</summary>
    [RecipeParameter("sign_consensus")]
    public bool SignConsensus { get; set; } = Declared.MergeFlag("breadcrumbs", "sign_consensus");

    /// <summary>Divide by the (agreeing) weight sum instead of summing, as mergekit's normalize. Default false.</summary>
    [RecipeParameter("normalize")]
    public bool Normalize { get; set; } = Declared.MergeFlag("breadcrumbs", "normalize");

    /// <summary>mergekit's memory switch for its mask tensors; accepted for recipe compatibility, no effect here. Default false.</summary>
    [RecipeParameter("int8_mask")]
    public bool Int8Mask { get; set; } = Declared.MergeFlag("breadcrumbs", "int8_mask");

    /// <summary>The sign elected where the weighted sum of an element is exactly 0. Default <see cref="SignTie.Majority"/>.</summary>
    [RecipeParameter("sign_tie")]
    public SignTie SignTie { get; set; } = Declared.MergeChoice<SignTie>("breadcrumbs", "sign_tie");
}
