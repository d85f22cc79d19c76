using MLNetMerge.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// Arcee Fusion: keeps one fine-tuned model's change only at its outlying important elements. Per tensor, with
/// <c>d = θ1 − θ0</c> and rows taken along the last dimension, each row's divergence
/// <c>KL = Σ p log(p / q)</c>, <c>p = softmax(θ1 row) + 10⁻⁸</c>, <c>q = softmax(θ0 row) + 10⁻⁸</c>, gives every element the
/// importance <c>s = |d|·KL(row)</c>; the threshold is Tukey's upper fence of the tensor's importances,
/// <c>median + 1.5·(Q3 − Q1)</c> (the order statistics at positions ⌊q·(N − 1)⌋ of the ascending importances), and
/// <c>θ = θ0 + d·[s ≥ threshold]</c>. mergekit's <c>arcee_fusion</c> (Arcee AI 2025; Goddard et al. 2024,
/// arXiv:2403.13257), with one difference by design: mergekit estimates the quartiles of a tensor over 10⁶ elements
/// from a random sample (with replacement), here they are exact for every tensor (the same for ≤ 10⁶ elements).
/// </summary>
internal sealed class ArceeFusion : MergeMethod
{
    /// <summary>The ε added to both softmaxes before the divergence (mergekit's).</summary>
    public const double Epsilon = 1e-8;

    /// <inheritdoc />
    public override string Name => "arcee_fusion";

    /// <inheritdoc />
    public override string Reference => "Arcee AI 2025, Arcee Fusion (mergekit's arcee_fusion); Goddard et al. 2024, arXiv:2403.13257";

    /// <inheritdoc />
    public override string Summary => "one model's changes at elements whose |τ|·row KL divergence is above the upper fence";

    /// <inheritdoc />
    public override int MinModels => 1;

    /// <inheritdoc />
    public override int MaxModels => 1;

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } = [];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) => new Run();

    /// <summary>
    /// Writes the importances <c>|θ1 − θ0|·KL(row)</c> (float32, the divergence computed in float64 and clamped at 0)
    /// of a tensor whose rows hold <paramref name="columns"/> elements.
    /// </summary>
    /// <param name="importance">(N) output.</param>
    /// <param name="base">(N) θ0.</param>
    /// <param name="model">(N) θ1.</param>
    /// <param name="columns">Row length (the last dimension; N for a vector).</param>
    public static void Importance(Span<float> importance, ReadOnlySpan<float> @base, ReadOnlySpan<float> model, int columns)
    {
        var p = new double[columns]; // (columns) softmax(θ1 row) + ε
        var q = new double[columns]; // (columns) softmax(θ0 row) + ε
        for (int start = 0; start < importance.Length; start += columns)
        {
            var b = @base.Slice(start, columns);
            var m = model.Slice(start, columns);
            Softmax(m, p);
            Softmax(b, q);
            double kl = 0;
            for (int j = 0; j < columns; j++) kl += p[j] * Math.Log(p[j] / q[j]);
            float divergence = (float)Math.Max(kl, 0);
            var s = importance.Slice(start, columns);
            for (int j = 0; j < columns; j++) s[j] = MathF.Abs(m[j] - b[j]) * divergence;
        }
    }

    /// <summary><c>p = softmax(x) + ε</c> in float64 (the maximum subtracted first).</summary>
    private static void Softmax(ReadOnlySpan<float> x, Span<double> p)
    {
        double max = double.NegativeInfinity;
        foreach (float v in x) max = Math.Max(max, v);
        double sum = 0;
        for (int j = 0; j < x.Length; j++) sum += p[j] = Math.Exp(x[j] - max);
        for (int j = 0; j < x.Length; j++) p[j] = p[j] / sum + Epsilon;
    }

    /// <summary>Tukey's upper fence <c>Q2 + 1.5·(Q3 − Q1)</c> (float32) of non-negative values, each quartile the ascending
    /// order statistic at ⌊q·(N − 1)⌋.</summary>
    public static float UpperFence(ReadOnlySpan<float> importance)
    {
        long n = importance.Length;
        if (n == 0) return 0f;
        float q1 = MagnitudeHistogram.KthLargest(importance, n - (n - 1) / 4);
        float median = MagnitudeHistogram.KthLargest(importance, n - (n - 1) / 2);
        float q3 = MagnitudeHistogram.KthLargest(importance, n - 3 * (n - 1) / 4);
        return median + 1.5f * (q3 - q1);
    }

    private sealed class Run : MergeRun
    {
        public override bool UsesTaskVectors => false;

        public override void Merge(MergeTensorContext ctx, Span<float> output)
        {
            var b = ctx.Base;
            var m = ctx.Task(0);
            var shape = ctx.Info.Shape;
            int columns = shape.Length == 0 ? 1 : shape[^1];
            var importance = ctx.Scratch;
            Importance(importance, b, m, columns);
            float fence = UpperFence(importance);
            // θ0 + (θ1 − θ0)·mask with the mask a float 0 or 1, as mergekit writes it.
            for (int i = 0; i < output.Length; i++)
                output[i] = b[i] + (m[i] - b[i]) * (importance[i] >= fence ? 1f : 0f);
        }
    }
}
