using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
        Span<Vector256<double>> lanes = stackalloc Vector256<double>[2 * T + 1];
        lanes.Clear();
        int done = SweepBlocks(tasks, T, raw, theta0, unified, output, lanes, bits, 0, n);
        return SweepTail(tasks, T, raw, theta0, unified, output, lanes, sums, bits, 0, done, n);
    }

    /// <summary>
    /// The vector part of <see cref="Sweep"/> over the 8-lane blocks of elements [0, n) of the given spans (one range of
    /// a tensor, or all of it), the sums kept in <paramref name="lanes"/> (2T + 1 float64 lanes, carried from range to
    /// range in element order) and the masks written from byte <paramref name="bitsByte"/> on. Returns the elements done:
    /// n rounded down to a multiple of 8 (0 without 256-bit vectors).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int SweepBlocks(float[][] tasks, int T, bool raw, ReadOnlySpan<float> theta0, Span<float> unified, Span<float> output,
        Span<Vector256<double>> lanes, byte[][]? bits, int bitsByte, int n)
    {
        if (lanes.Length < 2 * T + 1) throw new ArgumentException($"need {2 * T + 1} sum lanes, got {lanes.Length}.");
        if (theta0.Length < n || unified.Length < n || output.Length < n || tasks.Length < T || tasks.Take(T).Any(a => a.Length < n)
            || (bits is not null && (bits.Length < T || bits.Take(T).Any(b => b.Length < bitsByte + MaskBits.ByteCount(n)))))
            throw new ArgumentException($"buffers shorter than {n} elements or {T} tasks.");
        if (!Vector256.IsHardwareAccelerated) return 0;
        ref float b0 = ref MemoryMarshal.GetReference(theta0);
        ref float u0 = ref MemoryMarshal.GetReference(unified);
        ref float o0 = ref MemoryMarshal.GetReference(output);
        ref float[] a0 = ref MemoryMarshal.GetArrayDataReference(tasks);
        var zero = Vector256<float>.Zero;
        float[] chunk = raw ? ArrayPool<float>.Shared.Rent(T * SweepChunk) : [];   // raw: τt of the chunk (T × SweepChunk)
        ref float c0 = ref MemoryMarshal.GetArrayDataReference(chunk);
        int i = 0;
        // Chunks of SweepChunk elements, in cache: first u of every block, then one task at a time with its two
        // accumulators in registers. Each accumulator still takes the blocks in order from element 0.
        while (i <= n - 8)
        {
            int end = i + Math.Min(SweepChunk, (n - i) & ~7);
            var uAcc = lanes[2 * T];
            for (int j = i; j < end; j += 8)
            {
                var b = Vector256.LoadUnsafe(ref b0, (nuint)j);
                var s = zero;
                for (int t = 0; t < T; t++)
                {
                    var v = Vector256.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(Unsafe.Add(ref a0, t)), (nuint)j);
                    if (raw)
                    {
                        v -= b;
                        v.StoreUnsafe(ref c0, (nuint)(t * SweepChunk + j - i));
                    }
                    s += v;
                }
                var eps = Vector256.ConditionalSelect(Vector256.GreaterThan(s, zero), Vector256<float>.One, -Vector256<float>.One);
                var mag = zero;
                for (int t = 0; t < T; t++)
                {
                    var v = raw ? Vector256.LoadUnsafe(ref c0, (nuint)(t * SweepChunk + j - i))
                        : Vector256.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(Unsafe.Add(ref a0, t)), (nuint)j);
                    mag = MaxOfMagnitudes(mag, Vector256.ConditionalSelect(Vector256.GreaterThan(v * eps, zero), Vector256.Abs(v), zero));
                }
                var u = eps * mag;
                u.StoreUnsafe(ref u0, (nuint)j);
                (u + b).StoreUnsafe(ref o0, (nuint)j);
                var (ulo, uhi) = Vector256.Widen(Vector256.Abs(u));
                uAcc += ulo + uhi;
            }
            lanes[2 * T] = uAcc;
            for (int t = 0; t < T; t++)
            {
                // τt of the chunk at [first + j]: the chunk buffer (first = t·SweepChunk − i) or the task buffer (first = 0).
                ref float tt = ref raw ? ref c0 : ref MemoryMarshal.GetArrayDataReference(Unsafe.Add(ref a0, t));
                nint first = raw ? t * SweepChunk - i : 0;
                byte[]? bt = bits is null ? null : Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(bits), t);
                var absAcc = lanes[t];
                var agreeAcc = lanes[T + t];
                for (int j = i; j < end; j += 8)
                {
                    var v = Vector256.LoadUnsafe(ref tt, (nuint)(first + j));
                    var u = Vector256.LoadUnsafe(ref u0, (nuint)j);
                    var (lo, hi) = Vector256.Widen(Vector256.Abs(v));
                    absAcc += lo + hi;
                    var agrees = Vector256.GreaterThan(v * u, zero);
                    (lo, hi) = Vector256.Widen(Vector256.ConditionalSelect(agrees, Vector256.Abs(u), zero));
                    agreeAcc += lo + hi;
                    if (bt is not null)
                        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(bt), bitsByte + (j >> 3)) = (byte)Vector256.ExtractMostSignificantBits(agrees);
                }
                lanes[t] = absAcc;
                lanes[T + t] = agreeAcc;
            }
            i = end;
        }
        if (raw) ArrayPool<float>.Shared.Return(chunk);
        return i;
    }

    /// <summary>
    /// Ends a sweep: <c>sums = Σ lanes</c>, then elements [from, n) of the given spans (the last range's tail, fewer than
    /// 8 unless vectors are unavailable) one by one, masks from byte <paramref name="bitsByte"/> on (from a multiple of 8).
    /// Returns whether every τt was finite (every Σ|τt| is).
    /// </summary>
    public static bool SweepTail(float[][] tasks, int T, bool raw, ReadOnlySpan<float> theta0, Span<float> unified, Span<float> output,
        ReadOnlySpan<Vector256<double>> lanes, Span<double> sums, byte[][]? bits, int bitsByte, int from, int n)
    {
        if (sums.Length < 2 * T + 1 || lanes.Length < 2 * T + 1) throw new ArgumentException($"need {2 * T + 1} sums and lanes.");
        if (from % 8 != 0 || theta0.Length < n || unified.Length < n || output.Length < n || tasks.Take(T).Any(a => a.Length < n))
            throw new ArgumentException($"a tail from {from} to {n} does not fit the buffers.");
        for (int j = 0; j <= 2 * T; j++) sums[j] = Vector256.Sum(lanes[j]);
        if (bits is not null && from < n)
            for (int t = 0; t < T; t++) bits[t][bitsByte + (from >> 3)] = 0;
        Span<float> tau = T <= 64 ? stackalloc float[T] : new float[T];
        for (int i = from; i < n; i++)
        {
            for (int t = 0; t < T; t++) tau[t] = raw ? tasks[t][i] - theta0[i] : tasks[t][i];
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
