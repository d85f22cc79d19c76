using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// EMR's per-tensor work in single sweeps over the task vectors (the step-by-step path made one sweep per task and sum):
/// the election <c>u = ε · max_{t: τt·ε &gt; 0} |τt|</c>, <c>ε = sign(Σt τt)</c> (+1 where &gt; 0, else −1), the rescaler sums,
/// the packed masks and a task's weights. Each result is the same bits as <see cref="TaskVectorKernels"/>' separate kernels
/// give: the same 8-lane blocks from element 0, each float64 sum in its own accumulator updated in the same order
/// (<c>acc += lo + hi</c> of the widened block, then <c>Vector256.Sum</c>, then the scalar tail), the same scalar tail formulas.
/// </summary>
internal static class EmrKernels
{
    /// <summary>
    /// sums[t] = Σ|τt|, sums[T + t] = Σ_{τt·u &gt; 0} |u|, sums[2T] = Σ|u| (float64), with u the election of the T task vectors
    /// (n elements each); the same values as <see cref="TaskVectorKernels.AbsSum"/>, <see cref="TaskVectorKernels.ElectMaxMagnitude"/>
    /// and <see cref="TaskVectorKernels.AgreeingAbsSum"/> in turn.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RescalerSums(float[][] tasks, int T, int n, Span<double> sums)
    {
        if (sums.Length < 2 * T + 1) throw new ArgumentException($"need {2 * T + 1} sums, got {sums.Length}.");
        sums[..(2 * T + 1)].Clear();
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Span<Vector256<double>> acc = stackalloc Vector256<double>[2 * T + 1];
            Span<Vector256<float>> tv = stackalloc Vector256<float>[T];
            acc.Clear();
            var zero = Vector256<float>.Zero;
            var one = Vector256<float>.One;
            for (; i <= n - 8; i += 8)
            {
                var u = Elect(tasks, T, i, tv);
                var au = Vector256.Abs(u);
                for (int t = 0; t < T; t++)
                {
                    var (lo, hi) = Vector256.Widen(Vector256.Abs(tv[t]));
                    acc[t] += lo + hi;
                    var agree = Vector256.ConditionalSelect(Vector256.GreaterThan(tv[t] * u, zero), au, zero);
                    (lo, hi) = Vector256.Widen(agree);
                    acc[T + t] += lo + hi;
                }
                var (ulo, uhi) = Vector256.Widen(au);
                acc[2 * T] += ulo + uhi;
            }
            for (int j = 0; j <= 2 * T; j++) sums[j] = Vector256.Sum(acc[j]);
        }
        for (; i < n; i++)
        {
            float u = ElectScalar(tasks, T, i);
            for (int t = 0; t < T; t++)
            {
                float v = tasks[t][i];
                sums[t] += MathF.Abs(v);
                if (v * u > 0) sums[T + t] += MathF.Abs(u);
            }
            sums[2 * T] += MathF.Abs(u);
        }
    }

    /// <summary>unified[i] = u (the election), output[i] = u + θ0[i], for i &lt; n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Unified(float[][] tasks, int T, ReadOnlySpan<float> theta0, Span<float> unified, Span<float> output, int n)
    {
        if (theta0.Length < n || unified.Length < n || output.Length < n) throw new ArgumentException($"buffers shorter than {n}.");
        ref float b0 = ref MemoryMarshal.GetReference(theta0);
        ref float u0 = ref MemoryMarshal.GetReference(unified);
        ref float o0 = ref MemoryMarshal.GetReference(output);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Span<Vector256<float>> tv = stackalloc Vector256<float>[T];
            for (; i <= n - 8; i += 8)
            {
                var u = Elect(tasks, T, i, tv);
                u.StoreUnsafe(ref u0, (nuint)i);
                (u + Vector256.LoadUnsafe(ref b0, (nuint)i)).StoreUnsafe(ref o0, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float u = ElectScalar(tasks, T, i);
            Unsafe.Add(ref u0, i) = u;
            Unsafe.Add(ref o0, i) = u + Unsafe.Add(ref b0, i);
        }
    }

    /// <summary>bits[t] = the packed mask <c>[τt[i]·u[i] &gt; 0]</c> of every task, as <see cref="TaskVectorKernels.PackAgreement"/> packs one.</summary>
    public static void PackAgreements(float[][] tasks, int T, ReadOnlySpan<float> u, byte[][] bits, int n)
    {
        ref float u0 = ref MemoryMarshal.GetReference(u);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var zero = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var uv = Vector256.LoadUnsafe(ref u0, (nuint)i);
                for (int t = 0; t < T; t++)
                    bits[t][i >> 3] = (byte)Vector256.ExtractMostSignificantBits(Vector256.GreaterThan(Vector256.LoadUnsafe(ref tasks[t][0], (nuint)i) * uv, zero));
            }
        }
        if (i < n)
        {
            for (int t = 0; t < T; t++) bits[t][i >> 3] = 0;
            for (; i < n; i++)
                for (int t = 0; t < T; t++)
                    if (tasks[t][i] * u[i] > 0) bits[t][i >> 3] |= (byte)(1 << (i & 7));
        }
    }

    /// <summary>output[i] = keep ? θ0[i] + γ·u[i] : θ0[i], keep = <c>τ[i]·u[i] &gt; 0</c> when <paramref name="masked"/>, else always.</summary>
    public static void Materialize(ReadOnlySpan<float> theta0, ReadOnlySpan<float> u, ReadOnlySpan<float> tau, float gamma, bool masked, Span<float> output)
    {
        int n = output.Length, i = 0;
        ref float b0 = ref MemoryMarshal.GetReference(theta0);
        ref float u0 = ref MemoryMarshal.GetReference(u);
        ref float t0 = ref MemoryMarshal.GetReference(tau);
        ref float o0 = ref MemoryMarshal.GetReference(output);
        if (Vector256.IsHardwareAccelerated)
        {
            var g = Vector256.Create(gamma);
            for (; i <= n - 8; i += 8)
            {
                var b = Vector256.LoadUnsafe(ref b0, (nuint)i);
                var uv = Vector256.LoadUnsafe(ref u0, (nuint)i);
                var kept = b + g * uv;
                var r = masked ? Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.LoadUnsafe(ref t0, (nuint)i) * uv, Vector256<float>.Zero), kept, b) : kept;
                r.StoreUnsafe(ref o0, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float uu = Unsafe.Add(ref u0, i), b = Unsafe.Add(ref b0, i);
            bool keep = !masked || Unsafe.Add(ref t0, i) * uu > 0;
            Unsafe.Add(ref o0, i) = keep ? b + gamma * uu : b;
        }
    }

    /// <summary>The election of one 8-lane block (as <see cref="TaskVectorKernels.ElectMaxMagnitude"/>); the task vectors' lanes are left in <paramref name="tv"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Elect(float[][] tasks, int T, int i, Span<Vector256<float>> tv)
    {
        var zero = Vector256<float>.Zero;
        var s = zero;
        for (int t = 0; t < T; t++)
        {
            var v = Vector256.LoadUnsafe(ref tasks[t][0], (nuint)i);
            tv[t] = v;
            s += v;
        }
        var eps = Vector256.ConditionalSelect(Vector256.GreaterThan(s, zero), Vector256<float>.One, -Vector256<float>.One);
        var mag = zero;
        for (int t = 0; t < T; t++)
        {
            var v = tv[t];
            mag = Vector256.Max(mag, Vector256.ConditionalSelect(Vector256.GreaterThan(v * eps, zero), Vector256.Abs(v), zero));
        }
        return eps * mag;
    }

    /// <summary>The scalar election of element i (as <see cref="TaskVectorKernels.ElectMaxMagnitude"/>'s tail).</summary>
    private static float ElectScalar(float[][] tasks, int T, int i)
    {
        float s = 0;
        for (int t = 0; t < T; t++) s += tasks[t][i];
        float eps = s > 0 ? 1f : -1f;
        float mag = 0;
        for (int t = 0; t < T; t++)
        {
            float v = tasks[t][i];
            if (v * eps > 0 && MathF.Abs(v) > mag) mag = MathF.Abs(v);
        }
        return eps * mag;
    }
}
