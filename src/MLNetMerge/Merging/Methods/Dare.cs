namespace MLNetMerge.Merging.Methods;

/// <summary>
/// DARE (drop and rescale): each element of τt is dropped with probability <c>drop</c> and survivors divided by
/// 1 − drop, then the vectors go through a base method: <c>average</c> (θ0 + mean), <c>ta</c> (θ0 + λ Σ) or <c>ties</c>
/// (sign election + disjoint mean, or disjoint sum with <c>normalize: false</c> as mergekit's dare_ties; the random drop
/// replaces the magnitude trim unless <c>keep</c> &lt; 1 adds it).
/// Draws come from (seed, task, tensor, index): the same bits on any thread count.
/// Yu et al. 2024, "Language Models are Super Mario: Absorbing Abilities from Homologous Models as a Free Lunch", ICML, arXiv:2311.03099.
/// </summary>
internal sealed class Dare : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "dare";

    /// <inheritdoc />
    public override string Reference => "Yu et al. 2024, Language Models are Super Mario (DARE), arXiv:2311.03099";

    /// <inheritdoc />
    public override string Summary => "random drop + rescale, then average, TA or TIES";

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        CommonParameters.Drop(0.5),
        CommonParameters.Rescale(),
        MethodParameter.Choice("merge", "Base method over the dropped vectors.", "ta", "average", "ties"),
        MethodParameter.Number("scale", double.NaN, "λ; default 0.3 over ta, 1.0 over average and ties.", -100, 100) with { Aliases = [new("lambda")] },
        MethodParameter.Number("keep", 1.0, "With merge: ties, a magnitude trim after the drop when below 1.", 0, 1) with { PerModel = true },
        MethodParameter.Flag("normalize", true, "With merge: ties, divide the agreeing values by their weight sum (false: their sum, mergekit's dare_ties)."),
        CommonParameters.SignTie(),
        CommonParameters.Weight(),
        CommonParameters.Int8Mask(),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters)
    {
        string merge = parameters.Choice("merge");
        parameters = WithDependentDefaults(parameters);
        var shape = merge switch
        {
            "average" => new TaskArithmeticShape(SparsificationKind.None, true, false, true),
            "ties" => new TaskArithmeticShape(parameters.IsSet("keep") ? SparsificationKind.MagnitudeGlobal : SparsificationKind.None, true, true, parameters.Flag("normalize"), parameters.Choice("sign_tie") == "positive"),
            _ => new TaskArithmeticShape(SparsificationKind.None, true, false, false),
        };
        return new GeneralizedTaskArithmeticRun(plan, parameters, shape);
    }

    /// <inheritdoc />
    public override IEnumerable<(string Key, string Message)> DegenerateSettings(MergeParameters parameters, MergePlan plan)
    {
        for (int t = 0; t < plan.TaskCount; t++)
            if (parameters.IsUniform("drop", t) && parameters.Number("drop", t) >= 1)
                yield return ($"drop.{plan.TaskNames[t]}", $"drop = 1 for model '{plan.TaskNames[t]}' drops every element of its task vector: it adds nothing to the merge.");
    }

    /// <summary>λ defaults to 0.3 with <c>merge: ta</c>, 1.0 otherwise (docs/methods/dare.md).</summary>
    public override MergeParameters WithDependentDefaults(MergeParameters parameters) =>
        parameters.WithDefault("scale", parameters.Choice("merge") == "ta" ? 0.3 : 1.0);
}
