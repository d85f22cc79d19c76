using System.Numerics;
using System.Numerics.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>The element-wise steps of TATR (<see cref="Tatr"/>).</summary>
internal static class TatrKernels
{
    private const int Chunk = 1024;

    /// <summary>
    /// The conflict <c>Ω = Σ_{i≠j} |τi| |τj| = 2 Σ_{j} |τj| · Σ_{i&lt;j} |τi|</c> of the context's task vectors, summed in
    /// float32 as the second form: every term is non-negative, so nothing cancels (the first form as (Σ|τ|)² − Σ τ² loses
    /// the small Ω of an element one task dominates).
    /// </summary>
    public static void Conflict(MergeTensorContext ctx, Span<float> omega)
    {
        Span<float> prefix = stackalloc float[Chunk];  // Σ_{i<j} |τi|
        Span<float> a = stackalloc float[Chunk];       // |τj|
        for (int s = 0; s < omega.Length; s += Chunk)
        {
            int m = Math.Min(Chunk, omega.Length - s);
            var o = omega.Slice(s, m);
            o.Clear();
            if (ctx.TaskCount == 0) continue;
            TensorPrimitives.Abs(ctx.Task(0).Slice(s, m), prefix[..m]);
            for (int t = 1; t < ctx.TaskCount; t++)
            {
                TensorPrimitives.Abs(ctx.Task(t).Slice(s, m), a[..m]);
                TensorPrimitives.MultiplyAdd(a[..m], prefix[..m], o, o);
                TensorPrimitives.Add(prefix[..m], a[..m], prefix[..m]);
            }
            TensorPrimitives.Add(o, o, o);
        }
    }

    /// <summary><c>values[i] = 0</c> wherever <c>omega[i] ≥ threshold</c> (outside the trust region).</summary>
    public static void KeepBelow(ReadOnlySpan<float> omega, float threshold, Span<float> values)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var q = new Vector<float>(threshold);
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var inside = Vector.LessThan(new Vector<float>(omega.Slice(i)), q);
                Vector.ConditionalSelect(inside, new Vector<float>(values.Slice(i)), Vector<float>.Zero).CopyTo(values.Slice(i));
            }
        }
        for (; i < values.Length; i++)
            if (!(omega[i] < threshold)) values[i] = 0;
    }
}
