using MLNetMerge.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// The global order statistics of PCB merging (<see cref="PcbRun"/>): per task, the two clip bounds of |τt| and the score
/// threshold, each an exact radix select (<see cref="MagnitudeHistogram"/>: a coarse pass, then a fine pass within the
/// chosen bucket), counted by every worker thread in histograms of its own and summed after the pass (integer counts: the
/// result does not depend on the threads' order). Scores are signed: the threshold is selected among the positive parts
/// <c>max(p, 0)</c> when at least its rank of scores is positive, else among <c>max(−p, 0)</c>.
/// </summary>
internal sealed class PcbSelection(int tasks) : IDisposable
{
    private ThreadLocal<Counts> _local = NewLocal(tasks, null, null);
    private MagnitudeHistogram?[]? _first, _second; // (T) summed histograms whose fine pass is next: low clip / score, high clip
    private long[] _positive = new long[tasks];
    private float[] _top = Enumerable.Repeat(float.NegativeInfinity, tasks).ToArray();

    /// <summary>One thread's counts for the current pass.</summary>
    internal sealed class Counts
    {
        public required MagnitudeHistogram?[] First { get; init; }   // (T) coarse counts, or the fine counts of _first
        public required MagnitudeHistogram?[] Second { get; init; }  // (T) the fine counts of _second
        public long[] Positive { get; init; } = [];                  // (T) scores > 0
        public float[] Top { get; init; } = [];                      // (T) largest score

        /// <summary>Counts τ of a task: pass 0 coarse, pass 1 fine for both clip bounds.</summary>
        public void AddMagnitudes(int pass, int task, ReadOnlySpan<float> tau)
        {
            if (pass == 0) { First[task]!.AddCoarse(tau); return; }
            First[task]!.AddFine(tau);
            Second[task]!.AddFine(tau);
        }

        /// <summary>
        /// Counts scores of a task: pass 2 the positive parts coarse (with the positive count and the largest score); pass
        /// 3 the positive parts fine, or for a negative task <c>max(−p, 0)</c> coarse; pass 4 <c>max(−p, 0)</c> fine.
        /// </summary>
        public void AddScores(int pass, int task, ReadOnlySpan<float> score, bool negative)
        {
            if (pass == 2)
            {
                Positive[task] += PcbKernels.CountPositive(score);
                if (score.Length > 0) Top[task] = Math.Max(Top[task], System.Numerics.Tensors.TensorPrimitives.Max(score));
            }
            bool negated = pass == 4 || (pass == 3 && negative);
            bool coarse = pass == 2 || (pass == 3 && negative);
            Span<float> part = stackalloc float[1024];
            for (int i = 0; i < score.Length; i += part.Length)
            {
                int m = Math.Min(part.Length, score.Length - i);
                PcbKernels.PositivePart(score.Slice(i, m), negated ? -1f : 1f, part[..m]);
                if (coarse) First[task]!.AddCoarse(part[..m]);
                else First[task]!.AddFine(part[..m]);
            }
        }
    }

    /// <summary>The calling thread's counts.</summary>
    public Counts Local => _local.Value!;

    private static ThreadLocal<Counts> NewLocal(int tasks, MagnitudeHistogram?[]? first, MagnitudeHistogram?[]? second) => new(() => new Counts
    {
        First = Enumerable.Range(0, tasks).Select(t => Histogram(first?[t])).ToArray(),
        Second = Enumerable.Range(0, tasks).Select(t => second is null ? null : Histogram(second[t])).ToArray(),
        Positive = new long[tasks],
        Top = Enumerable.Repeat(float.NegativeInfinity, tasks).ToArray(),
    }, trackAllValues: true);

    /// <summary>A fresh histogram: for coarse counts (no summed one given), or for fine counts in the summed one's bucket.</summary>
    private static MagnitudeHistogram? Histogram(MagnitudeHistogram? summed)
    {
        var h = new MagnitudeHistogram();
        if (summed is not null) h.UseBucket(summed.Bucket);
        return h;
    }

    /// <summary>Largest score of a task (after the score pass).</summary>
    public float Top(int task) => _top[task];

    /// <summary>Positive scores of a task (after the score pass).</summary>
    public long Positive(int task) => _positive[task];

