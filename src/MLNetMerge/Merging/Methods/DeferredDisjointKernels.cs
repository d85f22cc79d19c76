using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// The vector loops of <see cref="DeferredDisjointMerge"/> at 256 and 512 bits: per element the same operations in the same
/// order (so the same values at either width), two groups of lanes at a time.
/// </summary>
internal static class DeferredDisjointKernels
{
    /// <summary>Groups (of 8 or 16 elements) between the keeping of their unsettled lanes.</summary>
    internal const int MarkGroups = 256;

    /// <summary>
    /// The 256-bit vector part of <see cref="DeferredDisjointMerge.Merge"/> over elements <c>[c0, end)</c> (a multiple of 16 apart), two groups of 8
    /// at a time — two independent chains of adds over t, each in task order. Writes each group's unsettled lanes to
    /// <paramref name="marks"/>, adds to <paramref name="above"/>[t] the number of τt above task t's interval of magnitude bits; returns Σ sign(s)
    /// over the settled elements.
    /// </summary>
    internal static long Block256(float[][] tasks, ReadOnlySpan<float> theta0, ReadOnlySpan<float> w, ReadOnlySpan<int> low, ReadOnlySpan<int> high,
        bool mean, float lambda, Span<float> output, int c0, int end, Span<uint> marks, Span<long> above)
    {
        int T = w.Length;
        Span<Vector256<int>> count = T <= 32 ? stackalloc Vector256<int>[T] : new Vector256<int>[T]; // (T) per lane: τt above the interval
        count.Clear();
        ref Vector256<int> cp = ref MemoryMarshal.GetReference(count);
        ref int h0 = ref MemoryMarshal.GetReference(high);
        Span<Vector256<float>> kept = T <= 32 ? stackalloc Vector256<float>[2 * T] : new Vector256<float>[2 * T]; // (T, 2) τ̂t of 16 elements
        long balance = 0;
        ref float[] task0 = ref MemoryMarshal.GetArrayDataReference(tasks);
        ref float w0 = ref MemoryMarshal.GetReference(w);
        ref int l0 = ref MemoryMarshal.GetReference(low);
        ref Vector256<float> kp = ref MemoryMarshal.GetReference(kept);
        var magnitude = Vector256.Create(0x7FFF_FFFF);
        for (int i = c0; i < end; i += 16)
        {
            Vector256<float> s0 = default, s1 = default;
            Vector256<int> in0 = default, in1 = default;
            Vector256<uint> any0 = default, any1 = default; // OR of the kept values' bits: non-zero where one is (a kept −0 only adds a spare undecided element)
            for (int t = 0; t < T; t++)
            {
                ref float row = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Unsafe.Add(ref task0, t)), i);
                var v0 = Vector256.LoadUnsafe(ref row);
                var v1 = Vector256.LoadUnsafe(ref row, 8);
                int lo = Unsafe.Add(ref l0, t);
                if (lo >= 0)
                {
                    // bits(|τ|) against the interval; non-negative, so they compare as signed ints (one instruction on AVX2).
                    var a = Vector256.Create(lo);
                    var b = Vector256.Create(Unsafe.Add(ref h0, t));
                    var bits0 = v0.AsInt32() & magnitude;
                    var bits1 = v1.AsInt32() & magnitude;
                    var over0 = Vector256.GreaterThan(bits0, b);
                    var over1 = Vector256.GreaterThan(bits1, b);
                    var hit0 = ~(over0 | Vector256.LessThan(bits0, a));
                    var hit1 = ~(over1 | Vector256.LessThan(bits1, a));
                    if (lo == 0)
                    {
                        hit0 &= ~Vector256.Equals(bits0, Vector256<int>.Zero); // zeros are trimmed or kept as 0 alike
                        hit1 &= ~Vector256.Equals(bits1, Vector256<int>.Zero);
                    }
                    in0 |= hit0;
                    in1 |= hit1;
                    Unsafe.Add(ref cp, t) -= over0 + over1; // a true lane is −1
                    v0 &= over0.AsSingle();
                    v1 &= over1.AsSingle();
                }
                Unsafe.Add(ref kp, 2 * t) = v0;
                Unsafe.Add(ref kp, 2 * t + 1) = v1;
                any0 |= v0.AsUInt32();
                any1 |= v1.AsUInt32();
                var wt = Vector256.Create(Unsafe.Add(ref w0, t));
                s0 += wt * v0;
                s1 += wt * v1;
            }
            // Majority +1 as the placeholder for s = 0: right whenever nothing non-zero is kept.
            var one = Vector256<float>.One;
            var sign0 = Vector256.ConditionalSelect(Vector256.LessThan(s0, Vector256<float>.Zero), -one, one);
            var sign1 = Vector256.ConditionalSelect(Vector256.LessThan(s1, Vector256<float>.Zero), -one, one);
            Vector256<float> num0 = default, num1 = default, den0 = default, den1 = default;
            for (int t = 0; t < T; t++)
            {
                var wt = Vector256.Create(Unsafe.Add(ref w0, t));
                var v0 = Unsafe.Add(ref kp, 2 * t);
                var v1 = Unsafe.Add(ref kp, 2 * t + 1);
                var agree0 = Vector256.GreaterThan(v0 * sign0, Vector256<float>.Zero);
                var agree1 = Vector256.GreaterThan(v1 * sign1, Vector256<float>.Zero);
                num0 += (wt * v0) & agree0;
                num1 += (wt * v1) & agree1;
                den0 += wt & agree0;
                den1 += wt & agree1;
            }
            marks[(i - c0) / 8] = Finish(s0, num0, den0, in0, any0, mean, lambda, theta0, output, i, ref balance);
            marks[(i - c0) / 8 + 1] = Finish(s1, num1, den1, in1, any1, mean, lambda, theta0, output, i + 8, ref balance);
        }
        for (int t = 0; t < T; t++) above[t] += Vector256.Sum(count[t]);
        return balance;
    }

    /// <summary>Stores θ0 + λ·τm of 8 elements from <paramref name="i"/>, adds the settled ones' Σ sign(s) to <paramref name="balance"/>,
    /// returns the lanes left unsettled: deferred (bits 0–7), undecided (bits 8–15).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Finish(Vector256<float> s, Vector256<float> num, Vector256<float> den, Vector256<int> inBucket, Vector256<uint> anyKept,
        bool mean, float lambda, ReadOnlySpan<float> theta0, Span<float> output, int i, ref long balance)
    {
        var zero = Vector256<float>.Zero;
        var tm = mean ? num / Vector256.ConditionalSelect(Vector256.Equals(den, zero), Vector256<float>.One, den) : num;
        var merged = tm * Vector256.Create(lambda) + Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(theta0), (nuint)i);
        merged.StoreUnsafe(ref MemoryMarshal.GetReference(output), (nuint)i);
        uint later = Vector256.ExtractMostSignificantBits(inBucket);
        uint open = Vector256.ExtractMostSignificantBits(Vector256.Equals(s, zero) & ~Vector256.Equals(anyKept, Vector256<uint>.Zero).AsSingle()) & ~later;
        uint now = ~later & 0xFFu;
        balance += BitOperations.PopCount(Vector256.ExtractMostSignificantBits(Vector256.GreaterThan(s, zero)) & now)
                 - BitOperations.PopCount(Vector256.ExtractMostSignificantBits(Vector256.LessThan(s, zero)) & now);
        return later | open << 8;
    }
    /// <summary>
    /// The 512-bit vector part of <see cref="DeferredDisjointMerge.Merge"/> over elements <c>[c0, end)</c> (a multiple of 32 apart), two groups of 16
    /// at a time — two independent chains of adds over t, each in task order. Writes each group's unsettled lanes to
    /// <paramref name="marks"/>, adds to <paramref name="above"/>[t] the number of τt above task t's interval of magnitude bits; returns Σ sign(s)
    /// over the settled elements.
    /// </summary>
    internal static long Block512(float[][] tasks, ReadOnlySpan<float> theta0, ReadOnlySpan<float> w, ReadOnlySpan<int> low, ReadOnlySpan<int> high,
        bool mean, float lambda, Span<float> output, int c0, int end, Span<uint> marks, Span<long> above)
    {
        int T = w.Length;
        Span<Vector512<int>> count = T <= 32 ? stackalloc Vector512<int>[T] : new Vector512<int>[T]; // (T) per lane: τt above the interval
        count.Clear();
        ref Vector512<int> cp = ref MemoryMarshal.GetReference(count);
        ref int h0 = ref MemoryMarshal.GetReference(high);
        Span<Vector512<float>> kept = T <= 32 ? stackalloc Vector512<float>[2 * T] : new Vector512<float>[2 * T]; // (T, 2) τ̂t of 32 elements
        long balance = 0;
        ref float[] task0 = ref MemoryMarshal.GetArrayDataReference(tasks);
        ref float w0 = ref MemoryMarshal.GetReference(w);
        ref int l0 = ref MemoryMarshal.GetReference(low);
        ref Vector512<float> kp = ref MemoryMarshal.GetReference(kept);
        var magnitude = Vector512.Create(0x7FFF_FFFF);
        for (int i = c0; i < end; i += 32)
        {
            Vector512<float> s0 = default, s1 = default;
            Vector512<int> in0 = default, in1 = default;
            Vector512<uint> any0 = default, any1 = default; // OR of the kept values' bits: non-zero where one is (a kept −0 only adds a spare undecided element)
            for (int t = 0; t < T; t++)
            {
                ref float row = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Unsafe.Add(ref task0, t)), i);
                var v0 = Vector512.LoadUnsafe(ref row);
                var v1 = Vector512.LoadUnsafe(ref row, 16);
                int lo = Unsafe.Add(ref l0, t);
                if (lo >= 0)
                {
                    // bits(|τ|) against the interval; non-negative, so they compare as signed ints (one instruction on AVX2).
                    var a = Vector512.Create(lo);
                    var b = Vector512.Create(Unsafe.Add(ref h0, t));
                    var bits0 = v0.AsInt32() & magnitude;
                    var bits1 = v1.AsInt32() & magnitude;
                    var over0 = Vector512.GreaterThan(bits0, b);
                    var over1 = Vector512.GreaterThan(bits1, b);
                    var hit0 = ~(over0 | Vector512.LessThan(bits0, a));
                    var hit1 = ~(over1 | Vector512.LessThan(bits1, a));
                    if (lo == 0)
                    {
                        hit0 &= ~Vector512.Equals(bits0, Vector512<int>.Zero); // zeros are trimmed or kept as 0 alike
                        hit1 &= ~Vector512.Equals(bits1, Vector512<int>.Zero);
                    }
                    in0 |= hit0;
                    in1 |= hit1;
                    Unsafe.Add(ref cp, t) -= over0 + over1; // a true lane is −1
                    v0 &= over0.AsSingle();
                    v1 &= over1.AsSingle();
                }
                Unsafe.Add(ref kp, 2 * t) = v0;
                Unsafe.Add(ref kp, 2 * t + 1) = v1;
                any0 |= v0.AsUInt32();
                any1 |= v1.AsUInt32();
                var wt = Vector512.Create(Unsafe.Add(ref w0, t));
                s0 += wt * v0;
                s1 += wt * v1;
            }
            // Majority +1 as the placeholder for s = 0: right whenever nothing non-zero is kept.
            var one = Vector512<float>.One;
            var sign0 = Vector512.ConditionalSelect(Vector512.LessThan(s0, Vector512<float>.Zero), -one, one);
            var sign1 = Vector512.ConditionalSelect(Vector512.LessThan(s1, Vector512<float>.Zero), -one, one);
            Vector512<float> num0 = default, num1 = default, den0 = default, den1 = default;
            for (int t = 0; t < T; t++)
            {
                var wt = Vector512.Create(Unsafe.Add(ref w0, t));
                var v0 = Unsafe.Add(ref kp, 2 * t);
                var v1 = Unsafe.Add(ref kp, 2 * t + 1);
                var agree0 = Vector512.GreaterThan(v0 * sign0, Vector512<float>.Zero);
                var agree1 = Vector512.GreaterThan(v1 * sign1, Vector512<float>.Zero);
                num0 += (wt * v0) & agree0;
                num1 += (wt * v1) & agree1;
                den0 += wt & agree0;
                den1 += wt & agree1;
            }
            marks[(i - c0) / 16] = Finish(s0, num0, den0, in0, any0, mean, lambda, theta0, output, i, ref balance);
            marks[(i - c0) / 16 + 1] = Finish(s1, num1, den1, in1, any1, mean, lambda, theta0, output, i + 16, ref balance);
        }
        for (int t = 0; t < T; t++) above[t] += Vector512.Sum(count[t]);
        return balance;
    }

    /// <summary>Stores θ0 + λ·τm of 16 elements from <paramref name="i"/>, adds the settled ones' Σ sign(s) to <paramref name="balance"/>,
    /// returns the lanes left unsettled: deferred (bits 0–15), undecided (bits 16–31).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Finish(Vector512<float> s, Vector512<float> num, Vector512<float> den, Vector512<int> inBucket, Vector512<uint> anyKept,
        bool mean, float lambda, ReadOnlySpan<float> theta0, Span<float> output, int i, ref long balance)
    {
        var zero = Vector512<float>.Zero;
        var tm = mean ? num / Vector512.ConditionalSelect(Vector512.Equals(den, zero), Vector512<float>.One, den) : num;
        var merged = tm * Vector512.Create(lambda) + Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(theta0), (nuint)i);
        merged.StoreUnsafe(ref MemoryMarshal.GetReference(output), (nuint)i);
        uint later = (uint)Vector512.ExtractMostSignificantBits(inBucket);
        uint open = (uint)Vector512.ExtractMostSignificantBits(Vector512.Equals(s, zero) & ~Vector512.Equals(anyKept, Vector512<uint>.Zero).AsSingle()) & ~later;
        uint now = ~later & 0xFFFFu;
        balance += BitOperations.PopCount((uint)Vector512.ExtractMostSignificantBits(Vector512.GreaterThan(s, zero)) & now)
                 - BitOperations.PopCount((uint)Vector512.ExtractMostSignificantBits(Vector512.LessThan(s, zero)) & now);
        return later | open << 16;
    }
}
