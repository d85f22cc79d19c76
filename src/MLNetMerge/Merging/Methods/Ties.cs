namespace MLNetMerge.Merging.Methods;

/// <summary>
/// TIES-Merging: trim each task vector to its top <c>keep</c> magnitudes (global over the model by default), elect a
/// sign per element by mass, merge the agreeing values disjointly (mean or sum), <c>θ = θ0 + λ τm</c>.
/// Yadav et al. 2023, "TIES-Merging: Resolving Interference When Merging Models", NeurIPS, arXiv:2306.01708.
/// </summary>
internal sealed class Ties : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "ties";

    /// <inheritdoc />
    public override string Reference => "Yadav et al. 2023, TIES-Merging: Resolving Interference When Merging Models, arXiv:2306.01708";

    /// <inheritdoc />
    public override string Summary => "trim to top-k magnitudes, elect sign, disjoint mean";

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        CommonParameters.Keep(0.2),
        MethodParameter.Number("scale", 1.0, "λ; default 1.0 with merge: mean, 0.3 with merge: sum.", -100, 100) with { Aliases = [new("lambda")] },
        CommonParameters.MeanOrSum("Disjoint merge of agreeing values."),
        CommonParameters.SignTie(),
        MethodParameter.Choice("trim", "Magnitude threshold over the whole task vector, per tensor, or per tensor keeping exactly ⌊keep·N⌋ (top_k, mergekit's).", "global", "tensor", "top_k"),
        CommonParameters.Weight(),
        CommonParameters.Int8Mask(),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters)
    {
        var sparsify = parameters.Choice("trim") switch
        {
            "global" => SparsificationKind.MagnitudeGlobal,
            "top_k" => SparsificationKind.MagnitudeTopK,
            _ => SparsificationKind.MagnitudeTensor,
        };
        return new GeneralizedTaskArithmeticRun(plan, WithDependentDefaults(parameters), new TaskArithmeticShape(sparsify, false, true, parameters.Choice("merge") == "mean", parameters.Choice("sign_tie") == "positive"));
    }

    /// <summary>With <c>merge: sum</c> and no explicit scale, λ defaults to 0.3 (docs/methods/ties.md).</summary>
    public override MergeParameters WithDependentDefaults(MergeParameters parameters) =>
        parameters.Choice("merge") == "sum" ? parameters.WithDefault("scale", 0.3) : parameters;
}
