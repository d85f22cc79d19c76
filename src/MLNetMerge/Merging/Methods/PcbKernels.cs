using System.Numerics;
using System.Numerics.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>The element-wise steps of PCB merging (<see cref="Pcb"/>), in float32 and in the order docs/methods/pcb.md gives them.</summary>
internal static class PcbKernels
{
    private const int Chunk = 1024;

    /// <summary><c>sum = Σk τk</c>, added in task order.</summary>
    public static void TaskSum(MergeTensorContext ctx, Span<float> sum)
    {
        ctx.Task(0).CopyTo(sum);
        for (int t = 1; t < ctx.TaskCount; t++) TensorPrimitives.Add(sum, ctx.Task(t), sum);
    }

    /// <summary>
    /// The balance score <c>p = exp(T·s²) · tanh(τ ⊙ sum)</c> with <c>s = (clamp(|τ|, low, high) − low) / (high − low)</c>
    /// (s = 0 where high = low).
    /// </summary>
    public static void Score(ReadOnlySpan<float> tau, ReadOnlySpan<float> sum, float low, float high, int tasks, Span<float> score)
    {
        float width = high - low;
        Span<float> product = stackalloc float[Chunk];
        Span<float> cross = stackalloc float[Chunk];
        for (int i = 0; i < tau.Length; i += Chunk)
        {
            int m = Math.Min(Chunk, tau.Length - i);
            var p = score.Slice(i, m);
            var x = tau.Slice(i, m);
            if (width > 0)
            {
                TensorPrimitives.Abs(x, p);
                TensorPrimitives.Max(p, low, p);
                TensorPrimitives.Min(p, high, p);
                TensorPrimitives.Subtract(p, low, p);
                TensorPrimitives.Divide(p, width, p);
                TensorPrimitives.Multiply(p, p, p);
                TensorPrimitives.Multiply(p, (float)tasks, p);
                TensorPrimitives.Exp(p, p);
            }
            else p.Fill(1f);
            var c = cross[..m];
            TensorPrimitives.Multiply(x, sum.Slice(i, m), product[..m]);
            Tanh(product[..m], c);
            TensorPrimitives.Multiply(p, c, p);
        }
    }

    /// <summary>
    /// <c>y = tanh(x)</c> to float32's relative precision everywhere. <c>TensorPrimitives.Tanh</c> (System.Numerics.Tensors
    /// 10.0.0) forms <c>e^{2x} − 1</c> and so loses relative accuracy as |x| shrinks: 40 % at 1e-7, 4.6 % at 1e-6, 0.46 % at
    /// 1e-5, 3.5e-6 at 0.01 against <c>Math.Tanh</c>; PCB's products τt ⊙ Σ τ are mostly of that size and its cut ranks them,
    /// so below |x| = 0.125 this takes the odd Taylor polynomial <c>x − x³/3 + 2x⁵/15 − 17x⁷/315</c> (the next term,
    /// 62x⁹/2835, is under 2e-9 of x there). <paramref name="x"/> and <paramref name="y"/> must not overlap.
    /// </summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y)
    {
        TensorPrimitives.Tanh(x, y);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var limit = new Vector<float>(SmallTanh);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = new Vector<float>(x.Slice(i));
                var small = Vector.LessThan(Vector.Abs(v), limit);
                if (small == Vector<int>.Zero) continue;
                var v2 = v * v;
                var p = v + v * v2 * (new Vector<float>(C3) + v2 * (new Vector<float>(C5) + v2 * new Vector<float>(C7)));
                Vector.ConditionalSelect(small, p, new Vector<float>(y.Slice(i))).CopyTo(y.Slice(i));
            }
        }
        for (; i < x.Length; i++)
        {
            float v = x[i];
            if (MathF.Abs(v) < SmallTanh) { float v2 = v * v; y[i] = v + v * v2 * (C3 + v2 * (C5 + v2 * C7)); }
        }
    }

    private const float SmallTanh = 0.125f, C3 = -1f / 3f, C5 = 2f / 15f, C7 = -17f / 315f;

    /// <summary>
    /// Scores to weights in place: <c>(max(p, threshold) − threshold) / (top − threshold)</c>, 0 at and below the threshold
    /// (all 0 where top = threshold).
    /// </summary>
    public static void Weight(Span<float> score, float threshold, float top)
    {
        float width = top - threshold;
        if (!(width > 0)) { score.Clear(); return; }
        TensorPrimitives.Max(score, threshold, score);
        TensorPrimitives.Subtract(score, threshold, score);
        TensorPrimitives.Divide(score, width, score);
    }

    /// <summary>The clipped task vector <c>τ̃ = sign(τ) · clamp(|τ|, low, high)</c> (0 where τ = 0).</summary>
    public static void Clip(ReadOnlySpan<float> tau, float low, float high, Span<float> clipped)
    {
        TensorPrimitives.Abs(tau, clipped);
        TensorPrimitives.Max(clipped, low, clipped);
        TensorPrimitives.Min(clipped, high, clipped);
        TensorPrimitives.CopySign(clipped, tau, clipped);
        if (low > 0)
            for (int i = 0; i < tau.Length; i++)
                if (tau[i] == 0) clipped[i] = 0;
    }

    /// <summary>Elements greater than 0.</summary>
    public static long CountPositive(ReadOnlySpan<float> values)
    {
        long count = 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var acc = Vector<int>.Zero;
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
                acc -= Vector.GreaterThan(new Vector<float>(values.Slice(i)), Vector<float>.Zero); // −1 per lane where > 0
            count = Vector.Sum(acc);
        }
        for (; i < values.Length; i++)
            if (values[i] > 0) count++;
        return count;
    }

    /// <summary><c>destination = max(sign · values, 0)</c>: the positive part (sign 1) or the negated negative part (sign −1).</summary>
    public static void PositivePart(ReadOnlySpan<float> values, float sign, Span<float> destination)
    {
        TensorPrimitives.Multiply(values, sign, destination);
        TensorPrimitives.Max(destination, 0f, destination);
    }
}
