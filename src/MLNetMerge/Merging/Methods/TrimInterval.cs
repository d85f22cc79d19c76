using MLNetMerge.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// The interval of magnitude bits <c>bits(|τ|)</c> that holds a task's global trim threshold, before the threshold itself
/// is known, and the threshold once the merge pass has kept every non-zero τ inside it (<see cref="DeferredDisjointMerge"/>).
/// From a full first pass the interval is the threshold's radix-select bucket (one value of the upper 16 bits); from a
/// sample (<see cref="SampleEvery"/>) it runs from the sample's quantile <c>q + δ</c> up to its quantile <c>q − δ</c>
/// (each placed within its bucket by <see cref="MagnitudeHistogram.EstimateBits"/>), <c>q = rank / N</c>, with δ the larger
/// of <c>6·√(q(1 − q)/n) + 0.0005</c> (six standard errors for n independent magnitudes) and three times the standard error
/// that the spread of groups of the sampled runs gives (<see cref="SampleSpread"/>: runs of neighbouring elements can be
/// alike). Whether the threshold really lies inside is checked exactly after the merge pass, from the count of τ above
/// the interval and the kept values; where it does not, the run falls back to the exact passes.
/// </summary>
internal static class TrimInterval
{
    /// <summary>The sampled first pass reads one element in this many: a run of 1/16 of each slice, at a spot fixed by the slice's index.</summary>
    internal static int SampleEvery => SampleEveryOverride.Value ?? 16;

    /// <summary>Replaces <see cref="SampleEvery"/> for runs begun in this async flow (tests: 1 reads everything, as without slices).</summary>
    internal static readonly AsyncLocal<int?> SampleEveryOverride = new();

    /// <summary>Replaces the sample margin δ for runs begun in this async flow (tests: 0 puts the interval on the estimate alone, 1 covers everything).</summary>
    internal static readonly AsyncLocal<double?> MarginOverride = new();

    /// <summary>
    /// The share of the kept elements' memory limit that a sampled estimate of their bytes may take for the merge pass to
    /// keep them: the estimate can fall short, and a merge pass that runs out of room falls back to the exact passes.
    /// </summary>
    internal static double SampledBoundShare => BoundShareOverride.Value ?? 0.75;

    /// <summary>Replaces <see cref="SampledBoundShare"/> for runs begun in this async flow (tests).</summary>
    internal static readonly AsyncLocal<double?> BoundShareOverride = new();

    /// <summary>Standard errors of the sampled quantile the interval spans on either side, for independent draws.</summary>
    private const double Deviations = 6;

    /// <summary>The same from the groups' spread: three of them. The 8 groups leave the error itself uncertain (a Student t
    /// with 7 degrees of freedom passes 3 in 2 % of cases), but the groups overstate it for a sample that takes a run from
    /// every block (their spread includes block-to-block differences the whole sample averages over), and the
    /// independent-draw margin stays the floor.</summary>
    private const double GroupDeviations = 3;

    /// <summary>δ for <paramref name="n"/> independent sampled magnitudes and the kept fraction <paramref name="q"/>.</summary>
    internal static double Margin(double q, long n) => MarginOverride.Value ?? Deviations * Math.Sqrt(q * (1 - q) / Math.Max(1, n)) + 0.0005;

