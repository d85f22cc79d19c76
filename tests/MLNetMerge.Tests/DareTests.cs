using System.Runtime.InteropServices;
using MLNetMerge.Merging;
using MLNetMerge.Tensors;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

[TestClass]
public sealed class DareTests
{
    [TestMethod]
    public void DropFractionWithinBinomialConfidenceInterval()
    {
        // One task, τ = 1 on 100 000 elements, θ0 = 0, drop p = 0.3, merge: ta with λ = 1.
        // Survivors become τ/(1 − p) = 1/0.7; dropped ones stay at θ0 = 0.
        // Dropped count ~ Binomial(n = 100 000, p = 0.3): mean 30 000, sd = √(n p (1−p)) = √21 000 ≈ 144.9;
        // the two-sided 99.9 % interval is mean ± 3.2905·sd ≈ 30 000 ± 476.8.
        const int n = 100_000;
        const double p = 0.3;
        var f = new TinyFamily("t1").WithTaskVectors("w", [n], new float[n], Enumerable.Repeat(1f, n).ToArray());
        var m = Run(f, "dare", P(("drop", p), ("scale", 1.0)), options: new MergeExecutionOptions { MaxThreads = 1, Seed = 7 });
        var w = m.Tensors["w"];
        float survivor = 1f * (float)(1.0 / (1.0 - p));
        int dropped = 0;
        for (int i = 0; i < n; i++)
        {
            if (w[i] == 0f) dropped++;
            else Assert.AreEqual(survivor, w[i], 1e-6f, $"survivor {i}");
        }
        double sd = Math.Sqrt(n * p * (1 - p));
        Assert.IsTrue(Math.Abs(dropped - n * p) <= 3.2905 * sd, $"dropped {dropped} of {n}; expected {n * p} ± {3.2905 * sd:F1}");
    }