    /// <summary>After the first pass: sums the |τ| counts and chooses each bound's bucket (ranks from the top).</summary>
    public void ResolveCoarseMagnitudes(long[] lowRank, long[] highRank)
    {
        var summed = SumCoarse(Enumerable.Repeat(true, tasks).ToArray());
        _first = new MagnitudeHistogram?[tasks];
        _second = new MagnitudeHistogram?[tasks];
        for (int t = 0; t < tasks; t++)
        {
            var low = summed[t]!;
            var high = new MagnitudeHistogram();
            high.MergeCoarse(low);
            low.ResolveCoarse(lowRank[t]);
            high.ResolveCoarse(highRank[t]);
            (_first[t], _second[t]) = (low, high);
        }
        _local = NewLocal(tasks, _first, _second);
    }

    /// <summary>After the second pass: the clip bounds.</summary>
    public void ResolveMagnitudes(float[] low, float[] high)
    {
        var all = _local.Values;
        for (int t = 0; t < tasks; t++)
        {
            foreach (var c in all) { _first![t]!.MergeFine(c.First[t]!); _second![t]!.MergeFine(c.Second[t]!); }
            low[t] = _first![t]!.Resolve();
            high[t] = _second![t]!.Resolve();
        }
        _local.Dispose();
        _local = NewLocal(tasks, null, null);
    }

    /// <summary>After the score pass, first: sums the threads' positive counts and largest scores (<see cref="Positive"/>, <see cref="Top"/>).</summary>
    public void SumScoreCounts()
    {
        foreach (var c in _local.Values)
            for (int t = 0; t < tasks; t++) { _positive[t] += c.Positive[t]; _top[t] = Math.Max(_top[t], c.Top[t]); }
    }

    /// <summary>
    /// After the score pass, then: each task's bucket of the positive parts at <paramref name="rank"/>, or, for a task in
    /// <paramref name="negative"/>, nothing yet (its next pass counts −p coarse).
    /// </summary>
    public void ResolveCoarseScores(long[] rank, bool[] negative)
    {
        var summed = SumCoarse(Enumerable.Range(0, tasks).Select(t => rank[t] > 0 && !negative[t]).ToArray());
        _first = new MagnitudeHistogram?[tasks];
        for (int t = 0; t < tasks; t++)
        {
            if (summed[t] is null) continue;
            summed[t]!.ResolveCoarse(rank[t]);
            _first[t] = summed[t]!;
        }
        _local = NewLocal(tasks, _first, null);
    }

    /// <summary>
    /// After the pass that follows the score pass: the thresholds of the positive tasks (the bucket's value of the positive
    /// parts), and the buckets of the negative tasks, whose coarse counts of <c>max(−p, 0)</c> came in this pass, at rank
    /// d − r + 1 (the ascending (d − r)-th score is minus that value).
    /// </summary>
    public void ResolvePositiveScores(float[] threshold, long[] rank, bool[] negative, long elements)
    {
        var all = _local.Values;
        for (int t = 0; t < tasks; t++)
        {
            if (rank[t] == 0 || negative[t]) continue;
            foreach (var c in all) _first![t]!.MergeFine(c.First[t]!);
            threshold[t] = _first![t]!.Resolve();
        }
        var summed = SumCoarse(Enumerable.Range(0, tasks).Select(t => rank[t] > 0 && negative[t]).ToArray());
        _first = new MagnitudeHistogram?[tasks];
        for (int t = 0; t < tasks; t++)
        {
            if (summed[t] is null) continue;
            summed[t]!.ResolveCoarse(elements - rank[t] + 1);
            _first[t] = summed[t]!;
        }
        _local = NewLocal(tasks, _first, null);
    }

    /// <summary>After the last pass: the thresholds of the negative tasks.</summary>
    public void ResolveNegativeScores(float[] threshold, long[] rank, bool[] negative)
    {
        var all = _local.Values;
        for (int t = 0; t < tasks; t++)
        {
            if (rank[t] == 0 || !negative[t]) continue;
            foreach (var c in all) _first![t]!.MergeFine(c.First[t]!);
            threshold[t] = -_first![t]!.Resolve();
        }
    }

    /// <summary>Sums the threads' coarse counts of the tasks in <paramref name="which"/> (null for the others) and ends the pass's counts.</summary>
    private MagnitudeHistogram?[] SumCoarse(bool[] which)
    {
        var summed = new MagnitudeHistogram?[tasks];
        var all = _local.Values;
        for (int t = 0; t < tasks; t++)
        {
            if (!which[t]) continue;
            summed[t] = new MagnitudeHistogram();
            foreach (var c in all) summed[t]!.MergeCoarse(c.First[t]!);
        }
        _local.Dispose();
        return summed;
    }

    /// <inheritdoc />
    public void Dispose() => _local.Dispose();
}
