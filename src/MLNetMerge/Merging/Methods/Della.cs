namespace MLNetMerge.Merging.Methods;

/// <summary>
/// DELLA: per row, keep probabilities rise with magnitude rank across <c>[density − ε, density + ε]</c>, survivors
/// divided by their keep probability (MagPrune), then TIES-style sign election and disjoint merge, <c>θ0 + λ τm</c>.
/// Deep et al. 2024, "DELLA-Merging: Reducing Interference in Model Merging through Magnitude-Based Sampling", arXiv:2406.11617.
/// </summary>
internal sealed class Della : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "della";

    /// <inheritdoc />
    public override string Reference => "Deep et al. 2024, DELLA-Merging, arXiv:2406.11617";

    /// <inheritdoc />
    public override string Summary => "magnitude-ranked stochastic drop per row, sign election, merge";

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Number("density", 0.7, "Mean keep probability.", 0, 1) with { PerModel = true },
        MethodParameter.Number("epsilon", 0.15, "Half-width of the keep-probability range.", 0, 1) with { PerModel = true },
        CommonParameters.Scale(1.0),
        MethodParameter.Choice("merge", "Disjoint merge of agreeing values.", "mean", "sum"),
        CommonParameters.Weight(),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) =>
        new GeneralizedTaskArithmeticRun(plan, parameters, new TaskArithmeticShape(SparsificationKind.Della, false, true, parameters.Choice("merge") == "mean"));
}
