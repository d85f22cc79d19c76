using MLNetMerge.Merging;
using MLNetMerge.Merging.Methods;
using MLNetMerge.Recipes;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

/// <summary>mergekit's one-model methods nearswap and arcee_fusion (docs/methods/mergekit-parity.md): hand-worked cases,
/// the vector path against the scalar formula, and how a mergekit recipe names them. The torch transcriptions of
/// mergekit's definitions are in <see cref="Methods2ReferenceTests"/> (fixture <c>mergekit_extra</c>).</summary>
[TestClass]
public sealed class NearSwapArceeFusionTests
{
    [TestMethod]
    public void NearSwap_TakesTheModelWithinT_AndMovesTheBaseByTElsewhere()
    {
        // t = 0.5. d = |θ0 − θ1| = [0.25, 1, 0, 2]: w = min(1, t/d) = [1, 0.5, 1 (0.5/0 = ∞), 0.25];
        // θ = w θ1 + (1 − w) θ0 = [0.25, 0.5·2 + 0.5·1, 2, 0.25·1 + 0.75·3] = [0.25, 1.5, 2, 2.5].
        var f = new TinyFamily("m").WithWeights("w", [4], [0f, 1f, 2f, 3f], [0.25f, 2f, 2f, 1f]);
        CollectionAssert.AreEqual(new[] { 0.25f, 1.5f, 2f, 2.5f }, Run(f, "nearswap", P(("t", 0.5))).Tensors["w"]);
        // t = 0 leaves the base wherever the two differ (0/0 = NaN → w = 1 only where they agree).
        CollectionAssert.AreEqual(new[] { 0f, 1f, 2f, 3f }, Run(f, "nearswap", P(("t", 0.0))).Tensors["w"]);
    }

    [TestMethod]
    public void NearSwap_VectorPathEqualsTheScalarFormula()
    {
        // 37 elements: whole vectors of every width plus a tail; a zero difference and a NaN-free infinite quotient included.
        var b = Random(37, 11);
        var m = Random(37, 12);
        m[5] = b[5];
        var got = new float[37];
        NearSwap.Interpolate(b, m, 0.3f, got);
        for (int i = 0; i < 37; i++)
        {
            float w = 0.3f / MathF.Abs(b[i] - m[i]);
            w = float.IsNaN(w) ? 1f : MathF.Min(w, 1f);
            Assert.AreEqual(w * m[i] + (1f - w) * b[i], got[i], $"element {i}");
        }
        Assert.AreEqual(m[5], got[5]);
    }

    [TestMethod]
    public void ArceeFusion_FenceIsTukeysUpperFenceOfTheAscendingQuartiles()
    {
        // N = 9: Q1, Q2, Q3 at ⌊k·8/4⌋ = 2, 4, 6 of the ascending values: 2, 4, 6; fence 4 + 1.5·(6 − 2) = 10.
        Assert.AreEqual(10f, ArceeFusion.UpperFence([8f, 0f, 7f, 1f, 6f, 2f, 5f, 3f, 4f]));
        // N = 4: positions ⌊3/4⌋ = 0, ⌊3/2⌋ = 1, ⌊9/4⌋ = 2 of [1, 2, 3, 40]: 2 + 1.5·(3 − 1) = 5.
        Assert.AreEqual(5f, ArceeFusion.UpperFence([40f, 3f, 1f, 2f]));
    }

    [TestMethod]
    public void ArceeFusion_ImportanceIsTheChangeTimesItsRowsDivergence()
    {
        // Row 0: θ1 = [ln 2, 0], θ0 = [0, 0]: p = [2/3, 1/3] + ε, q = [1/2, 1/2] + ε, KL = Σ p ln(p/q).
        // Row 1: θ1 = θ0: KL = 0, importance 0.
        float ln2 = MathF.Log(2f);
        var importance = new float[4];
        ArceeFusion.Importance(importance, [0f, 0f, 1f, 1f], [ln2, 0f, 1f, 1f], 2);
        double e = ArceeFusion.Epsilon;
        double p0 = 2.0 / 3 + e, p1 = 1.0 / 3 + e, q = 0.5 + e;
        // p from the float θ1 = (float)ln 2: its softmax differs from 2/3 by ~1e-8, inside the tolerance.
        double kl = p0 * Math.Log(p0 / q) + p1 * Math.Log(p1 / q);
        Assert.AreEqual(ln2 * kl, importance[0], 1e-8);
        Assert.AreEqual(0f, importance[1]);
        Assert.AreEqual(0f, importance[2]);
        Assert.AreEqual(0f, importance[3]);
    }

    [TestMethod]
    public void ArceeFusion_KeepsTheChangesAtOrAboveTheFence_AndTheBaseElsewhere()
    {
        // A vector is one row: one KL > 0 for every element, so s = |d|·KL and the fence is KL times that of |d| =
        // [1, 2, …, 7, 100]: positions ⌊7/4⌋ = 1, 3, 5 → 2, 4, 6, fence 4 + 1.5·(6 − 2) = 10. Only |d| = 100 reaches it.
        float[] theta0 = [0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f];
        float[] theta1 = [1.5f, -1.5f, 3.5f, -3.5f, 5.5f, -5.5f, 7.5f, 100.5f];
        var f = new TinyFamily("m").WithWeights("w", [8], theta0, theta1);
        CollectionAssert.AreEqual(new[] { 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 100.5f }, Run(f, "arcee_fusion").Tensors["w"]);
        // Rows that only shift by a constant keep their softmax (KL = 0): with every importance 0 the fence is 0, and every
        // element is at or above it — the whole change is kept, as mergekit's rule gives.
        float[] shifted = [0.6f, 0.6f, 0.6f, 0.6f, 0.4f, 0.4f, 0.4f, 0.4f];
        var g = new TinyFamily("m").WithWeights("w", [2, 4], theta0, shifted);
        CollectionAssert.AreEqual(shifted, Run(g, "arcee_fusion").Tensors["w"]);
    }

    [TestMethod]
    public void MergekitRecipes_NameThemWithTheBaseListed_AndNearSwapNeedsT()
    {
        string dir = Directory.CreateTempSubdirectory("mlnetmerge-nearswap-").FullName;
        try
        {
            new TinyFamily("t1").WithWeights("w", [4], [0f, 1f, 2f, 3f], [0.25f, 2f, 2f, 1f]).Save(dir);
            const string models = "base_model: base.safetensors\nmodels:\n  - model: base.safetensors\n  - model: t1.safetensors\n";
            var recipe = MergeRecipe.Parse("merge_method: nearswap\n" + models + "parameters: {t: 0.5}\n", "r.yaml", dir);
            Assert.AreEqual("t1", recipe.Models.Single().Name, "the base listed under models is not a task");
            var refused = Assert.ThrowsExactly<RecipeException>(() => MergeRecipe.Parse("merge_method: nearswap\n" + models, "r.yaml", dir));
            StringAssert.Contains(refused.Message, "r.yaml");
            StringAssert.Contains(refused.Message, "'t'");
            Assert.AreEqual("t1", MergeRecipe.Parse("merge_method: arcee_fusion\n" + models, "r.yaml", dir).Models.Single().Name);
            // Native recipes take nearswap's declared default.
            Assert.AreEqual(1e-4, MergeMethods.Find("nearswap").Method.Parameters.Single(p => p.Name == "t").Default);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
