using MLNetMerge.Merging.Methods;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

/// <summary>Weight averaging, MagMax, SLERP, model stock, breadcrumbs and DELLA.</summary>
[TestClass]
public sealed class OtherMethodsTests
{
    [TestMethod]
    public void WeightAverageIsTheMeanOfTheWeights()
    {
        // θ1 = [1, 2, 3, 4], θ2 = [3, −2, 5, 0] → [2, 0, 4, 2]; the base plays no part.
        var f = new TinyFamily("t1", "t2").WithWeights("w", [2, 2], [9f, 9f, 9f, 9f], [1f, 2f, 3f, 4f], [3f, -2f, 5f, 0f]);
        AssertClose([2f, 0f, 4f, 2f], Run(f, "weight_average").Tensors["w"], 0);
    }

    [TestMethod]
    public void WeightAverageWithPerModelWeights()
    {
        // w = (1, 3): (θ1 + 3 θ2)/4 = [(1 + 9)/4, (2 − 6)/4, (3 + 15)/4, 4/4] = [2.5, −1, 4.5, 1].
        var f = new TinyFamily("t1", "t2").WithWeights("w", [4], [9f, 9f, 9f, 9f], [1f, 2f, 3f, 4f], [3f, -2f, 5f, 0f]);
        AssertClose([2.5f, -1f, 4.5f, 1f], Run(f, "weight_average", perModel: [null, P(("weight", 3.0))]).Tensors["w"], 0);
    }

    [TestMethod]
    public void MagMaxTakesTheLargestMagnitudeFirstOnTies()
    {
        // τ1 = [1, −3, 2, −0.5], τ2 = [−2, 1, 2, 0.5], τ3 = [0.5, 2, −2, 0.25]:
        //   e0 |−2| wins; e1 |−3|; e2 three-way tie |2| → the first, +2; e3 tie |−0.5| = |0.5| → the first, −0.5.
        // λ = 1 (default): θ0 + [−2, −3, 2, −0.5]; λ = 0.5 halves it.
        float[] theta0 = [1f, 1f, 1f, 1f];
        var f = new TinyFamily("t1", "t2", "t3").WithTaskVectors("w", [4], theta0,
            [1f, -3f, 2f, -0.5f], [-2f, 1f, 2f, 0.5f], [0.5f, 2f, -2f, 0.25f]);
        AssertClose(Plus(theta0, -2, -3, 2, -0.5), Run(f, "magmax").Tensors["w"], 0, "λ = 1");
        AssertClose(Plus(theta0, -1, -1.5, 1, -0.25), Run(f, "magmax", P(("scale", 0.5))).Tensors["w"], 0, "λ = 0.5");
    }

    [TestMethod]
    public void SlerpOfOrthogonalAndParallelTensors()
    {
        // Tensor "o" (2, 2): τ1 = e0, τ2 = e3, orthogonal: Ω = π/2, sin Ω = 1; at t = 0.5 both weights are
        //   sin(π/4)/sin(π/2) = 0.70710678 → θ0 + [0.7071, 0, 0, 0.7071].
        // Tensor "p": τ2 = 2 τ1 (cos = 1 > 0.9995) → linear: 0.5 τ1 + 0.5 τ2 = 1.5 τ1.
        // Tensor "s": τ1 = [2, 0], τ2 = [1, √3] at 60°: weights sin(π/6)/sin(π/3) = 1/√3 → (τ1 + τ2)/√3 = [√3, 1].
        float[] theta0 = [1f, 2f, 3f, 4f];
        float r3 = MathF.Sqrt(3f);
        var f = new TinyFamily("t1", "t2")
            .WithTaskVectors("o", [2, 2], theta0, [1f, 0f, 0f, 0f], [0f, 0f, 0f, 1f])
            .WithTaskVectors("p", [3], [0f, 0f, 0f], [1f, 2f, 0f], [2f, 4f, 0f])
            .WithTaskVectors("s", [2], [0f, 0f], [2f, 0f], [1f, r3]);
        var m = Run(f, "slerp");
        double h = Math.Sin(Math.PI / 4);
        AssertClose(Plus(theta0, h, 0, 0, h), m.Tensors["o"], 1e-6, "orthogonal");
        AssertClose([1.5f, 3f, 0f], m.Tensors["p"], 1e-6, "parallel");
        AssertClose([r3, 1f], m.Tensors["s"], 1e-5, "60°");
    }

