using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using MLNetMerge.Tensors;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests.Safety;

/// <summary>
/// Issue 15, silently wrong answers in merges: under <c>allow_nonfinite</c> a non-finite input element stays non-finite in
/// the output for every method (TIES used to drop it); CART refuses a family where no tensor matches its block rule
/// (it would be weight averaging); structural rules that match nothing are warned about; models storing merged tensors
/// in different float dtypes merge in float32 and are written in the output dtype.
/// </summary>
[TestClass]
public sealed class MergeRulesTests
{
    private static readonly float[] BaseA = [1f, 1f, 1f, 1f];
    private static readonly float[] BaseB = [0.5f, 0.5f];

    // τ of a per task; t2's third element is NaN (θ = 1 + NaN).
    private static TinyFamily Family(float poison) => new TinyFamily("t1", "t2", "t3")
        .WithTaskVectors("a", [4], BaseA, [3f, -1f, 0.5f, 2.5f], [-2f, 1.5f, poison, 3f], [1f, 2f, -3f, -0.5f])
        .WithTaskVectors("b", [2], BaseB, [1f, -1f], [1f, 1f], [1f, 1f]);

    private static readonly MergeExecutionOptions AllowNonFinite = new() { MaxThreads = 1, AllowNonFinite = true };

    // TIES, keep 1 (no trim), disjoint mean, λ 1:
    //   a[0]: τ 3, −2, 1 → Σ = 2 > 0 → agreeing 3, 1 → 2 → θ 3
    //   a[1]: τ −1, 1.5, 2 → Σ = 2.5 → 1.5, 2 → 1.75 → θ 2.75
    //   a[2]: τ 0.5, NaN, −3 → an input is NaN → NaN (before: Σ = NaN, the majority sign +1 kept 0.5 → θ 1.5, NaN dropped)
    //   a[3]: τ 2.5, 3, −0.5 → Σ = 5 → 2.5, 3 → 2.75 → θ 3.75
    //   b: [1, 1, 1] → 1 → 1.5; [−1, 1, 1] → Σ 1 → 1, 1 → 1 → 1.5
    [TestMethod]
    public void Ties_UnderAllowNonFinite_KeepsTheNaNElement_AndMergesTheRest()
    {
        var m = Run(Family(float.NaN), "ties", P(("keep", 1.0)), options: AllowNonFinite);
        var a = m.Tensors["a"];
        Assert.AreEqual(3f, a[0]);
        Assert.AreEqual(2.75f, a[1]);
        Assert.IsTrue(float.IsNaN(a[2]), $"a[2] = {a[2]}");
        Assert.AreEqual(3.75f, a[3]);
        AssertClose([1.5f, 1.5f], m.Tensors["b"], 0, "b");
    }

    [TestMethod]
    public void EveryMethodKeepsANonFiniteInputNonFinite()
    {
        // Random drops (DARE), trims (TIES per tensor, Breadcrumbs), masks (TALL, consensus) and plain arithmetic alike.
        foreach (var (method, parameters) in new (string, Dictionary<string, ParameterValue>)[]
        {
            ("task_arithmetic", P()), ("weight_average", P()), ("ties", P(("keep", 0.25), ("trim", "tensor"))),
            ("dare", P(("drop", 0.9))), ("magmax", P()), ("breadcrumbs", P()), ("consensus", P()), ("tall", P()), ("emr", P()),
            ("della", P()), ("model_stock", P()),
        })
        {
            foreach (float poison in new[] { float.NaN, float.PositiveInfinity })
            {
                var m = Run(Family(poison), method, parameters, options: AllowNonFinite);
                Assert.IsFalse(float.IsFinite(m.Tensors["a"][2]), $"{method} with {poison}: a[2] = {m.Tensors["a"][2]}");
                Assert.IsTrue(m.Tensors["b"].All(float.IsFinite), $"{method}: b is finite");
            }
        }
    }

    [TestMethod]
    public void TaskArithmetic_KeepsItsOwnInfinity()
    {
        // The arithmetic's own non-finite value stays: θ = 1 + 0.3·(3 − 1 ... ) with τ2 = +∞ → +∞ (not replaced by NaN).
        var m = Run(Family(float.PositiveInfinity), "task_arithmetic", P(("scale", 0.5)), options: AllowNonFinite);
        Assert.AreEqual(float.PositiveInfinity, m.Tensors["a"][2]);
    }

    [TestMethod]
    public void Cart_RefusesAFamilyWithoutBlockMatrices()
    {
        foreach (var method in new[] { "cart", "cart_indexing" })
        {
            var e = Assert.ThrowsExactly<IncompatibleModelsException>(() => Run(Family(0f), method));
            StringAssert.Contains(e.Message, "no merged tensor is a block matrix");
            StringAssert.Contains(e.Message, "'a' [4]");
            StringAssert.Contains(e.Message, "weight_average");
        }
        // One 2-D tensor inside a numbered block is enough.
        var family = new TinyFamily("t1", "t2").WithTaskVectors("layers.0.w", [2, 2], [0f, 0f, 0f, 0f], [1f, 0f, 0f, 1f], [0f, 1f, 1f, 0f]);
        var m = Run(family, "cart", P(("rank_ratio", 0.5)));
        Assert.AreEqual(4, m.Tensors["layers.0.w"].Length);
    }

