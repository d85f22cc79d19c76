using MLNetMerge.Merging;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

/// <summary>
/// Hand-worked cases of mergekit's methods as mergekit computes them: nuslerp, multislerp, karcher, sce, and the
/// aliases della_linear, breadcrumbs_ties and dare_ties with mergekit's sign election, normalisation and λ defaults.
/// </summary>
[TestClass]
public sealed class MergekitParityTests
{
    private const float H = 0.70710678f;

    [TestMethod]
    public void NuSlerpTakesTFromTheWeights()
    {
        // τ1 = [1, 0], τ2 = [0, 1]: Ω = 90°. Weights 1, 1 → t = 0.5: sin 45°·(τ1 + τ2) = [h, h].
        // Weights 1, 3 → t = 0.75: sin(22.5°) τ1 + sin(67.5°) τ2 = [0.38268343, 0.92387953].
        var f = new TinyFamily("a", "b").WithTaskVectors("w", [2], [1f, 1f], [1f, 0f], [0f, 1f]);
        AssertClose([1 + H, 1 + H], Run(f, "nuslerp").Tensors["w"], 1e-6, "t = 0.5");
        AssertClose([1.38268343f, 1.92387953f], Run(f, "nuslerp", null, [P(("weight", 1.0)), P(("weight", 3.0))]).Tensors["w"], 1e-6, "t = 0.75");
        // over: weights interpolates θ1 = [2, 1], θ2 = [1, 2] themselves: cos Ω = 4/5, Ω = 0.6435011, sin Ω = 0.6,
        // both coefficients sin(Ω/2)/sin Ω = 0.3162278/0.6 = 0.5270463 → 0.5270463·[3, 3].
        AssertClose([1.5811388f, 1.5811388f], Run(f, "nuslerp", P(("over", "weights"))).Tensors["w"], 1e-6, "raw weights");
    }

    // A (2, 2) tensor: rows of τ1 [1, 0] and [2, 0], of τ2 [0, 1] and [4, 0].
    private static TinyFamily NuSlerpMatrix() => new TinyFamily("a", "b").WithTaskVectors("w", [2, 2], new float[4], [1f, 0f, 2f, 0f], [0f, 1f, 4f, 0f]);

    [TestMethod]
    public void NuSlerpPerRow()
    {
        // nuslerp_flatten false: vectors along the last axis. Row 0: orthogonal → [h, h]; row 1: parallel
        // (sin Ω = 0) → the linear mean [3, 0].
        AssertClose([H, H, 3f, 0f], Run(NuSlerpMatrix(), "nuslerp", P(("nuslerp_flatten", false))).Tensors["w"], 1e-6);
    }

    [TestMethod]
    public void NuSlerpPerColumnWithAZeroVector()
    {
        // nuslerp_row_wise: vectors along the first axis. Column 0: τ1 = [1, 2], τ2 = [0, 4]: cos Ω = 8/(√5·4) = 0.8944272,
        // Ω = 0.4636476, sin Ω = 0.4472136, both coefficients sin(Ω/2)/sin Ω = 0.2297529/0.4472136 = 0.5137431 →
        // [0.5137431, 0.5137431·(2 + 4) = 3.0824589]. Column 1: τ1 = 0 is divided by the clamped norm 1e-7, so u1 = 0, cos Ω = 0, Ω = 90°:
        // sin 45°·τ2 = [0.7071068, 0] (mergekit does not fall back to the linear mean here).
        var m = Run(NuSlerpMatrix(), "nuslerp", P(("nuslerp_flatten", false), ("nuslerp_row_wise", true)));
        AssertClose([0.5137431f, H, 3.0824589f, 0f], m.Tensors["w"], 2e-6);
    }

    [TestMethod]
    public void MultiSlerpIsTheWeightedMeanDirectionAtTheWeightedMeanNorm()
    {
        // τ = [3, 0], [0, 1], [0, −2] (norms 3, 1, 2). Equal weights: mean unit vector [1/3, 0] → μ = e1; tangents sum to
        // zero; length (3 + 1 + 2)/3 = 2 → [2, 0]. Weights 1, 2, 1 (normalised 1/4, 1/2, 1/4): mean [1/4, 1/4] → μ = [h, h],
        // length 0.75 + 0.5 + 0.5 = 1.75 → [1.2374369, 1.2374369].
        var f = new TinyFamily("a", "b", "c").WithTaskVectors("w", [2], [1f, 0f], [3f, 0f], [0f, 1f], [0f, -2f]);
        AssertClose([3f, 0f], Run(f, "multislerp").Tensors["w"], 1e-6, "equal");
        AssertClose([2.2374369f, 1.2374369f], Run(f, "multislerp", null, [null, P(("weight", 2.0))]).Tensors["w"], 1e-6, "weighted");
    }