    [TestMethod]
    public void SlerpAtAQuarter()
    {
        // Orthogonal unit vectors at t = 0.25: weights sin(0.75·π/2) = sin(3π/8) = 0.9238795 and sin(π/8) = 0.3826834.
        var f = new TinyFamily("t1", "t2").WithTaskVectors("o", [2], [0f, 0f], [1f, 0f], [0f, 1f]);
        var m = Run(f, "slerp", P(("t", 0.25)));
        AssertClose([(float)Math.Sin(3 * Math.PI / 8), (float)Math.Sin(Math.PI / 8)], m.Tensors["o"], 1e-6);
    }

    [TestMethod]
    public void SlerpOverWeightsIgnoresTheBase()
    {
        var f = new TinyFamily("t1", "t2").WithWeights("o", [2], [5f, 5f], [1f, 0f], [0f, 1f]);
        var m = Run(f, "slerp", P(("over", "weights")));
        double h = Math.Sin(Math.PI / 4);
        AssertClose([(float)h, (float)h], m.Tensors["o"], 1e-6);
    }

    [TestMethod]
    public void SlerpRejectsThreeModels()
    {
        var f = new TinyFamily("t1", "t2", "t3").WithTaskVectors("o", [2], [0f, 0f], [1f, 0f], [0f, 1f], [1f, 1f]);
        var e = Assert.ThrowsExactly<RecipeException>(() => Run(f, "slerp"));
        StringAssert.Contains(e.Message, "method 'slerp' takes 2 fine-tuned models; 3 are given");
    }

    [TestMethod]
    public void ModelStockRatioFromTheAngle()
    {
        // Tensor "w" (2, 2): τ1 = [1, 1, 0, 0], τ2 = [1, 0, 1, 0]: cos = 1/(√2·√2) = 0.5 → t = 2·0.5/(1·0.5 + 1) = 2/3;
        //   θ = θ0 + t·mean τ = θ0 + (2/3)·[1, 0.5, 0.5, 0].
        // Tensor "p": parallel τ (cos 1) → t = 2/(1 + 1) = 1 → θavg.  Tensor "z": orthogonal (cos 0) → t = 0 → θ0.
        float[] theta0 = [1f, 2f, 3f, 4f];
        var f = new TinyFamily("t1", "t2")
            .WithTaskVectors("w", [2, 2], theta0, [1f, 1f, 0f, 0f], [1f, 0f, 1f, 0f])
            .WithTaskVectors("p", [2], [0f, 0f], [1f, 1f], [3f, 3f])
            .WithTaskVectors("z", [2], [1f, 1f], [1f, 0f], [0f, 1f]);
        var m = Run(f, "model_stock");
        AssertClose(Plus(theta0, 2.0 / 3, 1.0 / 3, 1.0 / 3, 0), m.Tensors["w"], 1e-6, "cos 0.5");
        AssertClose([2f, 2f], m.Tensors["p"], 1e-6, "parallel");
        AssertClose([1f, 1f], m.Tensors["z"], 1e-6, "orthogonal");
        Assert.AreEqual(2.0 / 3, ModelStock.Ratio(2, 0.5), 1e-12);
    }

    [TestMethod]
    public void ModelStockWithThreeModels()
    {
        // τ1 = [1, 1, 0], τ2 = [1, 0, 1], τ3 = [0, 1, 1]: every pair has cos 0.5 → t = 3·0.5/(2·0.5 + 1) = 0.75;
        // mean τ = [2/3, 2/3, 2/3] → θ = θ0 + [0.5, 0.5, 0.5].
        var f = new TinyFamily("t1", "t2", "t3").WithTaskVectors("w", [3], [0f, 0f, 0f], [1f, 1f, 0f], [1f, 0f, 1f], [0f, 1f, 1f]);
        AssertClose([0.5f, 0.5f, 0.5f], Run(f, "model_stock").Tensors["w"], 1e-6);
    }

    [TestMethod]
    public void ModelStockNeedsTwoModels()
    {
        var f = new TinyFamily("t1").WithTaskVectors("w", [1], [0f], [1f]);
        var e = Assert.ThrowsExactly<RecipeException>(() => Run(f, "model_stock"));
        Assert.IsNull(e.File, "the count is the recipe's, not a checkpoint's"); // it named the base file before
        StringAssert.Contains(e.Message, "takes at least 2 fine-tuned models; 1 is given");
    }