    [TestMethod]
    public void RulesThatMatchNothing_AreWarned()
    {
        // No head tensor anywhere, a filter no tensor name contains, a per-layer list without layer indices.
        var scale = new ParameterValue.Filtered([("mlp", new ParameterValue.Scalar(0.5)), (null, new ParameterValue.Scalar(0.3))]);
        var m = Run(Family(0f), "task_arithmetic", P(("scale", scale)), [P(("weight", new[] { 0.5, 1.0 }))]);
        var warnings = m.Summary.Warnings.ToList();
        Assert.AreEqual(3, warnings.Count, string.Join("\n", warnings));
        Assert.IsTrue(m.Summary.Notes.ContainsKey("warning.heads"));
        StringAssert.Contains(m.Summary.Notes["warning.heads"], "'classifier.*' matches no tensor");
        StringAssert.Contains(m.Summary.Notes["warning.filter.scale.mlp"], "the filter 'mlp' is in no merged tensor's name");
        StringAssert.Contains(m.Summary.Notes["warning.layers.t1.weight"], "of model 't1': a per-layer list");
        // A family with heads and matching rules has none.
        var clean = new TinyFamily("t1", "t2").WithTaskVectors("layers.0.mlp.w", [2], [0f, 0f], [1f, 1f], [1f, 1f])
            .WithTaskVectors("layers.1.attn.w", [2], [0f, 0f], [1f, 1f], [1f, 1f])
            .WithHead("t1", "classifier.weight", [1, 2], [1f, 1f]).WithHead("t2", "classifier.weight", [1, 2], [1f, 1f]);
        var ok = Run(clean, "task_arithmetic", P(("scale", scale)), [P(("weight", new[] { 0.5, 1.0 }))]);
        Assert.AreEqual(0, ok.Summary.Warnings.Count(), string.Join("\n", ok.Summary.Warnings));

        // Settings that make the merge trivial on this family are said: a consensus of more masks than models, a full drop.
        var consensus = Run(clean, "consensus", P(("k", 3)));
        StringAssert.Contains(consensus.Summary.Notes["warning.degenerate.k"], "k = 3 exceeds the 2 models");
        Assert.AreEqual(0, Run(clean, "consensus", P(("k", 2))).Summary.Warnings.Count(), "k = 2 of 2 is not degenerate");
        var dare = Run(clean, "dare", P(("drop", 1.0)));
        StringAssert.Contains(dare.Summary.Notes["warning.degenerate.drop.t1"], "drops every element");
    }

    [TestMethod]
    public void MixedFloatDTypes_MergeInFloat32_AndWriteTheOutputDType()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnm-dtypes-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            // A bf16 base, fp32 fine-tunes: t1's 2.25 + 2⁻¹⁰ is not a bf16 value, so a merge that rounded the inputs to
            // the base's dtype first would lose it. Weight average: [(1.5 + 2)/2, (2.2509765625 + 2.5)/2] = [1.75, 2.37548828125].
            new InMemoryCheckpoint("base").Add("w", [2], [1f, 2f], DType.BF16).Save(Path.Combine(dir, "base.safetensors"));
            new InMemoryCheckpoint("t1").Add("w", [2], [1.5f, 2.2509765625f]).Save(Path.Combine(dir, "t1.safetensors"));
            new InMemoryCheckpoint("t2").Add("w", [2], [2f, 2.5f]).Save(Path.Combine(dir, "t2.safetensors"));
            string Recipe(string dtype) =>
                $"method: weight_average\nbase: base.safetensors\nmodels:\n  - {{ name: t1, path: t1.safetensors }}\n  - {{ name: t2, path: t2.safetensors }}\n{dtype}";
            File.WriteAllText(Path.Combine(dir, "f32.yaml"), Recipe("dtype: float32\noutput: f32\n"));
            File.WriteAllText(Path.Combine(dir, "default.yaml"), Recipe("output: default\n"));
            var summary = RecipeRunner.Merge(MergeRecipe.Load(Path.Combine(dir, "f32.yaml")));
            StringAssert.Contains(summary.Notes["dtypes"], "base BF16, t1 F32, t2 F32");
            RecipeRunner.Merge(MergeRecipe.Load(Path.Combine(dir, "default.yaml")));
            (DType, float[]) Read(string output)
            {
                using var r = SafetensorsReader.Open(Path.Combine(dir, output, "model.safetensors"));
                var t = r.Tensors.Single();
                var v = new float[2];
                r.ReadFloat32(t, v);
                return (t.DType, v);
            }
            var (f32Type, f32) = Read("f32");
            Assert.AreEqual(DType.F32, f32Type);
            CollectionAssert.AreEqual(new[] { 1.75f, 2.37548828125f }, f32);
            // Default: the base's dtype; 2.37548828125 rounds to the nearest bf16, 2.375 (spacing 2⁻⁶ in [2, 4)).
            var (defType, def) = Read("default");
            Assert.AreEqual(DType.BF16, defType);
            CollectionAssert.AreEqual(new[] { 1.75f, 2.375f }, def);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