    [TestMethod]
    public void MultiSlerpRefusesBalancedAntipodesExceptForTwoModels()
    {
        // Three models whose unit vectors cancel: mergekit raises; two antipodal models fall back to the weighted sum.
        var three = new TinyFamily("a", "b", "c").WithTaskVectors("w", [2], new float[2], [1f, 0f], [-1f, 0f], [0f, 0f]);
        var e = Assert.ThrowsExactly<IncompatibleModelsException>(() => Run(three, "multislerp"));
        StringAssert.Contains(e.Message, "'w'");
        var two = new TinyFamily("a", "b").WithTaskVectors("w", [2], new float[2], [2f, 0f], [-1f, 0f]);
        AssertClose([0.5f, 0f], Run(two, "multislerp").Tensors["w"], 1e-7, "0.5·2 − 0.5·1");
    }

    [TestMethod]
    public void KarcherIteratesToTheSphericalMean()
    {
        // Raw weights θ = [1, 0], [1, 0], [0, 1] (unit norms): the Riemannian mean on the circle is the mean angle,
        // (0 + 0 + 90°)/3 = 30°. The start is the normalised linear mean, at atan(1/2) = 26.565°; the first step moves by
        // the mean signed angle (−26.565·2 + 63.435)/3 = 3.435° to 30°, where the signed angles −30, −30, +60 cancel and
        // the iteration stops. Scale: mean norm 1 → [cos 30°, sin 30°]. With max_iter 0 the start remains.
        var f = new TinyFamily("a", "b", "c").WithWeights("w", [2], [5f, 5f], [1f, 0f], [1f, 0f], [0f, 1f]);
        AssertClose([0.8660254f, 0.5f], Run(f, "karcher").Tensors["w"], 1e-6, "30°");
        AssertClose([0.8944272f, 0.4472136f], Run(f, "karcher", P(("max_iter", 0))).Tensors["w"], 1e-6, "start");
        // A zero model is left out of the mean but still counts in the mean norm: θ = [2, 0], [0, 0] → e1·(2 + 0)/2.
        var z = new TinyFamily("a", "b").WithWeights("w", [2], [5f, 5f], [2f, 0f], [0f, 0f]);
        AssertClose([1f, 0f], Run(z, "karcher").Tensors["w"], 1e-7, "zero model");
    }

    // τ1 = [4, −1, 2, 0], τ2 = [2, 3, −2, 1] (θ0 = 0).
    private static TinyFamily SceFamily() => new TinyFamily("a", "b").WithTaskVectors("w", [4], new float[4], [4f, -1f, 2f, 0f], [2f, 3f, -2f, 1f]);

    [TestMethod]
    public void SceWeightsByMeanSquareAndElectsSigns()
    {
        // Mean squares 21/4 and 18/4 → weights 21/39 = 0.5384615, 18/39 = 0.4615385. Sums [6, 2, 0, 1] → elected + everywhere
        // (0 counts as +). e0: (0.5385·4 + 0.4615·2)/1 = 3.0769231; e1: only τ2 = 3 agrees; e2: only τ1 = 2; e3: τ1 = 0 has
        // sign 0, only τ2 = 1.
        AssertClose([3.0769231f, 3f, 2f, 1f], Run(SceFamily(), "sce").Tensors["w"], 1e-6);
    }

    [TestMethod]
    public void SceSelectsHighVariancePositions()
    {
        // Population variances [1, 4, 4, 0.25], all non-zero. select_topk 0.5 → k = 2: e1, e2 kept, e0 and e3 zeroed in
        // both. Then e1: sum 2 → +, only τ2 = 3; e2: sum 0 → +, only τ1 = 2; e0, e3: nothing agrees → 0.
        AssertClose([0f, 3f, 2f, 0f], Run(SceFamily(), "sce", P(("select_topk", 0.5))).Tensors["w"], 1e-6);
        // select_topk 0.25 → k = 1: e1 and e2 tie at 4; the lower position (e1) is kept.
        AssertClose([0f, 3f, 0f, 0f], Run(SceFamily(), "sce", P(("select_topk", 0.25), ("int8_mask", true))).Tensors["w"], 1e-6);
    }

    [TestMethod]
    public void DellaLinearSumsWithoutSignElection()
    {
        // The DELLA case of OtherMethodsTests (density 0.5, ε 0.5: the larger entry of each row of two is always kept,
        // divided by p = 1): τ̂1 = [0, −3, 2, 0, 0, 4], τ̂2 = [−2, 0, 0, −1.5, 0, 3]. mergekit's della_linear: no election,
        // normalize false → the weighted sum, λ = 1: [−2, −3, 2, −1.5, 0, 7]. With normalize: true, the mean (Σ w = 2).
        float[] theta0 = [1f, 1f, 1f, 1f, 1f, 1f];
        var f = new TinyFamily("t1", "t2").WithTaskVectors("w", [3, 2], theta0, [1f, -3f, 2f, 0.5f, -1f, 4f], [-2f, 1f, -0.5f, -1.5f, 3f, 3f]);
        AssertClose(Plus(theta0, -2, -3, 2, -1.5, 0, 7), Run(f, "della_linear", P(("density", 0.5), ("epsilon", 0.5))).Tensors["w"], 0);
        AssertClose(Plus(theta0, -1, -1.5, 1, -0.75, 0, 3.5), Run(f, "della_linear", P(("density", 0.5), ("epsilon", 0.5), ("normalize", true))).Tensors["w"], 0);
    }