    [TestMethod]
    public void DropOnlyKeepsSurvivorValues()
    {
        // rescale: false → survivors keep τ; every output is θ0 or θ0 + τ, with about half of each at p = 0.5.
        const int n = 4096;
        var tau = Random(n, 3);
        var f = new TinyFamily("t1").WithTaskVectors("w", [n], new float[n], tau);
        var m = Run(f, "dare", P(("drop", 0.5), ("rescale", false), ("scale", 1.0)));
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            var v = m.Tensors["w"][i];
            Assert.IsTrue(v == 0f || v == tau[i], $"element {i}: {v} is neither 0 nor τ = {tau[i]}");
            if (v != 0f) kept++;
        }
        // Binomial(4096, 0.5): sd = 32, 99.9 % interval ± 105.
        Assert.IsTrue(Math.Abs(kept - n / 2) <= 105, $"kept {kept} of {n}");
    }

    [TestMethod]
    public void MaskFollowsCounterDraws()
    {
        // The documented draw for element i of task t in tensor w: RandomStreams.Uniform(Key(seed, "dare.drop", t, "w"), i) < p drops it.
        // Two tasks, merge: average (mean of the dropped, rescaled vectors, λ = 1): θ = θ0 + (δ1 + δ2)/2.
        const int n = 64;
        const double p = 0.5;
        var theta0 = Random(n, 21);
        var tau1 = Random(n, 22);
        var tau2 = Random(n, 23);
        var f = new TinyFamily("t1", "t2").WithTaskVectors("w", [n], theta0, tau1, tau2);
        var m = Run(f, "dare", P(("drop", p), ("merge", "average")), options: new MergeExecutionOptions { MaxThreads = 1, Seed = 99 });
        var theta1 = theta0.Zip(tau1, (a, b) => a + b).ToArray();
        var theta2 = theta0.Zip(tau2, (a, b) => a + b).ToArray();
        var expected = new float[n];
        ulong k1 = RandomStreams.Key(99, "dare.drop", 0, "w"), k2 = RandomStreams.Key(99, "dare.drop", 1, "w");
        for (int i = 0; i < n; i++)
        {
            float d1 = RandomStreams.Uniform(k1, i) < (float)p ? 0f : (theta1[i] - theta0[i]) * 2f;
            float d2 = RandomStreams.Uniform(k2, i) < (float)p ? 0f : (theta2[i] - theta0[i]) * 2f;
            expected[i] = theta0[i] + (d1 + d2) / 2f;
        }
        AssertClose(expected, m.Tensors["w"], 1e-6);
    }

    [TestMethod]
    public void DropZeroOverTaIsTaskArithmetic()
    {
        // drop 0 changes nothing; merge: ta with the default λ 0.3 equals task arithmetic's default.
        var f = new TinyFamily("t1", "t2").WithWeights("w", [16], Random(16, 1), Random(16, 2), Random(16, 3));
        AssertClose(Run(f, "task_arithmetic").Tensors["w"], Run(f, "dare", P(("drop", 0.0))).Tensors["w"], 1e-6);
    }

    [TestMethod]
    public void DropOneLeavesTheBase()
    {
        var theta0 = Random(16, 1);
        var f = new TinyFamily("t1", "t2").WithWeights("w", [16], theta0, Random(16, 2), Random(16, 3));
        AssertClose(theta0, Run(f, "dare", P(("drop", 1.0), ("scale", 1.0))).Tensors["w"], 0);
    }

    [TestMethod]
    public void DareTiesWithoutDropIsSignElectionWithoutTrim()
    {
        // mergekit's dare_ties, drop 0: no random drop and (keep not set) no magnitude trim; sign election + disjoint mean,
        // λ = 1. τ1 = [1, −2, 3, 0.5], τ2 = [−3, 1, 1, −0.5]: sums [−2, −1, 4, 0] → γ = [−, −, +, majority];
        // majority = sign(−1 −1 +1 + 0) = −1. Means: [−3, −2, (3 + 1)/2 = 2, −0.5].
        var f = new TinyFamily("t1", "t2").WithTaskVectors("w", [4], [0f, 0f, 0f, 0f], [1f, -2f, 3f, 0.5f], [-3f, 1f, 1f, -0.5f]);
        var (method, implied) = MergeMethods.Find("dare_ties");
        Assert.AreEqual("dare", method.Name);
        Assert.AreEqual("ties", implied["merge"]);
        var m = Run(f, "dare", P(("drop", 0.0), ("merge", "ties")));
        AssertClose([-3f, -2f, 2f, -0.5f], m.Tensors["w"], 0);
    }

    [TestMethod]
    public void DareTiesWithKeepAddsTheMagnitudeTrim()
    {
        // keep < 1 with merge: ties adds TIES's global trim after the (here empty) drop: the same as TIES itself.
        var f = new TinyFamily("t1", "t2", "t3").WithWeights("w", [6, 4], Random(24, 1), Random(24, 2), Random(24, 3), Random(24, 4))
            .WithWeights("v", [9], Random(9, 5), Random(9, 6), Random(9, 7), Random(9, 8));
        var dare = Run(f, "dare", P(("drop", 0.0), ("merge", "ties"), ("keep", 0.4)));
        var ties = Run(f, "ties", P(("keep", 0.4)));
        foreach (var name in new[] { "w", "v" }) AssertClose(ties.Tensors[name], dare.Tensors[name], 0, name);
        Assert.AreEqual(ties.Summary.Notes["trim_thresholds"], dare.Summary.Notes["trim_thresholds"]);
    }

    [TestMethod]
    public void DensityAliasIsOneMinusDrop()
    {
        var parameters = Parameters("dare", 1, P(("density", 0.25)));
        Assert.AreEqual(0.75, parameters.Number("drop", 0), 1e-12);
    }

    private static TinyFamily ThreadFamily()
    {
        // Six tensors of different sizes so two workers interleave them; three tasks.
        var f = new TinyFamily("t1", "t2", "t3");
        for (int k = 0; k < 6; k++)
        {
            int n = 3000 + 517 * k;
            f.WithWeights($"layers.{k}.w", [n], Random(n, (ulong)(10 * k)), Random(n, (ulong)(10 * k + 1)), Random(n, (ulong)(10 * k + 2)), Random(n, (ulong)(10 * k + 3)));
        }
        return f;
    }

    private static byte[] Bytes(MergedModel m) =>
        m.Tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => MemoryMarshal.AsBytes(kv.Value.AsSpan()).ToArray()).ToArray();

    [TestMethod]
    [DataRow("ta")]
    [DataRow("average")]
    [DataRow("ties")]
    public void ByteIdenticalWithOneAndTwoThreads(string merge)
    {
        var f = ThreadFamily();
        var global = P(("drop", 0.6), ("merge", merge));
        if (merge == "ties") global["keep"] = Value(0.5); // adds the global trim passes
        var one = Run(f, "dare", global, options: new MergeExecutionOptions { MaxThreads = 1, Seed = 5 });
        var two = Run(f, "dare", global, options: new MergeExecutionOptions { MaxThreads = 2, Seed = 5 });
        CollectionAssert.AreEqual(Bytes(one), Bytes(two));
    }

    [TestMethod]
    public void SeedChangesTheOutput()
    {
        var f = ThreadFamily();
        var a = Run(f, "dare", P(("drop", 0.5)), options: new MergeExecutionOptions { MaxThreads = 2, Seed = 1 });
        var b = Run(f, "dare", P(("drop", 0.5)), options: new MergeExecutionOptions { MaxThreads = 2, Seed = 2 });
        var c = Run(f, "dare", P(("drop", 0.5)), options: new MergeExecutionOptions { MaxThreads = 2, Seed = 1 });
        CollectionAssert.AreNotEqual(Bytes(a), Bytes(b));
        CollectionAssert.AreEqual(Bytes(a), Bytes(c));
    }

    [TestMethod]
    public void TasksDrawIndependentMasks()
    {
        // τ1 = τ2 = 1, drop 0.5, drop only, merge: ta, λ = 1: identical masks would give only 0 or 2;
        // independent masks give 1 in about half of the elements.
        const int n = 2000;
        var ones = Enumerable.Repeat(1f, n).ToArray();
        var f = new TinyFamily("t1", "t2").WithTaskVectors("w", [n], new float[n], ones, ones);
        var m = Run(f, "dare", P(("drop", 0.5), ("rescale", false), ("scale", 1.0)));
        int single = m.Tensors["w"].Count(v => v == 1f);
        Assert.IsTrue(single > n / 4, $"only {single} of {n} elements kept by exactly one task");
    }
}
