namespace MLNetMerge.Merging.Methods;

/// <summary>
/// Model Breadcrumbs: per tensor and task, drop the largest <c>gamma</c> fraction of |τ| (outliers) and the smallest,
/// keeping a band of <c>density</c>, then task arithmetic (optionally with TIES sign election, mergekit's
/// breadcrumbs_ties), summed or, with <c>normalize</c>, divided by the (agreeing) weight sum.
/// Davari and Belilovsky 2024, "Model Breadcrumbs: Scaling Multi-Task Model Merging with Sparse Masks", ECCV, arXiv:2312.06795.
/// </summary>
internal sealed class Breadcrumbs : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "breadcrumbs";

    /// <inheritdoc />
    public override string Reference => "Davari & Belilovsky 2024, Model Breadcrumbs, arXiv:2312.06795";

    /// <inheritdoc />
    public override string Summary => "drop top γ and bottom magnitudes per tensor, then TA";

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Number("density", 0.9, "Fraction kept per tensor.", 0, 1) with { PerModel = true },
        MethodParameter.Number("gamma", 0.01, "Fraction of largest magnitudes dropped.", 0, 1) with { PerModel = true },
        CommonParameters.Scale(0.3),
        MethodParameter.Flag("sign_consensus", false, "Apply TIES's sign election and disjoint merge (mergekit's breadcrumbs_ties)."),
        MethodParameter.Flag("normalize", false, "Divide by the (agreeing) weight sum instead of summing, as mergekit's normalize."),
        CommonParameters.SignTie(),
        CommonParameters.Weight(),
        CommonParameters.Int8Mask(),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) =>
        new GeneralizedTaskArithmeticRun(plan, parameters,
            new TaskArithmeticShape(SparsificationKind.Breadcrumbs, false, parameters.Flag("sign_consensus"), parameters.Flag("normalize"), parameters.Choice("sign_tie") == "positive"));
}
