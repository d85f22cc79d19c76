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
}
