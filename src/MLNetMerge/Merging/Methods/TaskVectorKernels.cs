using System.Runtime.Intrinsics;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// Fused element-wise kernels over T task vectors that <see cref="System.Numerics.Tensors.TensorPrimitives"/> cannot
/// express in one pass (sign election, disjoint merge, agreement masks). Each runs 8 lanes at a time with a scalar
/// tail computing the same formula, so results do not depend on the vector width.
/// </summary>
internal static class TaskVectorKernels
{
    /// <summary>
    /// TIES elect + disjoint merge over trimmed values <c>τ̂t[i] = |τt[i]| ≥ thresholdt ? τt[i] : 0</c> (inputs are not modified):
    /// <c>s = Σt wt τ̂t[i]</c>; <c>γ = sign(s)</c> (<paramref name="majority"/> where s = 0);
    /// <c>out[i] = Σ_{t: τt[i]·γ &gt; 0} wt τt[i]</c>, divided by <c>max-guarded Σ wt</c> of the same t when <paramref name="mean"/>
    /// (a zero weight sum divides by 1).
    /// </summary>
    public static void DisjointMerge(float[][] tasks, ReadOnlySpan<float> w, ReadOnlySpan<float> thresholds, int n, float majority, bool mean, Span<float> output)
    {
        int T = w.Length;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var zero = Vector256<float>.Zero;
            var one = Vector256<float>.One;
            var maj = Vector256.Create(majority);
            for (; i <= n - 8; i += 8)
            {
                var s = zero;
                for (int t = 0; t < T; t++) s += Vector256.Create(w[t]) * Trimmed(tasks[t], i, thresholds[t]);
                var sign = Vector256.ConditionalSelect(Vector256.GreaterThan(s, zero), one,
                    Vector256.ConditionalSelect(Vector256.LessThan(s, zero), -one, maj));
                var num = zero;
                var den = zero;
                for (int t = 0; t < T; t++)
                {
                    var v = Trimmed(tasks[t], i, thresholds[t]);
                    var agree = Vector256.GreaterThan(v * sign, zero);
                    var wt = Vector256.Create(w[t]);
                    num += Vector256.ConditionalSelect(agree, wt * v, zero);
                    den += Vector256.ConditionalSelect(agree, wt, zero);
                }
                var result = mean ? num / Vector256.ConditionalSelect(Vector256.Equals(den, zero), one, den) : num;
                result.StoreUnsafe(ref output[0], (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float s = 0;
            for (int t = 0; t < T; t++) s += w[t] * Trimmed(tasks[t][i], thresholds[t]);
            float sign = s > 0 ? 1f : s < 0 ? -1f : majority;
            float num = 0, den = 0;
            for (int t = 0; t < T; t++)
            {
                float v = Trimmed(tasks[t][i], thresholds[t]);
                if (v * sign > 0) { num += w[t] * v; den += w[t]; }
            }
            output[i] = mean ? num / (den == 0 ? 1 : den) : num;
        }
    }

    /// <summary>Σ over elements of <c>sign(Σt wt τ̂t[i])</c> (trimmed as in <see cref="DisjointMerge"/>): positive minus negative counts, for TIES's majority sign.</summary>
    public static long SignBalance(float[][] tasks, ReadOnlySpan<float> w, ReadOnlySpan<float> thresholds, int n)
    {
        int T = w.Length;
        long balance = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var zero = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var s = zero;
                for (int t = 0; t < T; t++) s += Vector256.Create(w[t]) * Trimmed(tasks[t], i, thresholds[t]);
                balance += System.Numerics.BitOperations.PopCount(Vector256.ExtractMostSignificantBits(Vector256.GreaterThan(s, zero)))
                         - System.Numerics.BitOperations.PopCount(Vector256.ExtractMostSignificantBits(Vector256.LessThan(s, zero)));
            }
        }
        for (; i < n; i++)
        {
            float s = 0;
            for (int t = 0; t < T; t++) s += w[t] * Trimmed(tasks[t][i], thresholds[t]);
            balance += s > 0 ? 1 : s < 0 ? -1 : 0;
        }
        return balance;
    }

