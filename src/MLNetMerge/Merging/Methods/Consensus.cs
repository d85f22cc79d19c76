namespace MLNetMerge.Merging.Methods;

/// <summary>
/// Consensus merging with TALL masks: <c>τMTL = Σ τt</c>; task masks <c>mt = [|τt| ≥ κ |τMTL − τt|]</c>;
/// consensus <c>c = [Σt mt ≥ k]</c>; <c>θ = θ0 + λ (c ⊙ τMTL)</c>.
/// Wang et al. 2024, "Localizing Task Information for Improved Model Merging and Compression", ICML, arXiv:2405.07813.
/// </summary>
internal sealed class Consensus : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "consensus";

    /// <inheritdoc />
    public override string Reference => "Wang et al. 2024, Localizing Task Information for Improved Model Merging and Compression, arXiv:2405.07813";

    /// <inheritdoc />
    public override string Summary => "keep τMTL where ≥ k task masks agree";

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Number("kappa", 0.4, "κ: mask threshold factor.", 0, 1e6),
        MethodParameter.Integer("k", 2, "Minimum number of task masks an element needs.", 0, 1_000_000),
        CommonParameters.Scale(0.3),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) => new Run();

    /// <inheritdoc />
    public override IEnumerable<(string Key, string Message)> DegenerateSettings(MergeParameters parameters, MergePlan plan) =>
        KAboveModels(parameters, plan);

    /// <summary>The warning when k exceeds the number of models: no element can be in k task masks, so the merge is θ0.</summary>
    internal static IEnumerable<(string Key, string Message)> KAboveModels(MergeParameters parameters, MergePlan plan)
    {
        double k = parameters.Number("k");
        if (k > plan.TaskCount)
            yield return ("k", $"k = {k} exceeds the {plan.TaskCount} models: no element is in k task masks, so every merged tensor is the base's.");
    }

    /// <summary>mt[i] for one element: <c>|τt| ≥ κ |τMTL − τt|</c>.</summary>
    internal static bool TaskMask(float tau, float sum, float kappa) => MathF.Abs(tau) >= kappa * MathF.Abs(sum - tau);

    /// <summary>The consensus vector <c>c ⊙ τMTL</c> of the context's tensor into <paramref name="output"/> (before λ).</summary>
    internal static void Combine(MergeTensorContext ctx, float kappa, double k, Span<float> output)
    {
        for (int i = 0; i < ctx.Length; i++)
        {
            float sum = 0;
            for (int t = 0; t < ctx.TaskCount; t++) sum += ctx.TaskArrays[t][i];
            int votes = 0;
            for (int t = 0; t < ctx.TaskCount; t++) if (TaskMask(ctx.TaskArrays[t][i], sum, kappa)) votes++;
            output[i] = votes >= k ? sum : 0f;
        }
    }

    private sealed class Run : MergeRun
    {
        public override bool IsElementwise => true;

        public override void Merge(MergeTensorContext ctx, Span<float> output)
        {
            Combine(ctx, (float)ctx.Number("kappa"), ctx.Number("k"), output);
            float lambda = (float)ctx.Number("scale");
            var b = ctx.Base;
            for (int i = 0; i < output.Length; i++) output[i] = output[i] == 0f ? b[i] : b[i] + lambda * output[i]; // dropped: θ0 exactly
        }
    }
}
