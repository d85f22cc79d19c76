using System.Numerics;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// NearSwap: takes one fine-tuned model's value only where it is already near the base, and moves the base at most
/// <c>t</c> toward it elsewhere. Per element, with <c>d = |θ1 − θ0|</c>: <c>w = min(1, t / d)</c> (1 where <c>t / d</c>
/// is not a number, i.e. <c>d = 0</c>), <c>θ = w·θ1 + (1 − w)·θ0</c> — so <c>θ = θ1</c> where <c>d ≤ t</c> and
/// <c>θ = θ0 + t·sign(θ1 − θ0)</c> (up to rounding) where <c>d &gt; t</c>: the task vector clipped element by element to
/// [−t, t]. alchemonaut 2024, the QuartetAnemoi-70B-t0.0001 model card; as mergekit's <c>nearswap</c> computes it
/// (Goddard et al. 2024, arXiv:2403.13257). The base is the model whose structure is kept.
/// </summary>
internal sealed class NearSwap : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "nearswap";

    /// <inheritdoc />
    public override string Reference => "alchemonaut 2024, NearSwap (QuartetAnemoi-70B-t0.0001 model card); mergekit's nearswap, Goddard et al. 2024, arXiv:2403.13257";

    /// <inheritdoc />
    public override string Summary => "one model's values where they lie within t of the base; the base moved by t elsewhere";

    /// <inheritdoc />
    public override int MinModels => 1;

    /// <inheritdoc />
    public override int MaxModels => 1;

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Number("t", 1e-4, "Sameness threshold: elements within t of the base take the other model's value, the rest move t toward it (0.0001: the value of the model the method comes from; mergekit requires it).", 0),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) => new Run();

    /// <summary>
    /// <c>output[i] = w·model[i] + (1 − w)·base[i]</c>, <c>w = min(1, t / |base[i] − model[i]|)</c>, <c>w = 1</c> where the
    /// quotient is NaN; float32 throughout, each product rounded before the sum (mergekit's operations in its order).
    /// </summary>
    public static void Interpolate(ReadOnlySpan<float> @base, ReadOnlySpan<float> model, float t, Span<float> output)
    {
        int n = output.Length, i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vt = new Vector<float>(t);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                var b = new Vector<float>(@base[i..]);
                var m = new Vector<float>(model[i..]);
                var w = vt / Vector.Abs(b - m);
                w = Vector.ConditionalSelect(Vector.Equals(w, w), Vector.Min(w, Vector<float>.One), Vector<float>.One);
                (w * m + (Vector<float>.One - w) * b).CopyTo(output[i..]);
            }
        }
        for (; i < n; i++)
        {
            float w = t / MathF.Abs(@base[i] - model[i]);
            w = float.IsNaN(w) ? 1f : MathF.Min(w, 1f);
            output[i] = w * model[i] + (1f - w) * @base[i];
        }
    }

    private sealed class Run : MergeRun
    {
        public override bool UsesTaskVectors => false;

        public override bool IsElementwise => true;

        public override void Merge(MergeTensorContext ctx, Span<float> output) =>
            Interpolate(ctx.Base, ctx.Task(0), (float)ctx.Number("t"), output);
    }
}
