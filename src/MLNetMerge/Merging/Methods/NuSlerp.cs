namespace MLNetMerge.Merging.Methods;

/// <summary>
/// mergekit's NuSLERP: spherical interpolation of two models at <c>t = w2 / (w1 + w2)</c> from their per-model
/// weights (0.5 when the weights sum to ~0), of the task vectors around θ0 (mergekit with a base model; <c>over:
/// weights</c> interpolates the raw weights, mergekit without one). Over the whole flattened tensor by default, or per
/// vector along the last axis (rows of a 2-D weight) or, with <c>nuslerp_row_wise</c>, along the first axis (its
/// columns), as mergekit's code slices them. Per vector: <c>ui = vi / max(‖vi‖, 1e-7)</c>, <c>Ω = arccos(u1·u2)</c>,
/// <c>(sin((1−t)Ω) v1 + sin(tΩ) v2) / sin Ω</c>, linear interpolation where <c>|sin Ω| &lt; 1e-8</c>.
/// Goddard et al. 2024, "Arcee's MergeKit: A Toolkit for Merging Large Language Models", arXiv:2403.13257 (method
/// nuslerp); SLERP after Shoemake 1985. Math: docs/methods/mergekit-parity.md.
/// </summary>
internal sealed class NuSlerp : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "nuslerp";

    /// <inheritdoc />
    public override string Reference => "Goddard et al. 2024, Arcee's MergeKit, arXiv:2403.13257 (nuslerp); Shoemake 1985 (SLERP)";

    /// <inheritdoc />
    public override string Summary => "SLERP of two models at t = w2/(w1 + w2), whole tensor or per row/column";

    /// <inheritdoc />
    public override int MinModels => 2;

    /// <inheritdoc />
    public override int MaxModels => 2;

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Number("weight", 1.0, "Per-model weight; t = w2 / (w1 + w2).", -100, 100) with { PerModel = true },
        MethodParameter.Flag("nuslerp_flatten", true, "Interpolate each tensor as one flattened vector (false: per vector along an axis)."),
        MethodParameter.Flag("nuslerp_row_wise", false, "With nuslerp_flatten false: vectors along the first axis (a 2-D weight's columns) instead of the last (its rows)."),
        MethodParameter.Choice("over", "Interpolate task vectors around the base (mergekit with a base model) or raw weights.", "task_vectors", "weights"),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) =>
        new Run(parameters.Choice("over") == "task_vectors", parameters.Flag("nuslerp_flatten"), parameters.Flag("nuslerp_row_wise"));

    private sealed class Run(bool taskVectors, bool flatten, bool rowWise) : MergeRun
    {
        public override bool UsesTaskVectors => taskVectors;

        public override void Merge(MergeTensorContext ctx, Span<float> output)
        {
            double w1 = ctx.Number("weight", 0), w2 = ctx.Number("weight", 1);
            double t = Math.Abs(w1 + w2) < 1e-6 ? 0.5 : w2 / (w1 + w2);
            var shape = ctx.Info.Shape;
            if (flatten || shape.Length < 2)
            {
                Interpolate(ctx.Task(0), ctx.Task(1), t, output, 0, 1, ctx.Length);
            }
            else if (!rowWise)
            {
                int len = shape[^1];
                for (int start = 0; start < ctx.Length; start += len) Interpolate(ctx.Task(0), ctx.Task(1), t, output, start, 1, len);
            }
            else
            {
                int len = shape[0], stride = ctx.Length / len;
                for (int j = 0; j < stride; j++) Interpolate(ctx.Task(0), ctx.Task(1), t, output, j, stride, len);
            }
            if (taskVectors) System.Numerics.Tensors.TensorPrimitives.Add(output, ctx.Base, output);
        }
    }

    /// <summary>
    /// NuSLERP of the vectors <c>v[start + i·stride]</c>, i &lt; len, of <paramref name="v1"/> and <paramref name="v2"/>
    /// into the same positions of <paramref name="output"/> (dot products in float64).
    /// </summary>
    internal static void Interpolate(ReadOnlySpan<float> v1, ReadOnlySpan<float> v2, double t, Span<float> output, int start, int stride, int len)
    {
        double d = 0, n1 = 0, n2 = 0;
        for (int i = 0, at = start; i < len; i++, at += stride)
        {
            double a = v1[at], b = v2[at];
            d += a * b;
            n1 += a * a;
            n2 += b * b;
        }
        double cos = d / (Math.Max(Math.Sqrt(n1), 1e-7) * Math.Max(Math.Sqrt(n2), 1e-7));
        double omega = Math.Acos(Math.Clamp(cos, -1, 1));
        double sin = Math.Sin(omega);
        double a1, a2;
        if (Math.Abs(sin) < 1e-8) { a1 = 1 - t; a2 = t; }
        else { a1 = Math.Sin((1 - t) * omega) / sin; a2 = Math.Sin(t * omega) / sin; }
        for (int i = 0, at = start; i < len; i++, at += stride) output[at] = (float)(a1 * v1[at] + a2 * v2[at]);
    }
}
