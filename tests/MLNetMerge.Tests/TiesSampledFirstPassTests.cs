using System.Runtime.InteropServices;
using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Merging.Methods;
using MLNetMerge.Tensors;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

/// <summary>
/// TIES whose first pass reads a sample (<see cref="TrimInterval"/>): the threshold's interval is estimated from it, the merge
/// pass keeps every τ inside and counts those above, and the threshold follows exactly — the same bits as the three-pass
/// merge. Where the interval misses the threshold, or the merge pass runs out of room for what it keeps, the exact passes
/// follow and the merge runs again, with the same bits. Non-finite inputs outside the sample are still named.
/// </summary>
[TestClass]
public sealed class TiesSampledFirstPassTests
{
    /// <summary>The merge into memory (rewritable) against the three-pass merge: same bytes, thresholds and majority sign.</summary>
    private static HashSet<string> AssertSameBits(TinyFamily f, MergeParameters p, MergeExecutionOptions options)
    {
        using var family = f.Build();
        var (three, _) = TiesMergePassTests.Merge(family, p, options, rewrites: false);
        var (sampled, stages) = TiesMergePassTests.Merge(family, p, options, rewrites: true);
        foreach (var (name, expected) in three.Tensors)
            CollectionAssert.AreEqual(MemoryMarshal.AsBytes(expected.AsSpan()).ToArray(), MemoryMarshal.AsBytes(sampled.Tensors[name].AsSpan()).ToArray(), name);
        Assert.AreEqual(three.Summary.Notes["trim_thresholds"], sampled.Summary.Notes["trim_thresholds"]);
        Assert.AreEqual(three.Summary.Notes["majority_sign"], sampled.Summary.Notes["majority_sign"]);
        return stages.Seen;
    }

    private static readonly MergeParameters Ties4 = Parameters("ties", 4, P(("keep", 0.3)), P(("weight", 0.7)), P(("weight", 0.4)), null, null);

    [TestMethod]
    [DataRow(1, 64)]
    [DataRow(2, 256)]
    public void ReadsTheCheckpointsOnceWithTheSameBits(int threads, int slice)
    {
        var seen = AssertSameBits(TiesMergePassTests.RandomFamily(4, seed: 9), Ties4, new MergeExecutionOptions { MaxThreads = threads, SliceElements = slice });
        CollectionAssert.AreEquivalent(new[] { "pass 1/1", "merge" }, seen.ToArray());
    }

    [TestMethod]
    public void AnIntervalCoveringEverythingKeepsEveryNonZeroElement()
    {
        TrimInterval.MarginOverride.Value = 1; // [0, all]: every non-zero τ inside, the zeros counted as the rest
        try
        {
            var seen = AssertSameBits(TiesMergePassTests.RandomFamily(3, zeroShare: 0.3f, seed: 4), Parameters("ties", 3, P(("keep", 0.5))),
                new MergeExecutionOptions { MaxThreads = 2, SliceElements = 100 });
            CollectionAssert.AreEquivalent(new[] { "pass 1/1", "merge" }, seen.ToArray());
        }
        finally { TrimInterval.MarginOverride.Value = null; }
    }

    [TestMethod]
    [DataRow(-0.2)]  // the interval sits on the estimate of a quantile 0.2 lower: the threshold lies below it
    [DataRow(-0.05)]
    public void AnIntervalMissingTheThresholdFallsBackToTheExactPasses(double margin)
    {
        TrimInterval.MarginOverride.Value = margin;
        try
        {
            var seen = AssertSameBits(TiesMergePassTests.RandomFamily(4, seed: 9), Ties4, new MergeExecutionOptions { MaxThreads = 2, SliceElements = 64 });
            CollectionAssert.AreEquivalent(new[] { "pass 1/1", "merge", "pass 2/3", "pass 3/3", "merge again" }, seen.ToArray());
        }
        finally { TrimInterval.MarginOverride.Value = null; }
    }

    [TestMethod]
    public void AMergePassOutOfRoomFallsBackToTheExactPasses()
    {
        // Any estimate passes, but the room for kept elements is 64 bytes: the merge pass drops them and the exact passes follow.
        TrimInterval.BoundShareOverride.Value = 1e12;
        GeneralizedTaskArithmeticRun.DeferredLimitOverride.Value = 64;
        try
        {
            var seen = AssertSameBits(TiesMergePassTests.RandomFamily(4, seed: 9), Ties4, new MergeExecutionOptions { MaxThreads = 2, SliceElements = 64 });
            // The same room is too small for the fine pass's set-aside elements too: the majority sign gets a pass of its own.
            CollectionAssert.AreEquivalent(new[] { "pass 1/1", "merge", "pass 2/3", "pass 3/3", "pass 4/4", "merge again" }, seen.ToArray());
        }
        finally
        {
            TrimInterval.BoundShareOverride.Value = null;
            GeneralizedTaskArithmeticRun.DeferredLimitOverride.Value = null;
        }
    }

    [TestMethod]
    public void AnEstimateOverTheRoomReadsEverythingOnceBeforeTheMerge()
    {
        TrimInterval.BoundShareOverride.Value = 0; // no estimate fits: a full first pass follows the sample, and the merge finishes the trim
        try
        {
            var seen = AssertSameBits(TiesMergePassTests.RandomFamily(4, seed: 9), Ties4, new MergeExecutionOptions { MaxThreads = 2, SliceElements = 64 });
            CollectionAssert.AreEquivalent(new[] { "pass 1/1", "pass 2/2", "merge" }, seen.ToArray());
        }
        finally { TrimInterval.BoundShareOverride.Value = null; }
    }