    // Breadcrumbs family: one (2, 5) tensor, N = 10 per task.
    //   τ1 = [10, −9, 8, −7, 6, −5, 4, −3, 2, −1], τ2 = [−1, 2, −3, 4, −5, 6, −7, 8, −9, 10].
    private static TinyFamily BreadcrumbsFamily() => new TinyFamily("t1", "t2").WithTaskVectors("w", [2, 5], new float[10],
        [10f, -9f, 8f, -7f, 6f, -5f, 4f, -3f, 2f, -1f], [-1f, 2f, -3f, 4f, -5f, 6f, -7f, 8f, -9f, 10f]);

    [TestMethod]
    public void BreadcrumbsDropsOutliersAndSmallValues()
    {
        // γ = 0.1 → the ⌊0.1·10⌋ = 1 largest magnitude is dropped; density 0.5 keeps the next ⌊0.5·10⌋ = 5:
        // upper = 2nd largest = 9, lower = 6th largest = 5 → keep 5 ≤ |τ| ≤ 9.
        //   τ̂1 = [0, −9, 8, −7, 6, −5, 0, 0, 0, 0], τ̂2 = [0, 0, 0, 0, −5, 6, −7, 8, −9, 0].
        // λ = 1: Σ = [0, −9, 8, −7, 1, 1, −7, 8, −9, 0].
        var m = Run(BreadcrumbsFamily(), "breadcrumbs", P(("gamma", 0.1), ("density", 0.5), ("scale", 1.0)));
        AssertClose([0f, -9f, 8f, -7f, 1f, 1f, -7f, 8f, -9f, 0f], m.Tensors["w"], 0);
    }

    [TestMethod]
    public void BreadcrumbsWithSignConsensus()
    {
        // breadcrumbs_ties: the same τ̂, then TIES election + disjoint mean: e4 = 6 − 5 = 1 → + → 6; e5 = −5 + 6 → + → 6.
        var m = Run(BreadcrumbsFamily(), "breadcrumbs", P(("gamma", 0.1), ("density", 0.5), ("scale", 1.0), ("sign_consensus", true)));
        AssertClose([0f, -9f, 8f, -7f, 6f, 6f, -7f, 8f, -9f, 0f], m.Tensors["w"], 0);
    }

    [TestMethod]
    public void BreadcrumbsDefaults()
    {
        // γ = 0.01 → ⌊0.1⌋ = 0 dropped at the top; density 0.9 keeps ⌊9⌋ = 9: the 9th largest is 2, so only |τ| = 1 goes.
        // Σ = [10, −7, 5, −3, 1, 1, −3, 5, −7, 10]; λ = 0.3.
        var m = Run(BreadcrumbsFamily(), "breadcrumbs");
        AssertClose(new[] { 10, -7, 5, -3, 1, 1, -3, 5, -7, 10 }.Select(v => 0.3f * v).ToArray(), m.Tensors["w"], 1e-6);
    }

    [TestMethod]
    public void DellaKeepsByRowRank()
    {
        // Rows of length 2 (last dimension of (3, 2)) with density 0.5, ε = 0.5: keep probability by ascending magnitude
        // rank r is 0.5 − 0.5 + 2·0.5·r/(2 − 1) = r, so the smaller entry is always dropped and the larger always kept,
        // divided by p = 1 (equal magnitudes rank by position: the later one is kept).
        //   τ1 = [[1, −3], [2, 0.5], [−1, 4]]       → τ̂1 = [[0, −3], [2, 0], [0, 4]]
        //   τ2 = [[−2, 1], [−0.5, −1.5], [3, 3]]    → τ̂2 = [[−2, 0], [0, −1.5], [0, 3]]
        // Elect + disjoint mean (λ = 1): [−2, −3, 2, −1.5, 0, (4 + 3)/2 = 3.5].
        float[] theta0 = [1f, 1f, 1f, 1f, 1f, 1f];
        var f = new TinyFamily("t1", "t2").WithTaskVectors("w", [3, 2], theta0,
            [1f, -3f, 2f, 0.5f, -1f, 4f], [-2f, 1f, -0.5f, -1.5f, 3f, 3f]);
        var m = Run(f, "della", P(("density", 0.5), ("epsilon", 0.5)));
        AssertClose(Plus(theta0, -2, -3, 2, -1.5, 0, 3.5), m.Tensors["w"], 0);
    }

