using System.Runtime.Intrinsics;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// TIES's majority-sign count (<see cref="TaskVectorKernels.SignBalance"/>) taken in the same pass as the second radix-select
/// pass of the global trim, before the thresholds are known: only each task's coarse bucket (the upper 16 bits of
/// <c>bits(|threshold|)</c>) is. For a finite τ, <c>bits(|τ|) ≫ 16</c> above the bucket means <c>|τ| &gt; threshold</c> (kept),
/// below it <c>|τ| &lt; threshold</c> (trimmed): for non-negative floats the bit pattern orders like the value. An element
/// whose τt falls in task t's bucket, or is not finite, is <em>deferred</em>: its T values (and the tensor's weights) are kept
/// and counted by <see cref="Resolve"/> once the thresholds are exact. A zero τ is never deferred: kept or trimmed, it adds
/// ±0 to s, which leaves s as it is. Every other element's <c>s = Σt wt τ̂t</c> is summed in
/// the same order with the same roundings as <see cref="TaskVectorKernels.SignBalance"/> (a multiply, then an add, per
/// task), so the total is the same integer: the merge needs one pass over the checkpoints fewer. About 1 % of the
/// elements fall in a task's bucket (the bucket spans 2⁻⁷ of the threshold), so the deferred values stay small.
/// </summary>
internal sealed class DeferredSignBalance
{
    private readonly List<(float[] Weights, float[] Values, int Count)> _deferred = [];

    /// <summary>Σ sign(s) over the elements counted so far (positive minus negative).</summary>
    public long Certain { get; private set; }

    /// <summary>Elements deferred so far.</summary>
    public long DeferredCount => _deferred.Sum(d => (long)d.Count);

    /// <summary>Takes over <paramref name="other"/>'s count and deferred elements; returns this.</summary>
    public DeferredSignBalance Absorb(DeferredSignBalance other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Certain += other.Certain;
        _deferred.AddRange(other._deferred);
        return this;
    }

    /// <summary>
    /// Counts elements <c>[0, n)</c> of <paramref name="tasks"/> (each a τt) with weights <paramref name="w"/>. Task t is
    /// trimmed at a threshold in coarse bucket <paramref name="buckets"/>[t], or kept whole where that is −1 (a threshold of 0).
    /// </summary>
    public void Add(float[][] tasks, ReadOnlySpan<float> w, ReadOnlySpan<int> buckets, int n)
    {
        int T = w.Length;
        float[]? values = null; // (count, T) deferred τ, element-major
        int count = 0;
        long balance = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var zero = Vector256<float>.Zero;
            var magnitude = Vector256.Create(0x7FFF_FFFFu);
            var nonFinite = Vector256.Create(0x7F80u);
            for (; i <= n - 8; i += 8)
            {
                var s = zero;
                var deferred = Vector256<uint>.Zero;
                for (int t = 0; t < T; t++)
                {
                    var v = Vector256.LoadUnsafe(ref tasks[t][0], (nuint)i);
                    Vector256<float> kept = v;
                    if (buckets[t] >= 0)
                    {
                        var bits = v.AsUInt32() & magnitude;
                        var key = Vector256.ShiftRightLogical(bits, 16);
                        var bucket = Vector256.Create((uint)buckets[t]);
                        deferred |= (Vector256.Equals(key, bucket) & ~Vector256.Equals(bits, Vector256<uint>.Zero))
                                  | Vector256.GreaterThanOrEqual(key, nonFinite);
                        kept = Vector256.ConditionalSelect(Vector256.GreaterThan(key, bucket).AsSingle(), v, zero);
                    }
                    s += Vector256.Create(w[t]) * kept;
                }
                uint later = Vector256.ExtractMostSignificantBits(deferred);
                uint now = ~later & 0xFFu;
                balance += System.Numerics.BitOperations.PopCount(Vector256.ExtractMostSignificantBits(Vector256.GreaterThan(s, zero)) & now)
                         - System.Numerics.BitOperations.PopCount(Vector256.ExtractMostSignificantBits(Vector256.LessThan(s, zero)) & now);
                for (; later != 0; later &= later - 1)
                    Defer(tasks, T, i + System.Numerics.BitOperations.TrailingZeroCount(later), ref values, ref count);
            }
        }
        for (; i < n; i++)
        {
            float s = 0;
            bool defer = false;
            for (int t = 0; t < T; t++)
            {
                float v = tasks[t][i];
                if (buckets[t] >= 0)
                {
                    uint bits = BitConverter.SingleToUInt32Bits(v) & 0x7FFF_FFFFu, key = bits >> 16;
                    defer |= (key == (uint)buckets[t] && bits != 0) || key >= 0x7F80u;
                    if (key <= (uint)buckets[t]) v = 0f;
                }
                s += w[t] * v;
            }
            if (defer) Defer(tasks, T, i, ref values, ref count);
            else balance += s > 0 ? 1 : s < 0 ? -1 : 0;
        }
        Certain += balance;
        if (count > 0) _deferred.Add((w.ToArray(), values!, count));
    }

    private static void Defer(float[][] tasks, int T, int i, ref float[]? values, ref int count)
    {
        values ??= new float[64 * T];
        if ((count + 1) * T > values.Length) Array.Resize(ref values, values.Length * 2);
        for (int t = 0; t < T; t++) values[count * T + t] = tasks[t][i];
        count++;
    }

    /// <summary>The full count once the exact <paramref name="thresholds"/> are known: the certain part plus each deferred
    /// element's sign, trimmed and summed as <see cref="TaskVectorKernels.SignBalance"/> does.</summary>
    public long Resolve(ReadOnlySpan<float> thresholds)
    {
        long balance = Certain;
        foreach (var (w, values, count) in _deferred)
        {
            int T = w.Length;
            for (int e = 0; e < count; e++)
            {
                float s = 0;
                for (int t = 0; t < T; t++) s += w[t] * TaskVectorKernels.Trimmed(values[e * T + t], thresholds[t]);
                balance += s > 0 ? 1 : s < 0 ? -1 : 0;
            }
        }
        return balance;
    }
}
