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
            TensorPrimitives.Multiply(x, sum.Slice(i, m), c);
            TensorPrimitives.Tanh(c, c);
            TensorPrimitives.Multiply(p, c, p);
        }
    }

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
