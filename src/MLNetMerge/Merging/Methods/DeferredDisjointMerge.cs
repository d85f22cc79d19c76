using System.Numerics;
using System.Runtime.Intrinsics;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// TIES's disjoint merge (<see cref="TaskVectorKernels.DisjointMerge"/>) run before the trim thresholds and the majority sign
/// are known, so that the merge pass also finishes the global trim's radix select. Only an interval of magnitude bits
/// <c>bits(|τ|)</c> holding each task's threshold is known — its radix-select bucket after a full first pass, or a narrow
/// range around the estimate from a sample (<see cref="TrimInterval"/>); above the interval means kept, below it trimmed. Per element:
/// <list type="bullet">
/// <item>no τt in its task's interval, and <c>s = Σt wt τ̂t ≠ 0</c> or no kept τ̂t non-zero: settled now — the same
/// arithmetic, in the same order, as the merge with exact thresholds (with s = 0 and nothing kept, τm = 0 for either
/// majority sign);</item>
/// <item>some τt in its interval (<em>deferred</em>), or s = 0 with a kept non-zero τ̂t (<em>undecided</em>: it takes the
/// majority sign, known only after the pass): a placeholder is written, and its T values and θ0 are kept to be settled
/// by <see cref="Settle"/> once the thresholds and the majority sign are.</item>
/// </list>
/// The deferred elements hold every non-zero τ in an interval and <see cref="Above"/> counts those above it, so the thresholds
/// follow from them (a radix select over them instead of over the checkpoints); the majority count is the settled elements' <see cref="Certain"/> plus the deferred
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
    /// deferred and the undecided elements. Task t is trimmed at a threshold whose magnitude bits lie in
    /// [<paramref name="low"/>[t], <paramref name="high"/>[t]], or kept whole where low is −1 (a threshold of 0). <paramref name="tasks"/> holds τt (T, ≥ n), <paramref name="theta0"/>
    /// θ0 (n), kept with an unsettled element. Inputs are finite (the trim's first pass checked them). The vector loop is
    /// 512-bit where the CPU runs it, else 256-bit; <paramref name="vectorBits"/> caps it (tests: 256, or 0 for scalar) —
    /// the same values and kept elements for any width: every lane does the same operations in the same order.
    /// </summary>
    public static (DeferredDisjointMerge Deferred, DeferredDisjointMerge Undecided) Merge(float[][] tasks, ReadOnlySpan<float> theta0,
        ReadOnlySpan<float> w, ReadOnlySpan<int> low, ReadOnlySpan<int> high, int n, bool mean, float lambda, Span<float> output, int vectorBits = 512)
    {
        var kept = (new DeferredDisjointMerge(w.Length), new DeferredDisjointMerge(w.Length));
        kept.Item1.Certain = MergeCore(tasks, theta0, w, low, high, n, mean, lambda, output, kept.Item1, kept.Item2, vectorBits);
        return kept;
    }

    /// <summary>Per task, the elements merged whose magnitude lies above the task's interval (kept for certain); set on the deferred result.</summary>
    public long[] Above { get; private set; } = [];

    /// <summary>The merge of elements <c>[0, n)</c> of <paramref name="tasks"/>, keeping the unsettled ones; returns Σ sign(s)
    /// over the settled ones.</summary>
    private static long MergeCore(float[][] tasks, ReadOnlySpan<float> theta0, ReadOnlySpan<float> w, ReadOnlySpan<int> low, ReadOnlySpan<int> high,
        int n, bool mean, float lambda, Span<float> output, DeferredDisjointMerge deferred, DeferredDisjointMerge undecided, int vectorBits)
    {
        int T = w.Length;
        var above = deferred.Above = new long[T];
        long balance = 0;
        int i = 0;
        int group = Vector512.IsHardwareAccelerated && vectorBits >= 512 ? 16 : Vector256.IsHardwareAccelerated && vectorBits >= 256 ? 8 : 0;
        if (group > 0 && n >= 2 * group)
        {
            // The vector loop calls nothing (a call would make the JIT keep its vector accumulators in memory): it marks
            // each group of 8 or 16 elements' unsettled lanes, and they are kept after each block of groups.
            Span<uint> marks = stackalloc uint[DeferredDisjointKernels.MarkGroups]; // per group: deferred lanes, then undecided lanes
            int vectorEnd = n / (2 * group) * (2 * group), span = group * DeferredDisjointKernels.MarkGroups;
            Span<int> late = stackalloc int[2 * span]; // (2, span) positions of the block's deferred, then undecided elements
            uint all = (1u << group) - 1;
            for (int c0 = 0; c0 < vectorEnd; c0 += span)
            {
                int end = Math.Min(c0 + span, vectorEnd);
                balance += group == 16
                    ? DeferredDisjointKernels.Block512(tasks, theta0, w, low, high, mean, lambda, output, c0, end, marks, above)
                    : DeferredDisjointKernels.Block256(tasks, theta0, w, low, high, mean, lambda, output, c0, end, marks, above);
                int d = 0, u = span;
                for (int g = 0; g < (end - c0) / group; g++)
                {
                    uint mark = marks[g];
                    for (uint lanes = (mark | mark >> group) & all; lanes != 0; lanes &= lanes - 1)
                    {
                        int lane = BitOperations.TrailingZeroCount(lanes);
                        if ((mark >> lane & 1) != 0) late[d++] = c0 + group * g + lane;
                        else late[u++] = c0 + group * g + lane;
                    }
                }
                // While the block is in cache: each column gathered on its own, one source and one destination at a time.
                deferred.Keep(tasks, theta0, late[..d]);
                undecided.Keep(tasks, theta0, late[span..u]);
            }
            i = vectorEnd;
        }
        for (; i < n; i++)
        {
            float s = 0;
            bool inBucket = false, anyKept = false;
            for (int t = 0; t < T; t++)
            {
                float v = Coarse(tasks[t][i], low[t], high[t], ref inBucket);
                if (low[t] >= 0 && (BitConverter.SingleToUInt32Bits(tasks[t][i]) & 0x7FFF_FFFFu) > (uint)high[t]) above[t]++;
                anyKept |= v != 0;
                s += w[t] * v;
            }
            float sign = s > 0 ? 1f : s < 0 ? -1f : 1f;
            float num = 0, den = 0;
            for (int t = 0; t < T; t++)
            {
                bool ignored = false;
                float v = Coarse(tasks[t][i], low[t], high[t], ref ignored);
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

    /// <summary>τ trimmed by its task's interval [low, high] of magnitude bits (low −1: kept whole); flags a non-zero τ inside it.</summary>
    private static float Coarse(float tau, int low, int high, ref bool inBucket)
    {
        if (low < 0) return tau;
        uint bits = BitConverter.SingleToUInt32Bits(tau) & 0x7FFF_FFFFu;
        inBucket |= bits >= (uint)low && bits <= (uint)high && bits != 0;
        return bits > (uint)high ? tau : 0f;
    }

    internal void Keep(float[][] tasks, ReadOnlySpan<float> theta0, int i) => Keep(tasks, theta0, [i]);

    /// <summary>Keeps the elements at <paramref name="positions"/> (ascending, after those kept so far).</summary>
    internal void Keep(float[][] tasks, ReadOnlySpan<float> theta0, ReadOnlySpan<int> positions)
    {
        int k = positions.Length;
        if (k == 0) return;
        if (Count + k > _positions.Length)
        {
            int grown = Math.Max(Math.Max(16, 2 * _positions.Length), Count + k);
            Array.Resize(ref _positions, grown);
            for (int c = 0; c <= Tasks; c++) Array.Resize(ref _columns[c], grown);
        }
        positions.CopyTo(_positions.AsSpan(Count));
        for (int c = 0; c <= Tasks; c++)
        {
            ReadOnlySpan<float> from = c < Tasks ? tasks[c] : theta0;
            var to = _columns[c].AsSpan(Count, k);
            for (int j = 0; j < k; j++) to[j] = from[positions[j]];
        }
        Count += k;
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