    [TestMethod]
    public void DellaKeepProbabilityRisesWithRankAndSurvivorsAreRescaled()
    {
        // One model, one row of n = 20 000 equal magnitudes (τ = 1), so the rank of element i is i (ties by position):
        // p_i = 0.5 − 0.1 + 0.2·i/(n − 1). Every output is 0 or exactly 1/p_i; the kept count is a sum of independent
        // Bernoulli(p_i): mean Σ p_i = n·0.5 = 10 000, variance Σ p_i(1 − p_i) ≈ 2 493 → 99.9 % interval ± 3.29·49.9 ≈ ±164.
        // The kept share in the lowest tenth (p ≈ 0.41) must be below the highest tenth's (p ≈ 0.59).
        const int n = 20_000;
        var f = new TinyFamily("t1").WithTaskVectors("w", [n], new float[n], Enumerable.Repeat(1f, n).ToArray());
        var m = Run(f, "della", P(("density", 0.5), ("epsilon", 0.1)), options: new Merging.MergeExecutionOptions { MaxThreads = 1, Seed = 4 });
        var w = m.Tensors["w"];
        int kept = 0, low = 0, high = 0;
        double variance = 0;
        for (int i = 0; i < n; i++)
        {
            double p = 0.4 + 0.2 * i / (n - 1);
            variance += p * (1 - p);
            if (w[i] == 0f) continue;
            Assert.AreEqual((float)(1.0 / p), w[i], 1e-6f, $"element {i}");
            kept++;
            if (i < n / 10) low++;
            if (i >= n - n / 10) high++;
        }
        Assert.IsTrue(Math.Abs(kept - n * 0.5) <= 3.2905 * Math.Sqrt(variance), $"kept {kept}");
        Assert.IsTrue(high - low > 200, $"lowest tenth kept {low}, highest tenth {high}");
    }

    [TestMethod]
    public void DellaWithDensityOneIsSignElection()
    {
        // density 1, ε = 0: every keep probability is 1 → nothing dropped, nothing rescaled; the result is TIES's
        // election and disjoint mean without trim, i.e. dare with drop 0 over ties.
        var f = new TinyFamily("t1", "t2", "t3").WithWeights("w", [4, 5], Random(20, 1), Random(20, 2), Random(20, 3), Random(20, 4));
        var della = Run(f, "della", P(("density", 1.0), ("epsilon", 0.0)));
        var dare = Run(f, "dare", P(("drop", 0.0), ("merge", "ties")));
        AssertClose(dare.Tensors["w"], della.Tensors["w"], 1e-6);
    }

    [TestMethod]
    public void ModelStock_WithOpposedTaskVectors_IsRefused_NotWrittenAsInfinity()
    {
        // Two task vectors with cosine −1: (T − 1) cos θ + 1 = 0, so t = T cos θ / 0 has no value.
        var f = new TinyFamily("a", "b").WithTaskVectors("w", [4], [1f, 2f, 3f, 4f], [0.1f, -0.2f, 0.3f, 0f], [-0.1f, 0.2f, -0.3f, 0f]);
        var e = Assert.ThrowsExactly<IncompatibleModelsException>(() => Run(f, "model_stock"));
        StringAssert.Contains(e.Message, "'w'");
        StringAssert.Contains(e.Message, "point against each other");
    }

    [TestMethod]
    public void Slerp_OfNearlyOpposedTaskVectors_Interpolates_NotDividesBySinOmegaNearZero()
    {
        // v2 = −v1 (1 + 1e-7): cos Ω = −1 to float precision, sin Ω ≈ 0; the linear fallback gives θ0 + (v1 + v2)/2 ≈ θ0.
        float[] v1 = [0.01f, -0.02f, 0.03f, 0.015f];
        var v2 = v1.Select(x => -x * (1 + 1e-7f)).ToArray();
        var f = new TinyFamily("a", "b").WithTaskVectors("w", [4], [1f, 2f, 3f, 4f], v1, v2);
        var merged = Run(f, "slerp", P(("t", 0.5))).Tensors["w"];
        AssertClose([1f, 2f, 3f, 4f], merged, 1e-6);
    }
}
