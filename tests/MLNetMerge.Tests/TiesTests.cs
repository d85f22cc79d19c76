using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

[TestClass]
public sealed class TiesTests
{
    // Two tensors, a [4] and b [2, 2]; N = 8 elements per task vector, flattened a ‖ b.
    private static readonly float[] BaseA = [1f, 1f, 1f, 1f];
    private static readonly float[] BaseB = [0.5f, 0.5f, 0.5f, 0.5f];
    //                                    a                          b
    private static readonly float[][] A = [[3f, -1f, 0.5f, 2.5f], [-2f, 1.5f, 0.25f, 3f], [1f, 2f, -3f, -0.5f]];
    private static readonly float[][] B = [[-4f, 0.25f, 1.5f, 2f], [0.5f, -1f, 4f, -2f], [0.25f, 4f, -1.5f, 0.75f]];

    private static TinyFamily Family() => new TinyFamily("t1", "t2", "t3")
        .WithTaskVectors("a", [4], BaseA, A)
        .WithTaskVectors("b", [2, 2], BaseB, B);

    // Trim, keep 0.5 over the whole model (global): K = ⌊0.5·8⌋ = 4; the threshold is the (K+1) = 5th largest |τt|
    // (the authors' kthvalue(N − K) rule), kept where |τt| ≥ it.
    //   τ1 magnitudes 4, 3, 2.5, 2, 1.5, 1, 0.5, 0.25 → thr 1.5 → τ̂1 = a [3, 0, 0, 2.5]   b [−4, 0, 1.5, 2]
    //   τ2 magnitudes 4, 3, 2, 2, 1.5, 1, 0.5, 0.25   → thr 1.5 → τ̂2 = a [−2, 1.5, 0, 3]  b [0, 0, 4, −2]
    //   τ3 magnitudes 4, 3, 2, 1.5, 1, 0.75, 0.5, 0.25 → thr 1  → τ̂3 = a [1, 2, −3, 0]   b [0, 4, −1.5, 0]
    // Elect γ = sign(Σ τ̂): a [2 → +, 3.5 → +, −3 → −, 5.5 → +]  b [−4 → −, 4 → +, 4 → +, 0 → majority]
    //   majority = sign(Σ γ) over the model = sign(+1 +1 −1 +1 −1 +1 +1 + 0) = +1.
    // Disjoint mean of the agreeing entries:
    //   a [(3+1)/2 = 2, (1.5+2)/2 = 1.75, −3, (2.5+3)/2 = 2.75]  b [−4, 4, (1.5+4)/2 = 2.75, 2 (only τ̂1 = 2 is positive)]
    // Disjoint sum: a [4, 3.5, −3, 5.5]  b [−4, 4, 5.5, 2]
    [TestMethod]
    public void GlobalTrimElectDisjointMean()
    {
        var m = Run(Family(), "ties", P(("keep", 0.5)));
        // λ defaults to 1 with mean.
        AssertClose(Plus(BaseA, 2, 1.75, -3, 2.75), m.Tensors["a"], 0, "a");
        AssertClose(Plus(BaseB, -4, 4, 2.75, 2), m.Tensors["b"], 0, "b");
        Assert.AreEqual("t1=1.5, t2=1.5, t3=1", m.Summary.Notes["trim_thresholds"]);
        Assert.AreEqual("+1", m.Summary.Notes["majority_sign"]);
    }

    [TestMethod]
    public void DisjointSumDefaultsToScalePointThree()
    {
        var m = Run(Family(), "ties", P(("keep", 0.5), ("merge", "sum")));
        AssertClose(Plus(BaseA, 0.3 * 4, 0.3 * 3.5, 0.3 * -3, 0.3 * 5.5), m.Tensors["a"], 1e-6, "a");
        AssertClose(Plus(BaseB, 0.3 * -4, 0.3 * 4, 0.3 * 5.5, 0.3 * 2), m.Tensors["b"], 1e-6, "b");
    }

    [TestMethod]
    public void ExplicitScaleMultipliesMergedVector()
    {
        var m = Run(Family(), "ties", P(("keep", 0.5), ("scale", 0.5)));
        AssertClose(Plus(BaseA, 1, 0.875, -1.5, 1.375), m.Tensors["a"], 0, "a");
        AssertClose(Plus(BaseB, -2, 2, 1.375, 1), m.Tensors["b"], 0, "b");
    }

    [TestMethod]
    public void PerTensorTrim()
    {
        // trim: tensor, keep 0.5, one model: a has 4 elements, K = 2, threshold = 3rd largest of |[3, −1, 0.5, 2.5]| = 1
        // → τ̂ = [3, −1, 0, 2.5]; b: |[−4, 0.25, 1.5, 2]| → 3rd largest 1.5 → τ̂ = [−4, 0, 1.5, 2].
        // (Globally the threshold would be 1.5 for both, zeroing a's −1.) One model: γ = sign(τ̂), mean = τ̂.
        var f = new TinyFamily("t1").WithTaskVectors("a", [4], BaseA, A[0]).WithTaskVectors("b", [2, 2], BaseB, B[0]);
        var m = Run(f, "ties", P(("keep", 0.5), ("trim", "tensor")));
        AssertClose(Plus(BaseA, 3, -1, 0, 2.5), m.Tensors["a"], 0, "a");
        AssertClose(Plus(BaseB, -4, 0, 1.5, 2), m.Tensors["b"], 0, "b");
    }

