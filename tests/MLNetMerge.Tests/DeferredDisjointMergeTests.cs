using MLNetMerge.Merging.Methods;

namespace MLNetMerge.Tests;

/// <summary>
/// The deferring TIES kernel: at 512 bits, 256 bits and scalar it writes the same values and keeps the same elements;
/// every element it settles equals the exact-threshold merge (<see cref="TaskVectorKernels.DisjointMerge"/>, then
/// θ0 + λ·τm), it keeps exactly the elements with a non-zero τ in its task's key interval (one bucket, or several) or an
/// exact tie of the sign sum, and it counts per task the τ above the interval.
/// </summary>
[TestClass]
public sealed class DeferredDisjointMergeTests
{
    [TestMethod]
    [DataRow(7, 1, 0)]      // scalar tail only
    [DataRow(83, 3, 0)]     // one 32-element block and a tail
    [DataRow(2085, 8, 0)]   // more than one block of marks (256 groups of 8 = 2048 elements) and a tail
    [DataRow(4096, 5, 0)]   // exact blocks at 256 and 512 bits
    [DataRow(2085, 8, 2)]   // intervals of five buckets around each threshold's
    [DataRow(83, 3, 40)]    // intervals reaching key 0
    [DataRow(2085, 8, -1)]  // intervals inside one bucket (the sampled case)
    public void EveryWidthGivesTheSameValuesAndKeepsTheSameElements(int n, int tasks, int spread)
    {
        var rng = new Random(n * 31 + tasks);
        var tau = Enumerable.Range(0, tasks).Select(_ => new float[n]).ToArray();
        var theta0 = new float[n];
        for (int i = 0; i < n; i++)
        {
            theta0[i] = (float)(rng.NextDouble() - 0.5);
            for (int t = 0; t < tasks; t++)
            {
                double u = rng.NextDouble();
                tau[t][i] = u < 0.1 ? 0f : (float)((rng.NextDouble() - 0.5) * (u < 0.2 ? 1e-3 : 0.1));
            }
            if (tasks >= 2 && i % 13 == 0)
            {
                // An exact tie of the sign sum: τ1 = −τ0, both kept (large), nothing else kept, equal weights.
                tau[0][i] = 0.09f;
                tau[1][i] = -0.09f;
                for (int t = 2; t < tasks; t++) tau[t][i] = 0f;
            }
        }
        var w = Enumerable.Range(0, tasks).Select(t => t == 2 ? -0.5f : t < 2 ? 1f : 1f + 0.25f * t).ToArray();
        // Thresholds: task 0 keeps everything (bucket −1), the others a value near the middle of their magnitudes.
        var thresholds = new float[tasks];
        var low = new int[tasks];
        var high = new int[tasks];
        for (int t = 0; t < tasks; t++)
        {
            thresholds[t] = t == 0 ? 0f : MLNetMerge.Tensors.MagnitudeHistogram.KthLargest(tau[t], n / 3 + 1);
            int bucket = t == 0 ? -1 : (int)((BitConverter.SingleToUInt32Bits(thresholds[t]) & 0x7FFF_FFFFu) >> 16);
            int bits = (int)(BitConverter.SingleToUInt32Bits(thresholds[t]) & 0x7FFF_FFFFu);
            low[t] = t == 0 ? -1 : spread < 0 ? Math.Max(0, bits - 20000) : Math.Max(0, bucket - spread) << 16; // magnitude bits: whole
            high[t] = t == 0 ? -1 : spread < 0 ? bits + 30000 : (bucket + spread) << 16 | 0xFFFF;            // buckets, or around the threshold
        }
        const float lambda = 0.7f;
        float[]? reference = null;
        int[]? keptReference = null;
        long certainReference = 0;
        long[]? aboveReference = null;
        foreach (int bits in new[] { 512, 256, 0 })
        {
            var output = new float[n];
            var (deferred, undecided) = DeferredDisjointMerge.Merge(tau, theta0, w, low, high, n, mean: true, lambda, output, bits);
            var keptPositions = deferred.Positions.ToArray().Concat(undecided.Positions.ToArray().Select(p => -1 - p)).ToArray();
            if (reference is null)
            {
                reference = output;
                keptReference = keptPositions;
                certainReference = deferred.Certain;
                aboveReference = deferred.Above;
                long certain = 0;
                var above = new long[tasks];
                // Settled elements equal the exact merge; the kept ones are exactly those the rule names.
                var exact = new float[n];
                TaskVectorKernels.DisjointMerge(tau, w, thresholds, n, 1f, true, exact);
                var kept = new HashSet<int>(deferred.Positions.ToArray().Concat(undecided.Positions.ToArray()));
                for (int i = 0; i < n; i++)
                {
                    bool inBucket = false, anyKept = false;
                    float s = 0;
                    for (int t = 0; t < tasks; t++)
                    {
                        uint b = BitConverter.SingleToUInt32Bits(tau[t][i]) & 0x7FFF_FFFFu;
                        inBucket |= low[t] >= 0 && b >= (uint)low[t] && b <= (uint)high[t] && b != 0;
                        if (low[t] >= 0 && b > (uint)high[t]) above[t]++;
                        float v = TaskVectorKernels.Trimmed(tau[t][i], thresholds[t]);
                        anyKept |= v != 0;
                        s += w[t] * v;
                    }
                    bool expectKept = inBucket || (s == 0 && anyKept);
                    Assert.AreEqual(expectKept, kept.Contains(i), $"element {i}");
                    if (!expectKept) Assert.AreEqual(exact[i] * lambda + theta0[i], output[i], $"element {i}");
                    if (!inBucket) certain += s > 0 ? 1 : s < 0 ? -1 : 0;
                }
                Assert.AreEqual(certain, deferred.Certain, "Σ sign(s) of the settled elements");
                CollectionAssert.AreEqual(above, deferred.Above, "τ above each interval");
                if (tasks >= 2)
                {
                    Assert.IsTrue(deferred.Count > 0, "some τ fall in a bucket");
                    Assert.IsTrue(undecided.Count > 0, "some sign sums tie");
                }
                continue;
            }
            CollectionAssert.AreEqual(reference, output, $"{bits}-bit values");
            CollectionAssert.AreEqual(keptReference, keptPositions, $"{bits}-bit kept elements");
            Assert.AreEqual(certainReference, deferred.Certain, $"{bits}-bit Σ sign(s)");
            CollectionAssert.AreEqual(aboveReference, deferred.Above, $"{bits}-bit counts above");
        }
    }
}
