using Microsoft.VisualStudio.TestTools.UnitTesting;
using MLNetMerge.Data;

namespace MLNetMerge.Tests;

/// <summary>Class-balanced few-shot sampling, stratified splits and TaskDataset subsets.</summary>
[TestClass]
public sealed class FewShotSamplerTests
{
    // 3 classes: class 0 at indices 0..9, class 1 at 10..14, class 2 at 15..29.
    private static int[] Labels() => [.. Enumerable.Repeat(0, 10), .. Enumerable.Repeat(1, 5), .. Enumerable.Repeat(2, 15)];

    [TestMethod]
    public void SamplesKPerClassWithoutRepeats()
    {
        var y = Labels();
        var idx = FewShotSampler.Sample(y, 3, 4, seed: 7);
        Assert.AreEqual(12, idx.Length);
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 4; i++) Assert.AreEqual(c, y[idx[c * 4 + i]]);
        Assert.AreEqual(12, idx.Distinct().Count());
    }

    [TestMethod]
    public void SameSeedSameSampleOtherSeedOther()
    {
        var y = Labels();
        CollectionAssert.AreEqual(FewShotSampler.Sample(y, 3, 3, 1), FewShotSampler.Sample(y, 3, 3, 1));
        bool anyDiffers = Enumerable.Range(2, 5).Any(s => !FewShotSampler.Sample(y, 3, 3, 1).SequenceEqual(FewShotSampler.Sample(y, 3, 3, (ulong)s)));
        Assert.IsTrue(anyDiffers);
    }

    [TestMethod]
    public void TooFewExamplesIsAnError()
    {
        Assert.ThrowsExactly<ArgumentException>(() => FewShotSampler.Sample(Labels(), 3, 6, 0)); // class 1 has 5
    }

    [TestMethod]
    public void StratifiedSplitIsDisjointCoveringAndProportional()
    {
        var y = Labels();
        var (tr, va, te) = DatasetSplits.Stratified(y, 3, 0.2, 0.4, seed: 3);
        // per class: test round(n·0.4), validation round(n·0.2): class 0 → 4, 2; class 1 → 2, 1; class 2 → 6, 3.
        Assert.AreEqual(12, te.Length);
        Assert.AreEqual(6, va.Length);
        Assert.AreEqual(12, tr.Length);
        var all = tr.Concat(va).Concat(te).OrderBy(i => i).ToArray();
        CollectionAssert.AreEqual(Enumerable.Range(0, 30).ToArray(), all);
        Assert.AreEqual(2, va.Count(i => y[i] == 0));
        Assert.AreEqual(6, te.Count(i => y[i] == 2));
    }

    [TestMethod]
    public void SubsetCopiesFeaturesAndLabels()
    {
        var d = new TaskDataset("t", [1, 2, 3, 4, 5, 6], [2], [0, 1, 1], ["a", "b"]);
        var s = d.Subset([2, 0]);
        CollectionAssert.AreEqual(new float[] { 5, 6, 1, 2 }, s.Features);
        CollectionAssert.AreEqual(new[] { 1, 0 }, s.Labels);
        CollectionAssert.AreEqual(new[] { 1, 2 }, d.ClassCounts());
        Assert.IsFalse(d.WithoutLabels().HasLabels);
        Assert.ThrowsExactly<ArgumentException>(() => new TaskDataset("t", [1, 2, 3], [2], null, ["a"]));
        Assert.ThrowsExactly<ArgumentException>(() => new TaskDataset("t", [1, 2], [2], [2], ["a", "b"]));
    }
}