    /// <summary>
    /// The interval [Low, High] of magnitude bits around the <paramref name="rank"/>-th largest of <paramref name="total"/>
    /// magnitudes, estimated from the pass-1 counts of a sample of them (<see cref="MagnitudeHistogram.EstimateBits"/>), and
    /// the number of the total it should hold.
    /// </summary>
    internal static (int Low, int High, long Inside) Estimate(MagnitudeHistogram sample, long rank, long total, SampleSpread? spread = null, int task = 0)
    {
        long n = sample.Count;
        if (n == 0) return (0, int.MaxValue, total);
        double q = (double)rank / total, delta = Margin(q, n);
        if (spread is not null && MarginOverride.Value is null)
            delta = Math.Max(delta, GroupDeviations * spread.StandardError(task, sample.EstimateBits(Math.Clamp((long)Math.Round(q * n), 1, n))));
        long upper = (long)Math.Floor((q - delta) * n), lower = (long)Math.Ceiling((q + delta) * n);
        int high = upper < 1 ? int.MaxValue : (int)sample.EstimateBits(Math.Min(upper, n));
        int low = lower > n ? 0 : (int)sample.EstimateBits(Math.Max(lower, 1));
        if (low < 0x10000) low = 0; // bucket 0 holds the zeros, which pile up at 0 rather than spread over it
        long inside = (long)Math.Ceiling((double)(Math.Min(lower, n) - Math.Clamp(upper, 0, n)) * total / n);
        return (low, Math.Max(low, high), Math.Max(0, inside));
    }

    /// <summary>
    /// The exact <paramref name="rank"/>-th largest of task <paramref name="task"/>'s <paramref name="total"/> magnitudes, given
    /// the number <paramref name="above"/> whose key lies above [<paramref name="low"/>, <paramref name="high"/>] and the kept
    /// elements' columns, which hold every non-zero τ inside it; NaN when the threshold is not inside the interval.
    /// </summary>
    internal static float Threshold(IReadOnlyList<DeferredDisjointMerge> kept, int task, int low, int high, long rank, long above, long total)
    {
        long range = (long)high - low;
        return range < CountedRange ? ThresholdByCounts(kept, task, low, (int)range, rank, above, total)
            : ThresholdByGathering(kept, task, low, high, rank, above, total);
    }

    /// <summary>Intervals narrower than this many bit patterns are resolved by one count per pattern.</summary>
    private const int CountedRange = 1 << 20;

    /// <summary>A narrow interval: a count per bit pattern inside it, walked down from the top.</summary>
    private static float ThresholdByCounts(IReadOnlyList<DeferredDisjointMerge> kept, int task, int low, int range, long rank, long above, long total)
    {
        var counts = new int[range + 1]; // (range + 1) non-zero |τ| with bits(|τ|) = low + i
        long inside = 0;
        foreach (var k in kept)
            foreach (float v in k.Task(task))
            {
                uint bits = BitConverter.SingleToUInt32Bits(v) & 0x7FFF_FFFFu, i = bits - (uint)low;
                if (i <= (uint)range && bits != 0)
                {
                    counts[i]++;
                    inside++;
                }
            }
        long zeros = low == 0 ? total - above - inside : 0; // with low 0 nothing lies below: the rest are zeros
        if (rank <= above || rank > above + inside + zeros) return float.NaN;
        long seen = above;
        for (int i = range; i > 0; i--)
            if ((seen += counts[i]) >= rank) return BitConverter.UInt32BitsToSingle((uint)(low + i));
        return BitConverter.UInt32BitsToSingle((uint)low); // the rank is among pattern low (or, with low 0, the zeros)
    }

    /// <summary>A wide interval: the values inside gathered and selected.</summary>
    private static float ThresholdByGathering(IReadOnlyList<DeferredDisjointMerge> kept, int task, int low, int high, long rank, long above, long total)
    {
        long count = 0;
        foreach (var k in kept) count += k.Count;
        var values = new float[count + 1]; // (count + 1) the values inside, gathered without a branch: each one written, kept by advancing
        long inside = 0;
        foreach (var k in kept)
            foreach (float v in k.Task(task))
            {
                values[inside] = v;
                inside += Inside(v, low, high) ? 1 : 0;
            }
        long zeros = low == 0 ? total - above - inside : 0;
        if (rank <= above || rank > above + inside + zeros) return float.NaN;
        return MagnitudeHistogram.KthLargest(values.AsSpan(0, checked((int)inside)), rank - above, zeros);
    }

    private static bool Inside(float v, int low, int high)
    {
        uint bits = BitConverter.SingleToUInt32Bits(v) & 0x7FFF_FFFFu;
        return bits != 0 && bits >= (uint)low && bits <= (uint)high;
    }
}
