namespace MLNetMerge.Merging.Methods;

/// <summary>
/// DELLA: per row, keep probabilities rise with magnitude rank across <c>[density − ε, density + ε]</c>, survivors
/// divided by their keep probability (MagPrune; <c>rescale: false</c> keeps them as they are), then TIES-style sign
/// election and disjoint merge, <c>θ0 + λ τm</c>; <c>sign_consensus: false</c> sums (or averages) the pruned vectors
/// without the election (mergekit's della_linear).
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
        CommonParameters.MeanOrSum("Merge of the pruned vectors: divide by the (agreeing) weight sum, or sum."),
        MethodParameter.Flag("sign_consensus", true, "TIES's sign election and disjoint merge (false: mergekit's della_linear)."),
        CommonParameters.SignTie(),
        MethodParameter.Flag("rescale", true, "Divide survivors by their keep probability."),
        CommonParameters.Weight(),
        CommonParameters.Int8Mask(),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) =>
        new GeneralizedTaskArithmeticRun(plan, parameters,
            new TaskArithmeticShape(SparsificationKind.Della, false, parameters.Flag("sign_consensus"), parameters.Choice("merge") == "mean", parameters.Choice("sign_tie") == "positive"));
}
