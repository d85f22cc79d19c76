using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MLNetMerge.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// EMR's per-tensor work in one sweep over the task vectors (the step-by-step path made one sweep per task and sum):
/// the election <c>u = ε · max_{t: τt·ε &gt; 0} |τt|</c>, <c>ε = sign(Σt τt)</c> (+1 where &gt; 0, else −1), with the rescaler
/// sums and the packed masks counted in the same sweep; then a task's weights from u and its mask. Each result is the same bits as <see cref="TaskVectorKernels"/>' separate kernels
/// give: the same 8-lane blocks from element 0, each float64 sum in its own accumulator updated in the same order
/// (<c>acc += lo + hi</c> of the widened block, then <c>Vector256.Sum</c>, then the scalar tail), the same scalar tail formulas.
/// </summary>
internal static class EmrKernels
{
    /// <summary>
    /// One election sweep over n elements: <c>unified[i] = u</c>, <c>output[i] = u + θ0[i]</c>, the rescaler sums
    /// <c>sums[t] = Σ|τt|</c>, <c>sums[T + t] = Σ_{τt·u &gt; 0} |u|</c>, <c>sums[2T] = Σ|u|</c> (float64), and, when
    /// <paramref name="bits"/> is given, every task's packed mask <c>[τt[i]·u[i] &gt; 0]</c> (bit i &amp; 7 of byte i / 8,
    /// as <see cref="TaskVectorKernels.PackAgreement"/> packs one). The task buffers hold τt, or θt when
    /// <paramref name="raw"/> (τt = θt − θ0 is then formed chunk by chunk, never stored whole). The same values as an
    /// election sweep of its own and <see cref="TaskVectorKernels.AbsSum"/> and <see cref="TaskVectorKernels.AgreeingAbsSum"/>
    /// give one by one (tested). Returns whether every τt was finite (every Σ|τt| is).
    /// </summary>
    public static bool Sweep(float[][] tasks, int T, bool raw, ReadOnlySpan<float> theta0, Span<float> unified, Span<float> output, Span<double> sums, byte[][]? bits, int n)
    {
        if (sums.Length < 2 * T + 1) throw new ArgumentException($"need {2 * T + 1} sums, got {sums.Length}.");
        if (tasks.Length < T || tasks.Take(T).Any(a => a.Length < n)) throw new ArgumentException($"task buffers shorter than {n} elements or fewer than {T}.");
        Span<Vector256<double>> lanes = stackalloc Vector256<double>[2 * T + 1];
        lanes.Clear();
        using var pinned = new PinnedAddresses(tasks, T);
        int done = SweepBlocks(pinned.Addresses, raw, theta0, unified, output, lanes, bits, 0, n);
        return SweepTail(pinned.Addresses, raw, theta0, unified, output, lanes, sums, bits, 0, done, n);
    }

