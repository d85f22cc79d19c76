using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// TIES's disjoint merge (<see cref="TaskVectorKernels.DisjointMerge"/>) run before the trim thresholds and the majority sign
/// are known, so that the merge pass is also the second pass of the global trim. Only each task's coarse bucket (the
/// upper 16 bits of <c>bits(|threshold|)</c>, after the first radix-select pass) is known; as in
/// <see cref="DeferredSignBalance"/>, <c>bits(|τ|) ≫ 16</c> above the bucket means kept, below it trimmed. Per element:
/// <list type="bullet">
/// <item>no τt in its task's bucket, and <c>s = Σt wt τ̂t ≠ 0</c> or no kept τ̂t non-zero: settled now — the same
/// arithmetic, in the same order, as the merge with exact thresholds (with s = 0 and nothing kept, τm = 0 for either
/// majority sign);</item>
/// <item>some τt in its bucket (<em>deferred</em>), or s = 0 with a kept non-zero τ̂t (<em>undecided</em>: it takes the
/// majority sign, known only after the pass): a placeholder is written, and its T values and θ0 are kept to be settled
/// by <see cref="Settle"/> once the thresholds and the majority sign are.</item>
/// </list>
/// The deferred elements hold every τ in a bucket, so the thresholds follow from them (the fine radix pass over them
/// instead of over the checkpoints); the majority count is the settled elements' <see cref="Certain"/> plus the deferred
/// ones' signs. Undecided elements add 0 to it.
/// </summary>
internal sealed class DeferredDisjointMerge
{
    private int[] _positions = [];
    private float[][] _columns; // (T + 1) columns of the kept elements: τ1 … τT, then θ0 — task-major, for the merge kernels

    private DeferredDisjointMerge(int tasks)
    {
        Tasks = tasks;
        _columns = new float[tasks + 1][];
        for (int c = 0; c <= tasks; c++) _columns[c] = [];
    }

    /// <summary>Tasks T.</summary>
    public int Tasks { get; }

    /// <summary>Elements kept.</summary>
    public int Count { get; private set; }

    /// <summary>Positions of the kept elements within the merged span, ascending.</summary>
    public ReadOnlySpan<int> Positions => _positions.AsSpan(0, Count);

    /// <summary>τt of the kept elements.</summary>
    public ReadOnlySpan<float> Task(int t) => _columns[t].AsSpan(0, Count);

    /// <summary>Bytes the kept elements take (positions and values).</summary>
    public long Bytes => (long)Count * (sizeof(int) + (Tasks + 1) * sizeof(float));

    /// <summary>Σ sign(s) over the settled elements (positive minus negative).</summary>
    public long Certain { get; private set; }

    /// <summary>
    /// Writes the merged weights <c>θ0 + λ·τm</c> of elements <c>[0, n)</c> into <paramref name="output"/> (τm, then one
    /// multiply and one add, as the exact-threshold merge does; a placeholder where unsettled) and returns the
    /// deferred and the undecided elements. Task t is trimmed at a threshold in coarse bucket <paramref name="buckets"/>[t],
    /// or kept whole where that is −1 (a threshold of 0). <paramref name="tasks"/> holds τt (T, ≥ n), <paramref name="theta0"/>
    /// θ0 (n), kept with an unsettled element. Inputs are finite (the trim's first pass checked them).
    /// </summary>
    public static (DeferredDisjointMerge Deferred, DeferredDisjointMerge Undecided) Merge(float[][] tasks, ReadOnlySpan<float> theta0,
        ReadOnlySpan<float> w, ReadOnlySpan<int> buckets, int n, bool mean, float lambda, Span<float> output)
    {
        var kept = (new DeferredDisjointMerge(w.Length), new DeferredDisjointMerge(w.Length));
        kept.Item1.Certain = MergeCore(tasks, theta0, w, buckets, n, mean, lambda, output, kept.Item1, kept.Item2);
        return kept;
    }