    // τ1 = [4, 1, −2, 8], τ2 = [2, −3, −6, 1]; density 0.75, γ 0.25 on N = 4: keep 3, drop the 1 largest magnitude:
    // τ̂1 = [4, 1, −2, 0], τ̂2 = [2, −3, 0, 1]. Sums [6, −2, −2, 1] → elected [+, −, −, +].
    private static TinyFamily CrumbsFamily() => new TinyFamily("t1", "t2").WithTaskVectors("w", [4], new float[4], [4f, 1f, -2f, 8f], [2f, -3f, -6f, 1f]);

    [TestMethod]
    public void BreadcrumbsTiesIsADisjointSumWithLambdaOne()
    {
        // mergekit's breadcrumbs_ties: normalize false → agreeing values summed: [4 + 2, −3, −2, 1]; λ = 1 (mergekit's default).
        var p = P(("density", 0.75), ("gamma", 0.25));
        AssertClose([6f, -3f, -2f, 1f], Run(CrumbsFamily(), "breadcrumbs_ties", p).Tensors["w"], 0, "sum");
        // normalize: true → the disjoint mean [3, −3, −2, 1]; mergekit's lambda overrides the implied λ.
        var q = P(("density", 0.75), ("gamma", 0.25), ("normalize", true), ("lambda", 0.5));
        AssertClose([1.5f, -1.5f, -1f, 0.5f], Run(CrumbsFamily(), "breadcrumbs_ties", q).Tensors["w"], 0, "mean, λ 0.5");
    }

    [TestMethod]
    public void BreadcrumbsKeepsTheDensityAtItsEdges()
    {
        // density 1 keeps everything (no outliers dropped either): λ 1 · (τ1 + τ2).
        AssertClose([6f, -2f, -8f, 9f], Run(CrumbsFamily(), "breadcrumbs", P(("density", 1.0), ("gamma", 0.25), ("scale", 1.0))).Tensors["w"], 0, "density 1");
        // density 0.75 + γ 0.5 > 1: only N − ⌊0.75·4⌋ = 1 large value is dropped (not 2), so 3 stay, as with γ 0.25.
        AssertClose([6f, -2f, -2f, 1f], Run(CrumbsFamily(), "breadcrumbs", P(("density", 0.75), ("gamma", 0.5), ("scale", 1.0))).Tensors["w"], 0, "γ capped");
    }

    [TestMethod]
    public void DareTiesIsADisjointSum()
    {
        // mergekit's density 1 (drop 0): no element dropped, so dare_ties is the election with a disjoint sum:
        // τ1 = [4, 1], τ2 = [2, −3] → elected [+, −] → [6, −3] (λ 1). normalize: true gives the mean [3, −3].
        var f = new TinyFamily("t1", "t2").WithTaskVectors("w", [2], new float[2], [4f, 1f], [2f, -3f]);
        AssertClose([6f, -3f], Run(f, "dare_ties", P(("density", 1.0))).Tensors["w"], 0, "sum");
        AssertClose([3f, -3f], Run(f, "dare_ties", P(("density", 1.0), ("normalize", true))).Tensors["w"], 0, "mean");
        // dare_linear: λ 1 (mergekit's default) over the plain sum.
        AssertClose([6f, -2f], Run(f, "dare_linear", P(("density", 1.0))).Tensors["w"], 0, "dare_linear");
    }

    [TestMethod]
    public void TiesAcceptsMergekitNormalize()
    {
        // normalize: false is merge: sum (λ then defaults to 0.3); giving both names is refused.
        var p = Parameters("ties", 2, P(("normalize", false)));
        Assert.AreEqual("sum", p.Choice("merge"));
        Assert.ThrowsExactly<RecipeException>(() => Parameters("ties", 2, P(("normalize", true), ("merge", "sum"))));
    }

    [TestMethod]
    public void DellaAtDensityOne_KeepsTheTaskVectorWhole_AndAtZeroDropsIt()
    {
        // mergekit's della_magprune returns the delta unchanged at density >= 1 and zeros at density <= 0; with ε 0.1 the
        // clamped probabilities would otherwise drop and rescale some elements at density 1.
        var tau = Random(64, 7, 0.1f);
        var kept = (float[])tau.Clone();
        MLNetMerge.Merging.Methods.Sparsification.Della(kept, 16, 1.0, 0.1, rescale: true, key: 11);
        CollectionAssert.AreEqual(tau, kept);
        var dropped = (float[])tau.Clone();
        MLNetMerge.Merging.Methods.Sparsification.Della(dropped, 16, 0.0, 0.1, rescale: true, key: 11);
        Assert.IsTrue(dropped.All(v => v == 0f));
        var pruned = (float[])tau.Clone();
        MLNetMerge.Merging.Methods.Sparsification.Della(pruned, 16, 0.99, 0.1, rescale: true, key: 11);
        CollectionAssert.AreNotEqual(tau, pruned, "below 1 the pruning runs");
    }
}