    [TestMethod]
    public void NegativeMajoritySignWhereMassIsZero()
    {
        // keep 1 (no trim). τ1 = [−1, −2, 3, 0.5], τ2 = [−3, 1, −1, −0.5]:
        // sums [−4, −1, 2, 0] → γ = [−, −, +, majority]; majority = sign(−1 −1 +1 + 0) = −1.
        // Disjoint mean: [(−1−3)/2 = −2, −2, 3, −0.5].
        var f = new TinyFamily("t1", "t2").WithTaskVectors("w", [4], [0f, 0f, 0f, 0f], [-1f, -2f, 3f, 0.5f], [-3f, 1f, -1f, -0.5f]);
        var m = Run(f, "ties", P(("keep", 1.0)));
        AssertClose([-2f, -2f, 3f, -0.5f], m.Tensors["w"], 0);
        Assert.AreEqual("-1", m.Summary.Notes["majority_sign"]);
    }

    [TestMethod]
    public void PerModelWeightsWeighTheDisjointMean()
    {
        // keep 1, w = (3, 1): τ1 = [2, −1], τ2 = [4, 2]. Mass Σ w·τ = [10, −1] → γ = [+, −].
        // Element 0: (3·2 + 1·4)/(3 + 1) = 2.5. Element 1: only τ1 agrees: 3·(−1)/3 = −1.
        var f = new TinyFamily("t1", "t2").WithTaskVectors("w", [2], [0f, 0f], [2f, -1f], [4f, 2f]);
        var m = Run(f, "ties", P(("keep", 1.0)), [P(("weight", 3.0)), null]);
        AssertClose([2.5f, -1f], m.Tensors["w"], 0);
    }

    [TestMethod]
    public void GlobalTrimKeepsExpectedCount()
    {
        // One task, two tensors holding the magnitudes 1..40 (distinct) with alternating signs, in a scrambled order.
        // keep 0.25: K = ⌊0.25·40⌋ = 10; the threshold is the 11th largest magnitude, 30, and |τ| ≥ 30 keeps exactly
        // K + 1 = 11 entries (magnitudes 30..40), spread over both tensors. One model: θ − θ0 = τ̂ exactly.
        var mags = Enumerable.Range(1, 40).Select(i => (i * 17) % 41).ToArray(); // a permutation of 1..40
        var tau = mags.Select((v, i) => (i % 2 == 0 ? 1f : -1f) * v).ToArray();
        var f = new TinyFamily("t1")
            .WithTaskVectors("x", [4, 6], new float[24], tau[..24])
            .WithTaskVectors("y", [16], new float[16], tau[24..]);
        var m = Run(f, "ties", P(("keep", 0.25)));
        var merged = m.Tensors["x"].Concat(m.Tensors["y"]).ToArray();
        int kept = 0;
        for (int i = 0; i < 40; i++)
        {
            bool expectKept = mags[i] >= 30;
            Assert.AreEqual(expectKept ? tau[i] : 0f, merged[i], $"element {i} (|τ| = {mags[i]})");
            if (merged[i] != 0) kept++;
        }
        Assert.AreEqual(11, kept);
        Assert.AreEqual("t1=30", m.Summary.Notes["trim_thresholds"]);
    }

    [TestMethod]
    public void GlobalTrimKeepsTiesAtTheThreshold()
    {
        // |τ| = [5, 2, 2, 2, 1, 1], keep 0.5: K = 3 → threshold = 4th largest = 2; all three 2s are kept (ties kept).
        var f = new TinyFamily("t1").WithTaskVectors("w", [6], new float[6], [5f, -2f, 2f, -2f, 1f, -1f]);
        var m = Run(f, "ties", P(("keep", 0.5)));
        AssertClose([5f, -2f, 2f, -2f, 0f, 0f], m.Tensors["w"], 0);
    }

    [TestMethod]
    public void GlobalTrimRejectsPerTensorKeep()
    {
        // mergekit recipes give density per layer; TIES's global threshold has one keep per task, so a list cannot apply.
        var f = new TinyFamily("t1").WithTaskVectors("layers.0.w", [4], new float[4], [4f, 3f, 2f, 1f])
            .WithTaskVectors("layers.1.w", [4], new float[4], [4f, 3f, 2f, 1f]);
        Assert.ThrowsExactly<RecipeException>(() => Run(f, "ties", P(("keep", new[] { 0.1, 1.0 }))));
    }

    [TestMethod]
    public void KeepOneWithOneModelEqualsTaskArithmeticScaleOne()
    {
        var f = new TinyFamily("t1")
            .WithWeights("layers.0.w", [8, 3], Random(24, 11), Random(24, 12))
            .WithWeights("bias", [5], Random(5, 13), Random(5, 14));
        var ties = Run(f, "ties", P(("keep", 1.0)));
        var ta = Run(f, "task_arithmetic", P(("scale", 1.0)));
        foreach (var name in new[] { "layers.0.w", "bias" })
            AssertClose(ta.Tensors[name], ties.Tensors[name], 1e-6, name);
    }
}
