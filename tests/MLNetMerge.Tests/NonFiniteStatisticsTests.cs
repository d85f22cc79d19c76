using MLNetMerge.Merging;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

/// <summary>
/// Under <c>allow_nonfinite</c>, methods whose statistics span elements (a tensor's SVD, norms and angles, ranks, a row's
/// divergence) see a non-finite position as zero: one NaN or infinity no longer spreads over its tensor (an SVD of it was
/// NaN everywhere; an infinite τ zeroed EMR's clean rescalers), and the position itself stays non-finite
/// (docs/nonfinite.md; found by a docs trial).
/// </summary>
[TestClass]
public sealed class NonFiniteStatisticsTests
{
    [TestMethod]
    [DataRow("iso_c")]
    [DataRow("tsv_m")]
    [DataRow("cart")]
    [DataRow("model_stock")]
    [DataRow("karcher")]
    [DataRow("slerp")]
    [DataRow("breadcrumbs")]
    [DataRow("della")]
    [DataRow("sce")]
    [DataRow("tall")]
    public void OneNonFiniteElement_StaysThere_AndTheRestMergesAsWithZeroThere(string method)
    {
        const int n = 12 * 8, index = 29;
        var theta0 = Random(n, 31);
        float[] t1 = Random(n, 32), t2 = Random(n, 33);
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity })
        {
            var damaged = (float[])t1.Clone();
            damaged[index] = bad;
            float[] z1 = (float[])t1.Clone(), z2 = (float[])t2.Clone();
            z1[index] = z2[index] = 0;
            var options = new MergeExecutionOptions { MaxThreads = 1, AllowNonFinite = true, Seed = 5 };
            var got = Run(new TinyFamily("a", "b").WithTaskVectors("layers.0.w", [12, 8], theta0, damaged, t2), method, options: options).TensorFor("a", "layers.0.w");
            var want = Run(new TinyFamily("a", "b").WithTaskVectors("layers.0.w", [12, 8], theta0, z1, z2), method, options: options).TensorFor("a", "layers.0.w");
            Assert.IsFalse(float.IsFinite(got[index]), $"{method}, {bad}: element {index} is {got[index]}");
            for (int i = 0; i < n; i++)
                if (i != index) Assert.AreEqual(want[i], got[i], $"{method}, {bad}: element {i}");
        }
    }

    [TestMethod]
    public void ArceeFusion_KeepsTheRowOfANonFiniteElement()
    {
        // Its row's softmax divergence was NaN, so every finite element of the row went back to θ0; the position now counts
        // as θ1 = θ0 (τ = 0) in the divergence and the quartiles.
        const int n = 12 * 8;
        var theta0 = Random(n, 41);
        var theta1 = Random(n, 42);
        var options = new MergeExecutionOptions { MaxThreads = 1, AllowNonFinite = true };
        // A row where the clean merge keeps at least two changes: the damaged element is one of them.
        var clean = Run(new TinyFamily("a").WithWeights("layers.0.w", [12, 8], theta0, theta1), "arcee_fusion", options: options).Tensors["layers.0.w"];
        int row = Enumerable.Range(0, 12).First(r => Enumerable.Range(8 * r, 8).Count(i => clean[i] != theta0[i]) >= 2);
        int index = Enumerable.Range(8 * row, 8).First(i => clean[i] != theta0[i]);
        var damaged = (float[])theta1.Clone();
        damaged[index] = float.NaN;
        var same = (float[])theta1.Clone();
        same[index] = theta0[index];
        var got = Run(new TinyFamily("a").WithWeights("layers.0.w", [12, 8], theta0, damaged), "arcee_fusion", options: options).Tensors["layers.0.w"];
        var want = Run(new TinyFamily("a").WithWeights("layers.0.w", [12, 8], theta0, same), "arcee_fusion", options: options).Tensors["layers.0.w"];
        Assert.IsTrue(float.IsNaN(got[index]));
        for (int i = 0; i < n; i++)
            if (i != index) Assert.AreEqual(want[i], got[i], $"element {i}");
        Assert.IsTrue(Enumerable.Range(8 * row, 8).Any(i => i != index && got[i] != theta0[i]), "the row keeps changes of its own");
    }
}