    /// <summary>The merge of elements <c>[0, n)</c> of <paramref name="tasks"/>, keeping the unsettled ones; returns Σ sign(s)
    /// over the settled ones.</summary>
    private static long MergeCore(float[][] tasks, ReadOnlySpan<float> theta0, ReadOnlySpan<float> w, ReadOnlySpan<int> buckets, int n,
        bool mean, float lambda, Span<float> output, DeferredDisjointMerge deferred, DeferredDisjointMerge undecided)
    {
        int T = w.Length;
        long balance = 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated && n >= 16)
        {
            // The vector loop calls nothing (a call would make the JIT keep its vector accumulators in memory): it marks
            // each group of 8 elements' unsettled lanes, and they are kept after each block of groups.
            Span<Vector256<float>> kept = T <= 32 ? stackalloc Vector256<float>[2 * T] : new Vector256<float>[2 * T]; // (T, 2) τ̂t of 16 elements
            Span<ushort> marks = stackalloc ushort[MarkGroups]; // per group: deferred lanes (low byte), undecided lanes (high byte)
            int vectorEnd = n & ~15;
            for (int c0 = 0; c0 < vectorEnd; c0 += 8 * MarkGroups)
            {
                int end = Math.Min(c0 + 8 * MarkGroups, vectorEnd);
                balance += VectorBlock(tasks, theta0, w, buckets, mean, lambda, output, c0, end, kept, marks);
                for (int g = 0; g < (end - c0) / 8; g++)
                {
                    uint mark = marks[g];
                    for (uint lanes = (mark | mark >> 8) & 0xFFu; lanes != 0; lanes &= lanes - 1)
                    {
                        int lane = BitOperations.TrailingZeroCount(lanes);
                        ((mark >> lane & 1) != 0 ? deferred : undecided).Keep(tasks, theta0, c0 + 8 * g + lane);
                    }
                }
            }
            i = vectorEnd;
        }
        for (; i < n; i++)
        {
            float s = 0;
            bool inBucket = false, anyKept = false;
            for (int t = 0; t < T; t++)
            {
                float v = Coarse(tasks[t][i], buckets[t], ref inBucket);
                anyKept |= v != 0;
                s += w[t] * v;
            }
            float sign = s > 0 ? 1f : s < 0 ? -1f : 1f;
            float num = 0, den = 0;
            for (int t = 0; t < T; t++)
            {
                bool ignored = false;
                float v = Coarse(tasks[t][i], buckets[t], ref ignored);
                if (v * sign > 0) { num += w[t] * v; den += w[t]; }
            }
            output[i] = (mean ? num / (den == 0 ? 1 : den) : num) * lambda + theta0[i];
            if (inBucket) deferred.Keep(tasks, theta0, i);
            else
            {
                balance += s > 0 ? 1 : s < 0 ? -1 : 0;
                if (s == 0 && anyKept) undecided.Keep(tasks, theta0, i);
            }
        }
        return balance;
    }

    /// <summary>Groups of 8 elements between the keeping of their unsettled lanes.</summary>
    private const int MarkGroups = 256;

    /// <summary>
    /// The vector part of <see cref="MergeCore"/> over elements <c>[c0, end)</c> (a multiple of 16 apart), two groups of 8
    /// at a time — two independent chains of adds over t, each in task order. Writes each group's unsettled lanes to
    /// <paramref name="marks"/>; returns Σ sign(s) over the settled elements.
    /// </summary>
    private static long VectorBlock(float[][] tasks, ReadOnlySpan<float> theta0, ReadOnlySpan<float> w, ReadOnlySpan<int> buckets, bool mean,
        float lambda, Span<float> output, int c0, int end, Span<Vector256<float>> kept, Span<ushort> marks)
    {
        int T = w.Length;
        long balance = 0;
        ref float[] task0 = ref MemoryMarshal.GetArrayDataReference(tasks);
        ref float w0 = ref MemoryMarshal.GetReference(w);
        ref int b0 = ref MemoryMarshal.GetReference(buckets);
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
                int bucket = Unsafe.Add(ref b0, t);
                if (bucket >= 0)
                {
                    // bits(|τ|) ≫ 16 against the bucket; a key ≤ 0x7FFF compares as a signed int (one instruction on AVX2).
                    var b = Vector256.Create(bucket);
                    var bits0 = v0.AsInt32() & magnitude;
                    var bits1 = v1.AsInt32() & magnitude;
                    var key0 = Vector256.ShiftRightLogical(bits0, 16);
                    var key1 = Vector256.ShiftRightLogical(bits1, 16);
                    var hit0 = Vector256.Equals(key0, b);
                    var hit1 = Vector256.Equals(key1, b);
                    if (bucket == 0)
                    {
                        hit0 &= ~Vector256.Equals(bits0, Vector256<int>.Zero); // zeros are trimmed or kept as 0 alike
                        hit1 &= ~Vector256.Equals(bits1, Vector256<int>.Zero);
                    }
                    in0 |= hit0;
                    in1 |= hit1;
                    v0 &= Vector256.GreaterThan(key0, b).AsSingle();
                    v1 &= Vector256.GreaterThan(key1, b).AsSingle();
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
        return balance;
    }

    /// <summary>Stores θ0 + λ·τm of 8 elements from <paramref name="i"/>, adds the settled ones' Σ sign(s) to <paramref name="balance"/>,
    /// returns the lanes left unsettled: deferred (low byte), undecided (high byte).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort Finish(Vector256<float> s, Vector256<float> num, Vector256<float> den, Vector256<int> inBucket, Vector256<uint> anyKept,
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
        return (ushort)(later | open << 8);
    }

    /// <summary>τ trimmed by its coarse bucket (−1: kept whole); flags a non-zero τ inside the bucket.</summary>
    private static float Coarse(float tau, int bucket, ref bool inBucket)
    {
        if (bucket < 0) return tau;
        uint bits = BitConverter.SingleToUInt32Bits(tau) & 0x7FFF_FFFFu, key = bits >> 16;
        inBucket |= key == (uint)bucket && bits != 0;
        return key > (uint)bucket ? tau : 0f;
    }

    private void Keep(float[][] tasks, ReadOnlySpan<float> theta0, int i)
    {
        if (Count == _positions.Length)
        {
            int grown = Math.Max(16, 2 * Count);
            Array.Resize(ref _positions, grown);
            for (int c = 0; c <= Tasks; c++) Array.Resize(ref _columns[c], grown);
        }
        _positions[Count] = i;
        for (int t = 0; t < Tasks; t++) _columns[t][Count] = tasks[t][i];
        _columns[Tasks][Count] = theta0[i];
        Count++;
    }

    /// <summary>Σ sign(s) over the kept elements with the exact <paramref name="thresholds"/>, for the majority count
    /// (<see cref="TaskVectorKernels.SignBalance"/> on the kept columns).</summary>
    public long Balance(ReadOnlySpan<float> w, ReadOnlySpan<float> thresholds) => TaskVectorKernels.SignBalance(_columns, w, thresholds, Count);

    /// <summary>
    /// The kept elements' merged weights with the exact <paramref name="thresholds"/> and <paramref name="majority"/>:
    /// <c>θ0 + λ·τm</c> by the same kernels the merge runs with them (<see cref="TaskVectorKernels.DisjointMerge"/>, then
    /// one multiply and one add per element), so the same bits.
    /// </summary>
    public float[] Settle(ReadOnlySpan<float> w, ReadOnlySpan<float> thresholds, float majority, bool mean, float lambda)
    {
        var merged = new float[Count];
        TaskVectorKernels.DisjointMerge(_columns, w, thresholds, Count, majority, mean, merged);
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(merged, lambda, _columns[Tasks].AsSpan(0, Count), merged);
        return merged;
    }
}