    /// <summary>
    /// The vector part of <see cref="Sweep"/> over the 8-lane blocks of elements [0, n) of one range of a tensor (or all
    /// of it): <paramref name="tasks"/> holds the address of each task's first element of the range (n floats each, pinned
    /// or mapped by the caller: a checkpoint's mapping read in place, <see cref="MergeTensorContext.RangeTasks"/>), the
    /// sums are kept in <paramref name="lanes"/> (2T + 1 float64 lanes, carried from range to range in element order) and
    /// the masks written from byte <paramref name="bitsByte"/> on. Returns the elements done: n rounded down to a multiple
    /// of 8 (0 without 256-bit vectors).
    /// </summary>
    /// <remarks>
    /// The election takes two blocks per step: each block's sum over the tasks and its maximum are dependency chains as
    /// long as T, so two independent pairs of chains keep the core busy (in one process, eight tasks, an Ice Lake core:
    /// 6.8 → 5.7 ns per element with the per-task sums; the same bits). Every element still sees its tasks in order.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe int SweepBlocks(ReadOnlySpan<nint> tasks, bool raw, ReadOnlySpan<float> theta0, Span<float> unified, Span<float> output,
        Span<Vector256<double>> lanes, byte[][]? bits, int bitsByte, int n)
    {
        int T = tasks.Length;
        if (lanes.Length < 2 * T + 1) throw new ArgumentException($"need {2 * T + 1} sum lanes, got {lanes.Length}.");
        if (theta0.Length < n || unified.Length < n || output.Length < n
            || (bits is not null && (bits.Length < T || bits.Take(T).Any(b => b.Length < bitsByte + MaskBits.ByteCount(n)))))
            throw new ArgumentException($"buffers shorter than {n} elements or {T} tasks.");
        if (!Vector256.IsHardwareAccelerated) return 0;
        var zero = Vector256<float>.Zero;
        var one = Vector256<float>.One;
        float[] chunk = raw ? ArrayPool<float>.Shared.Rent(T * SweepChunk + 8) : [];   // raw: τt of the chunk (T × SweepChunk)
        float** tp = stackalloc float*[T];                                             // (T) task addresses
        for (int t = 0; t < T; t++) tp[t] = (float*)tasks[t];
        int i = 0;
        fixed (float* pb = theta0, pu = unified, po = output, pc = chunk)
        {
            // Chunks of SweepChunk elements, in cache: first u of every block, then one task at a time with its two
            // accumulators in registers. Each accumulator still takes the blocks in order from element 0.
            while (i <= n - 8)
            {
                int end = i + Math.Min(SweepChunk, (n - i) & ~7);
                var uAcc = lanes[2 * T];
                int j = i;
                for (; j <= end - 16; j += 16)
                {
                    var b1 = Vector256.Load(pb + j);
                    var b2 = Vector256.Load(pb + j + 8);
                    float* cj = pc + (j - i);       // raw: τt of blocks j, j + 8 at cj + t·SweepChunk
                    var s1 = zero; var s2 = zero;
                    for (int t = 0; t < T; t++)
                    {
                        float* x = tp[t] + j;
                        var v1 = Vector256.Load(x); var v2 = Vector256.Load(x + 8);
                        if (raw)
                        {
                            v1 -= b1; v2 -= b2;
                            v1.Store(cj + t * SweepChunk); v2.Store(cj + t * SweepChunk + 8);
                        }
                        s1 += v1; s2 += v2;
                    }
                    var e1 = Vector256.ConditionalSelect(Vector256.GreaterThan(s1, zero), one, -one);
                    var e2 = Vector256.ConditionalSelect(Vector256.GreaterThan(s2, zero), one, -one);
                    var m1 = zero; var m2 = zero;
                    for (int t = 0; t < T; t++)
                    {
                        float* x = raw ? cj + t * SweepChunk : tp[t] + j;
                        var v1 = Vector256.Load(x); var v2 = Vector256.Load(x + 8);
                        m1 = MaxOfMagnitudes(m1, Vector256.ConditionalSelect(Vector256.GreaterThan(v1 * e1, zero), Vector256.Abs(v1), zero));
                        m2 = MaxOfMagnitudes(m2, Vector256.ConditionalSelect(Vector256.GreaterThan(v2 * e2, zero), Vector256.Abs(v2), zero));
                    }
                    uAcc = ElectedBlock(e1 * m1, b1, pu + j, po + j, uAcc);
                    uAcc = ElectedBlock(e2 * m2, b2, pu + j + 8, po + j + 8, uAcc);
                }
                if (j < end)
                {
                    // The chunk's last block when it holds an odd number of them.
                    var b1 = Vector256.Load(pb + j);
                    float* cj = pc + (j - i);
                    var s1 = zero;
                    for (int t = 0; t < T; t++)
                    {
                        var v1 = Vector256.Load(tp[t] + j);
                        if (raw)
                        {
                            v1 -= b1;
                            v1.Store(cj + t * SweepChunk);
                        }
                        s1 += v1;
                    }
                    var e1 = Vector256.ConditionalSelect(Vector256.GreaterThan(s1, zero), one, -one);
                    var m1 = zero;
                    for (int t = 0; t < T; t++)
                    {
                        var v1 = Vector256.Load(raw ? cj + t * SweepChunk : tp[t] + j);
                        m1 = MaxOfMagnitudes(m1, Vector256.ConditionalSelect(Vector256.GreaterThan(v1 * e1, zero), Vector256.Abs(v1), zero));
                    }
                    uAcc = ElectedBlock(e1 * m1, b1, pu + j, po + j, uAcc);
                }
                lanes[2 * T] = uAcc;
                for (int t = 0; t < T; t++)
                {
                    float* tt = raw ? pc + t * SweepChunk - i : tp[t];   // τt of element jj at tt + jj
                    byte[]? bt = bits?[t];
                    var absAcc = lanes[t];
                    var agreeAcc = lanes[T + t];
                    for (int jj = i; jj < end; jj += 8)
                    {
                        var v = Vector256.Load(tt + jj);
                        var u = Vector256.Load(pu + jj);
                        var (lo, hi) = Vector256.Widen(Vector256.Abs(v));
                        absAcc += lo + hi;
                        var agrees = Vector256.GreaterThan(v * u, zero);
                        (lo, hi) = Vector256.Widen(Vector256.ConditionalSelect(agrees, Vector256.Abs(u), zero));
                        agreeAcc += lo + hi;
                        if (bt is not null)
                            Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(bt), bitsByte + (jj >> 3)) = (byte)Vector256.ExtractMostSignificantBits(agrees);
                    }
                    lanes[t] = absAcc;
                    lanes[T + t] = agreeAcc;
                }
                i = end;
            }
        }
        if (raw) ArrayPool<float>.Shared.Return(chunk);
        return i;
    }

    /// <summary>Stores an elected block u and u + θ0, and returns <c>uAcc + (lo + hi)</c> of |u| widened (the Σ|u| lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<double> ElectedBlock(Vector256<float> u, Vector256<float> b, float* unified, float* output, Vector256<double> uAcc)
    {
        u.Store(unified);
        (u + b).Store(output);
        var (lo, hi) = Vector256.Widen(Vector256.Abs(u));
        return uAcc + (lo + hi);
    }

    /// <summary>
    /// Ends a sweep: <c>sums = Σ lanes</c>, then elements [from, n) of the range (the last range's tail, fewer than 8
    /// unless vectors are unavailable) one by one, masks from byte <paramref name="bitsByte"/> on (from a multiple of 8);
    /// <paramref name="tasks"/> as for <see cref="SweepBlocks"/>. Returns whether every τt was finite (every Σ|τt| is).
    /// </summary>
    public static unsafe bool SweepTail(ReadOnlySpan<nint> tasks, bool raw, ReadOnlySpan<float> theta0, Span<float> unified, Span<float> output,
        ReadOnlySpan<Vector256<double>> lanes, Span<double> sums, byte[][]? bits, int bitsByte, int from, int n)
    {
        int T = tasks.Length;
        if (sums.Length < 2 * T + 1 || lanes.Length < 2 * T + 1) throw new ArgumentException($"need {2 * T + 1} sums and lanes.");
        if (from % 8 != 0 || theta0.Length < n || unified.Length < n || output.Length < n)
            throw new ArgumentException($"a tail from {from} to {n} does not fit the buffers.");
        for (int j = 0; j <= 2 * T; j++) sums[j] = Vector256.Sum(lanes[j]);
        if (bits is not null && from < n)
            for (int t = 0; t < T; t++) bits[t][bitsByte + (from >> 3)] = 0;
        Span<float> tau = T <= 64 ? stackalloc float[T] : new float[T];
        for (int i = from; i < n; i++)
        {
            for (int t = 0; t < T; t++) tau[t] = raw ? ((float*)tasks[t])[i] - theta0[i] : ((float*)tasks[t])[i];
            float u = ElectScalar(tau);
            unified[i] = u;
            output[i] = u + theta0[i];
            for (int t = 0; t < T; t++)
            {
                float v = tau[t];
                sums[t] += MathF.Abs(v);
                if (v * u > 0)
                {
                    sums[T + t] += MathF.Abs(u);
                    if (bits is not null) bits[t][bitsByte + (i >> 3)] |= (byte)(1 << (i & 7));
                }
            }
            sums[2 * T] += MathF.Abs(u);
        }
        for (int t = 0; t < T; t++)
            if (!double.IsFinite(sums[t])) return false;
        return true;
    }

    /// <summary>Elements per chunk of <see cref="Sweep"/>: its u and τt (raw: 2T + 2 chunks of floats) stay in the L1 or L2 cache.</summary>
    private const int SweepChunk = 512;

    /// <summary>
    /// output[i] = keep ? θ0[i] + γ·u[i] : θ0[i], keep = bit i &amp; 7 of <c>mask[i / 8]</c> (a mask packed by
    /// <see cref="Sweep"/>), or always when <paramref name="mask"/> is null.
    /// </summary>
    public static void Materialize(ReadOnlySpan<float> theta0, ReadOnlySpan<float> u, byte[]? mask, float gamma, Span<float> output) =>
        Materialize(theta0, u, mask, 0, gamma, output);

    /// <summary>
    /// <see cref="Materialize(ReadOnlySpan{float}, ReadOnlySpan{float}, byte[], float, Span{float})"/> of a range of a
    /// tensor that starts at element 8·<paramref name="maskByte"/>: element i of the spans takes bit i &amp; 7 of
    /// <c>mask[maskByte + i / 8]</c>.
    /// </summary>
    public static void Materialize(ReadOnlySpan<float> theta0, ReadOnlySpan<float> u, byte[]? mask, int maskByte, float gamma, Span<float> output)
    {
        int n = output.Length, i = 0;
        if (theta0.Length < n || u.Length < n || (mask is not null && mask.Length < maskByte + MaskBits.ByteCount(n)))
            throw new ArgumentException($"inputs shorter than {n} elements.");
        ref float b0 = ref MemoryMarshal.GetReference(theta0);
        ref float u0 = ref MemoryMarshal.GetReference(u);
        ref float o0 = ref MemoryMarshal.GetReference(output);
        if (Vector256.IsHardwareAccelerated)
        {
            var g = Vector256.Create(gamma);
            var lane = Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128); // bit of each lane in its byte
            for (; i <= n - 8; i += 8)
            {
                var b = Vector256.LoadUnsafe(ref b0, (nuint)i);
                var kept = b + g * Vector256.LoadUnsafe(ref u0, (nuint)i);
                if (mask is not null)
                {
                    var keep = Vector256.Equals(Vector256.Create((int)mask[maskByte + (i >> 3)]) & lane, lane).AsSingle();
                    kept = Vector256.ConditionalSelect(keep, kept, b);
                }
                kept.StoreUnsafe(ref o0, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float b = Unsafe.Add(ref b0, i);
            bool keep = mask is null || (mask[maskByte + (i >> 3)] & (1 << (i & 7))) != 0;
            Unsafe.Add(ref o0, i) = keep ? b + gamma * Unsafe.Add(ref u0, i) : b;
        }
    }

    /// <summary>
    /// <see cref="Vector256.Max{T}(Vector256{T}, Vector256{T})"/> of two vectors of magnitudes, one instruction on x86
    /// instead of the ten the IEEE maximum needs for NaN and −0: neither occurs here (a candidate is |v| or +0, and a NaN
    /// τ is never a candidate, since <c>NaN·ε &gt; 0</c> is false), and then every maximum is the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MaxOfMagnitudes(Vector256<float> mag, Vector256<float> candidate) => Vector256.MaxNative(mag, candidate);

    /// <summary>The scalar election of one element from its T task-vector values (as <see cref="SweepBlocks"/> elects a block's lane).</summary>
    private static float ElectScalar(ReadOnlySpan<float> tau)
    {
        float s = 0;
        foreach (float v in tau) s += v;
        float eps = s > 0 ? 1f : -1f;
        float mag = 0;
        foreach (float v in tau)
            if (v * eps > 0 && MathF.Abs(v) > mag) mag = MathF.Abs(v);
        return eps * mag;
    }
}
