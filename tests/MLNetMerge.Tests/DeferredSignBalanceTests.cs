using MLNetMerge.Merging.Methods;
using MLNetMerge.Tensors;

namespace MLNetMerge.Tests;

/// <summary>
/// TIES's majority-sign count taken before the trim thresholds are exact (<see cref="DeferredSignBalance"/>) must equal
/// the count over the trimmed values (<see cref="TaskVectorKernels.SignBalance"/>) once they are.
/// </summary>
[TestClass]
public sealed class DeferredSignBalanceTests
{
    private static int Bucket(float threshold) => threshold <= 0 ? -1 : (int)(BitConverter.SingleToUInt32Bits(threshold) >> 16);

    // w = (1, 1), thresholds 0.5 (bucket 0x3F00) and 1 (bucket 0x3F80).
    //   element 0: τ = ( 1,   −1  ): τ1 = −1 is in its bucket → deferred; exact: 1 − 1 = 0 → 0
    //   element 1: τ = (−2,    1  ): τ1 = 1 in its bucket → deferred; exact: −2 + 1 = −1 → −1
    //   element 2: τ = ( 0.5,  0.5): τ0 = 0.5 in its bucket → deferred; exact: 0.5 + 0 (0.5 < 1) → +1
    //   element 3: τ = ( 3,   −0.25): 3 above bucket 0x3F00 (kept), 0.25 below 0x3F80 (trimmed) → 3 → +1, counted at once
    // total 0 − 1 + 1 + 1 = 1; certain part 1, three deferred.
    [TestMethod]
    public void HandWorkedCountDefersTheElementsInAThresholdBucket()
    {
        float[][] tasks = [[1f, -2f, 0.5f, 3f], [-1f, 1f, 0.5f, -0.25f]];
        float[] w = [1f, 1f], thresholds = [0.5f, 1f];
        var d = new DeferredSignBalance();
        d.Add(tasks, w, [Bucket(0.5f), Bucket(1f)], 4);
        Assert.AreEqual(1L, d.Certain);
        Assert.AreEqual(3L, d.DeferredCount);
        Assert.AreEqual(1L, d.Resolve(thresholds));
        Assert.AreEqual(1L, TaskVectorKernels.SignBalance(tasks, w, thresholds, 4));
    }

    [TestMethod]
    [DataRow(2, 7, 1)]
    [DataRow(3, 1003, 2)]
    [DataRow(8, 4099, 3)]
    [DataRow(5, 64, 4)]
    public void CountEqualsTheCountOverTrimmedValues(int taskCount, int n, int seed)
    {
        var rng = new Random(seed);
        var tasks = new float[taskCount][];
        var w = new float[taskCount];
        var thresholds = new float[taskCount];
        for (int t = 0; t < taskCount; t++)
        {
            var tau = tasks[t] = new float[n];
            for (int i = 0; i < n; i++)
                tau[i] = (rng.Next(10)) switch
                {
                    0 => 0f,
                    1 => -0f,
                    2 => (rng.Next(2) == 0 ? 1 : -1) * 0.25f,                   // ties at the thresholds below
                    _ => (float)((rng.NextDouble() * 2 - 1) * 0.5),
                };
            w[t] = t == 1 ? -0.5f : 1f + t * 0.25f;
            // The threshold is one of the task's own magnitudes (values equal to it, and others in its bucket, exist);
            // task 0 keeps everything (a threshold of 0).
            thresholds[t] = t == 0 ? 0f : t % 2 == 0 ? 0.25f : MathF.Abs(tau[rng.Next(n)]);
        }
        // Exact cancellations: s = 0 with non-zero kept values, and the same with one side in a bucket.
        for (int i = 0; i + 1 < n; i += 11)
        {
            tasks[0][i] = 0.25f;
            tasks[1][i] = 0.5f;  // w1 = −0.5: 0.25 − 0.25 = 0 where τ1 is kept
        }
        if (taskCount > 2) tasks[2][n / 2] = float.NaN;          // deferred (not finite) and trimmed by the exact rule
        var expected = TaskVectorKernels.SignBalance(tasks, w, thresholds, n);

        var buckets = thresholds.Select(Bucket).ToArray();
        // Two halves counted apart and joined, as the executor joins the slices of a tensor.
        int half = n / 2;
        var first = new DeferredSignBalance();
        first.Add(tasks.Select(a => a[..half]).ToArray(), w, buckets, half);
        var second = new DeferredSignBalance();
        second.Add(tasks.Select(a => a[half..]).ToArray(), w, buckets, n - half);
        var joined = first.Absorb(second);
        Assert.IsTrue(joined.DeferredCount > 0 && joined.DeferredCount < n, $"deferred {joined.DeferredCount} of {n}");
        Assert.AreEqual(expected, joined.Resolve(thresholds));
    }

    [TestMethod]
    public void FineCountsMatchTheScalarRuleAcrossVectorTails()
    {
        var rng = new Random(9);
        var values = new float[1021];
        for (int i = 0; i < values.Length; i++) values[i] = (float)((rng.NextDouble() * 2 - 1) * 1e-3);
        foreach (int length in new[] { values.Length, values.Length - 3, 8, 7 })
        {
            var sorted = values.Take(length).Select(MathF.Abs).OrderByDescending(v => v).ToArray();
            for (int rank = 1; rank <= length; rank += Math.Max(1, length / 11))
                Assert.AreEqual(sorted[rank - 1], MagnitudeHistogram.KthLargest(values.AsSpan(0, length), rank), $"rank {rank} of {length}");
        }
    }
}