    /// <summary>8 lanes of τ from element <paramref name="i"/>, zeroed where <c>|τ| &lt; threshold</c>.</summary>
    private static Vector256<float> Trimmed(float[] tau, int i, float threshold)
    {
        var v = Vector256.LoadUnsafe(ref tau[0], (nuint)i);
        return threshold <= 0 ? v : Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(Vector256.Abs(v), Vector256.Create(threshold)), v, Vector256<float>.Zero);
    }

    /// <summary><c>τ</c> when <c>|τ| ≥ threshold</c>, else 0 (TIES's trim; a threshold ≤ 0 keeps everything).</summary>
    internal static float Trimmed(float tau, float threshold) => threshold <= 0 || MathF.Abs(tau) >= threshold ? tau : 0f;

    /// <summary><c>Σ |u[i]|</c> over elements where <c>τ[i]·u[i] &gt; 0</c> (float64 accumulation in a fixed order).</summary>
    public static double AgreeingAbsSum(ReadOnlySpan<float> tau, ReadOnlySpan<float> u)
    {
        double total = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var zero = Vector256<float>.Zero;
            var acc = Vector256<double>.Zero;
            ref float t0 = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(tau);
            ref float u0 = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(u);
            for (; i <= tau.Length - 8; i += 8)
            {
                var tv = Vector256.LoadUnsafe(ref t0, (nuint)i);
                var uv = Vector256.LoadUnsafe(ref u0, (nuint)i);
                var a = Vector256.ConditionalSelect(Vector256.GreaterThan(tv * uv, zero), Vector256.Abs(uv), zero);
                var (lo, hi) = Vector256.Widen(a);
                acc += lo + hi;
            }
            total = Vector256.Sum(acc);
        }
        for (; i < tau.Length; i++)
            if (tau[i] * u[i] > 0) total += MathF.Abs(u[i]);
        return total;
    }

    /// <summary><c>Σ |x[i]|</c> accumulated in float64 in a fixed order.</summary>
    public static double AbsSum(ReadOnlySpan<float> x)
    {
        double total = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var acc = Vector256<double>.Zero;
            ref float x0 = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            for (; i <= x.Length - 8; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Abs(Vector256.LoadUnsafe(ref x0, (nuint)i)));
                acc += lo + hi;
            }
            total = Vector256.Sum(acc);
        }
        for (; i < x.Length; i++) total += MathF.Abs(x[i]);
        return total;
    }

    /// <summary>Packs the agreement mask <c>[τ[i]·u[i] &gt; 0]</c> 8 per byte, least significant bit first.</summary>
    public static void PackAgreement(ReadOnlySpan<float> tau, ReadOnlySpan<float> u, Span<byte> bits)
    {
        int n = tau.Length;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var zero = Vector256<float>.Zero;
            ref float t0 = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(tau);
            ref float u0 = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(u);
            for (; i <= n - 8; i += 8)
            {
                var gt = Vector256.GreaterThan(Vector256.LoadUnsafe(ref t0, (nuint)i) * Vector256.LoadUnsafe(ref u0, (nuint)i), zero);
                bits[i >> 3] = (byte)Vector256.ExtractMostSignificantBits(gt);
            }
        }
        if (i < n)
        {
            bits[i >> 3] = 0;
            for (; i < n; i++)
                if (tau[i] * u[i] > 0) bits[i >> 3] |= (byte)(1 << (i & 7));
        }
    }

    /// <summary>Packs TALL's task mask <c>[|τ[i]| ≥ κ |Σ[i] − τ[i]|]</c> 8 per byte, least significant bit first (<paramref name="sum"/> = τMTL).</summary>
    public static void PackTallMask(ReadOnlySpan<float> tau, ReadOnlySpan<float> sum, float kappa, Span<byte> bits)
    {
        int n = tau.Length;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var k = Vector256.Create(kappa);
            ref float t0 = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(tau);
            ref float s0 = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(sum);
            for (; i <= n - 8; i += 8)
            {
                var t = Vector256.LoadUnsafe(ref t0, (nuint)i);
                var s = Vector256.LoadUnsafe(ref s0, (nuint)i);
                bits[i >> 3] = (byte)Vector256.ExtractMostSignificantBits(Vector256.GreaterThanOrEqual(Vector256.Abs(t), k * Vector256.Abs(s - t)));
            }
        }
        if (i < n)
        {
            bits[i >> 3] = 0;
            for (; i < n; i++)
                if (MathF.Abs(tau[i]) >= kappa * MathF.Abs(sum[i] - tau[i])) bits[i >> 3] |= (byte)(1 << (i & 7));
        }
    }
}
