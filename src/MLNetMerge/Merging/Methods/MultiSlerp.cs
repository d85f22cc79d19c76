using System.Numerics.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// mergekit's Multi-SLERP: barycentric interpolation of T models on the sphere, per flattened tensor, of the task
/// vectors around θ0 (<c>over: weights</c>: the raw weights). With weights w (normalised to sum 1 by default),
/// <c>ut = xt / (‖xt‖ + ε)</c>, the mean direction <c>μ = Σ wt ut / ‖Σ wt ut‖</c>, the tangent sum
/// <c>g = Σ wt (ut − (ut·μ) μ)</c> mapped back by the exponential map <c>μ cos ‖g‖ + g sin ‖g‖ / ‖g‖</c> (‖g‖ + ε), and
/// scaled by the weighted mean norm <c>Σ wt ‖xt‖</c>. (Since μ is the normalised weighted mean, g vanishes up to
/// rounding: the result is that direction at that length.) A zero weighted mean is an error, except with two models,
/// where the weighted sum is returned. Goddard et al. 2024, arXiv:2403.13257 (method multislerp).
/// Math: docs/methods/mergekit-parity.md.
/// </summary>
internal sealed class MultiSlerp : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "multislerp";

    /// <inheritdoc />
    public override string Reference => "Goddard et al. 2024, Arcee's MergeKit, arXiv:2403.13257 (multislerp)";

    /// <inheritdoc />
    public override string Summary => "barycentric SLERP of T models: weighted mean direction at the weighted mean norm";

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        CommonParameters.Weight(),
        MethodParameter.Flag("normalize_weights", true, "Divide the weights by their sum."),
        MethodParameter.Number("eps", 1e-8, "ε added to norms.", 0, 1),
        MethodParameter.Choice("over", "Interpolate task vectors around the base (mergekit with a base model) or raw weights.", "task_vectors", "weights"),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) =>
        new Run(parameters.Choice("over") == "task_vectors", parameters.Flag("normalize_weights"));

    private sealed class Run(bool taskVectors, bool normalize) : MergeRun
    {
        public override bool UsesTaskVectors => taskVectors;

        public override void Merge(MergeTensorContext ctx, Span<float> output)
        {
            int tasks = ctx.TaskCount;
            if (tasks == 1) ctx.Task(0).CopyTo(output);
            else Interpolate(ctx, normalize, ctx.Number("eps"), output);
            if (taskVectors) TensorPrimitives.Add(output, ctx.Base, output);
        }
    }

    private static void Interpolate(MergeTensorContext ctx, bool normalize, double eps, Span<float> output)
    {
        int tasks = ctx.TaskCount;
        var w = new double[tasks];
        for (int t = 0; t < tasks; t++) w[t] = ctx.Number("weight", t);
        if (normalize)
        {
            double sum = w.Sum();
            for (int t = 0; t < tasks; t++) w[t] /= sum;
        }
        var norms = new double[tasks];                   // (T) ‖xt‖
        for (int t = 0; t < tasks; t++) norms[t] = Math.Sqrt(Dot(ctx.Task(t), ctx.Task(t)));
        var mean = ctx.Scratch;                          // Σ wt ut, then μ
        mean.Clear();
        for (int t = 0; t < tasks; t++) TensorPrimitives.MultiplyAdd(ctx.Task(t), (float)(w[t] / (norms[t] + eps)), mean, mean);
        double meanNorm = Math.Sqrt(Dot(mean, mean));
        if (meanNorm < eps)
        {
            if (tasks != 2)
                throw new IncompatibleModelsException(null, ctx.Name,
                    "multislerp: the weighted sum of the models' unit vectors is zero (antipodal models whose weights balance); change the weights.");
            output.Clear();
            for (int t = 0; t < tasks; t++) TensorPrimitives.MultiplyAdd(ctx.Task(t), (float)w[t], output, output);
            return;
        }
        TensorPrimitives.Multiply(mean, (float)(1 / meanNorm), mean);
        // Tangent sum g = Σ wt (ut − (ut·μ) μ) into output.
        output.Clear();
        for (int t = 0; t < tasks; t++)
        {
            double inv = 1 / (norms[t] + eps);
            double dot = Dot(ctx.Task(t), mean) * inv;
            TensorPrimitives.MultiplyAdd(ctx.Task(t), (float)(w[t] * inv), output, output);
            TensorPrimitives.MultiplyAdd(mean, (float)(-w[t] * dot), output, output);
        }
        double g = Math.Sqrt(Dot(output, output)) + eps;
        double avgNorm = 0;
        for (int t = 0; t < tasks; t++) avgNorm += w[t] * norms[t];
        // result = avgNorm (μ cos g + g⃗ sin g / g)
        TensorPrimitives.Multiply(output, (float)(avgNorm * Math.Sin(g) / g), output);
        TensorPrimitives.MultiplyAdd(mean, (float)(avgNorm * Math.Cos(g)), output, output);
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }
}