    [TestMethod]
    public void NaNOutsideTheSampleIsNamedByTheMergePass()
    {
        // 4096 elements in slices of 4096: the sample reads 256 of them from offset 0 (item 0), so element 4000 is not in it.
        var theta0 = new float[4096];
        var a = Enumerable.Range(0, 4096).Select(i => (i % 7 - 3) * 0.01f).ToArray();
        var b = (float[])a.Clone();
        b[4000] = float.NaN;
        var f = new TinyFamily("t1", "t2").WithWeights("w", [4096], theta0, a, b);
        using var family = f.Build();
        var p = Parameters("ties", 2, P(("keep", 0.5)));
        var e = Assert.ThrowsExactly<NonFiniteTensorException>(() => TiesMergePassTests.Merge(family, p, new MergeExecutionOptions { MaxThreads = 1, SliceElements = 4096 }, rewrites: true));
        Assert.AreEqual("t2.safetensors", e.File);
        StringAssert.Contains(e.Message, "element 4000");
    }

    [TestMethod]
    public void SampledItemsAreProportionalInsideTheirItemsAndFixed()
    {
        var items = new List<MergeWorkItem> { new(0, 0, 65536), new(0, 65536, 1000), new(1, 0, 37), new(2, 0, 15), new(3, 0, 0) };
        var sampled = MergeWorkItem.Sampled(items, 16);
        CollectionAssert.AreEqual(new[] { 4096, 62, 2, 1, 0 }, sampled.Select(s => s.Length).ToArray());
        for (int k = 0; k < items.Count; k++)
        {
            Assert.AreEqual(items[k].Tensor, sampled[k].Tensor);
            Assert.IsTrue(sampled[k].Start >= items[k].Start && sampled[k].Start + sampled[k].Length <= items[k].Start + items[k].Length, $"item {k}");
        }
        Assert.AreEqual(0, (sampled[0].Start - items[0].Start) % 16, "aligned to 16 elements");
        CollectionAssert.AreEqual(sampled, MergeWorkItem.Sampled(items, 16));
    }

    [TestMethod]
    public void TheGroupsSpreadGivesTheRandomGroupStandardError()
    {
        // Group 0: ten values above 0.5, group 1: five above and five below; p = 15/20, SE² = 2 · (100·0.25² + 100·0.25²) / 20² = 0.0625.
        var spread = new SampleSpread(2);
        spread.Add(1, 0, Enumerable.Repeat(1f, 10).ToArray());
        spread.Add(1, 1, Enumerable.Repeat(1f, 5).Concat(Enumerable.Repeat(-0.25f, 5)).ToArray());
        var other = new SampleSpread(2);
        other.Add(0, 3, [1f, 2f]); // another task's counts do not reach task 1
        spread.Absorb(other);
        Assert.AreEqual(0.25, spread.StandardError(1, BitConverter.SingleToUInt32Bits(0.5f)), 1e-12);
        Assert.AreEqual(0.0, spread.StandardError(0, BitConverter.SingleToUInt32Bits(0.5f)), "one group: no spread to measure");
        Assert.AreEqual(SampleSpread.GroupOf("w", 0), SampleSpread.GroupOf("w", 65535), "one 65,536-element block, one group");
        Assert.AreEqual((SampleSpread.GroupOf("w", 0) + 1) % SampleSpread.Groups, SampleSpread.GroupOf("w", 65536), "the next block, the next group");
    }

    [TestMethod]
    public void EstimatedBitsPlaceARankEvenlyWithinItsBucket()
    {
        // 1000 values spread evenly over bucket 0x3F80 (1.0 … just under 1.0078125): the 250th largest sits 3/4 up the bucket.
        var values = Enumerable.Range(0, 1000).Select(i => BitConverter.UInt32BitsToSingle(0x3F80_0000u | (uint)(i * 65))).ToArray();
        var h = new MagnitudeHistogram();
        h.AddCoarse(values);
        Assert.AreEqual(0x3F80_0000u | 49184u, h.EstimateBits(250)); // ⌊(1 − 249.5/1000)·65536⌋
        Assert.AreEqual(0x3F80_0000u | 65503u, h.EstimateBits(1));   // ⌊(1 − 0.5/1000)·65536⌋
        uint exact = BitConverter.SingleToUInt32Bits(MagnitudeHistogram.KthLargest(values, 250));
        Assert.IsTrue(Math.Abs((long)exact - (0x3F80_0000L | 49184)) <= 656, "within 1 % of the bucket");
    }

    [TestMethod]
    public void TheEstimatedIntervalHoldsTheExactThreshold()
    {
        // A sample of one value in 16 of a Gaussian task vector: the interval around the 30 % quantile holds the exact threshold
        // and is a few tenths of a per cent of the elements wide.
        var rng = new Random(17);
        var all = new float[1 << 20];
        for (int i = 0; i < all.Length; i++) all[i] = (float)(0.01 * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        var sample = new MagnitudeHistogram();
        for (int s = 0; s < all.Length; s += 1024) sample.AddCoarse(all.AsSpan(s + (s / 1024 * 37 % 960), 64));
        long rank = Sparsification.ThresholdRank(all.Length, 0.3);
        var (low, high, inside) = TrimInterval.Estimate(sample, rank, all.Length);
        uint exact = BitConverter.SingleToUInt32Bits(MagnitudeHistogram.KthLargest(all, rank));
        Assert.IsTrue(low <= exact && exact <= high, $"{low:X} ≤ {exact:X} ≤ {high:X}");
        long reallyInside = all.Count(v => { uint b = BitConverter.SingleToUInt32Bits(v) & 0x7FFF_FFFFu; return b >= low && b <= high; });
        Assert.IsTrue(reallyInside < all.Length / 20, $"{reallyInside} inside");
        Assert.IsTrue(Math.Abs(reallyInside - inside) < inside / 2 + 100, $"estimate {inside}, really {reallyInside}");
    }
}
