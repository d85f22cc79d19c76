using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

/// <summary>
/// A recipe that names its method with mergekit's <c>merge_method</c> is read as mergekit reads it: mergekit's defaults
/// (λ 1, density 1, TIES's exact per-tensor top-k), the base model listed under <c>models</c> left out of the task set,
/// slerp from <c>base_model</c>; hand-worked cases, each failing under this project's own defaults. The native
/// <c>method:</c> form refuses the base listed as a task; sign election refuses negative weights.
/// </summary>
[TestClass]
public sealed class MergekitDialectTests
{
    private string _dir = "";

    [TestInitialize]
    public void Init() => _dir = Directory.CreateTempSubdirectory("mlnetmerge-dialect-").FullName;

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    // θ0 = 0; distinct magnitudes so that a top-k is never tied.
    private static TinyFamily Family() => new TinyFamily("t1", "t2", "t3")
        .WithTaskVectors("a", [4], [0f, 0f, 0f, 0f], [1f, -2f, 0.5f, 3f], [2f, 1.5f, -1f, -0.25f], [-4f, 0.5f, -0.75f, 2.5f]);

    private float[] Merge(string yaml)
    {
        Family().Save(_dir);
        string recipe = Path.Combine(_dir, "recipe.yaml");
        File.WriteAllText(recipe, yaml + "\noutput: out\n");
        RecipeRunner.Merge(MergeRecipe.Load(recipe), new RecipeRunOptions { Overwrite = true });
        using var r = CheckpointReader.Open(Path.Combine(_dir, "out", "model.safetensors"));
        Assert.IsTrue(r.TryGetTensor("a", out var info));
        var v = new float[info.ElementCount];
        r.ReadFloat32(info, v);
        return v;
    }

    private const string Three = "  - model: t1.safetensors\n    parameters: {weight: 1}\n  - model: t2.safetensors\n    parameters: {weight: 1}\n  - model: t3.safetensors\n    parameters: {weight: 1}\n";

    [TestMethod]
    public void Ties_KeepsExactlyTheTopK_PerTensor_WithLambdaOne()
    {
        // density 0.5 of 4 → the 2 largest: τ1 → [0, −2, 0, 3], τ2 → [2, 1.5, 0, 0], τ3 → [−4, 0, 0, 2.5].
        // Σ = [−2, −0.5, 0, 5.5] elects [−, −, +, +]; agreeing means: [−4, −2, 0 (none agree), (3 + 2.5)/2]; λ 1.
        float[] got = Merge($"merge_method: ties\nbase_model: base.safetensors\nmodels:\n{Three}parameters: {{density: 0.5}}");
        AssertClose([-4f, -2f, 0f, 2.75f], got, 0);
        // Native TIES keeps ⌊dN⌋ + 1 by a threshold over the whole model: another model.
        float[] native = Merge($"method: ties\nbase: base.safetensors\nmodels:\n{Three.Replace("model:", "path:")}parameters: {{keep: 0.5}}");
        Assert.IsFalse(native.SequenceEqual(got));
        // trim: top_k asks the native form for mergekit's rule.
        float[] topk = Merge($"method: ties\nbase: base.safetensors\nmodels:\n{Three.Replace("model:", "path:")}parameters: {{keep: 0.5, trim: top_k}}");
        AssertClose(got, topk, 0);
    }

    [TestMethod]
    public void OmittedDensityAndLambda_AreMergekits()
    {
        // ties without density: nothing trimmed; Σ = [−1, 0, −1.25, 5.25] → [−, +, −, +];
        // agreeing means [−4, (1.5 + 0.5)/2, (−1 − 0.75)/2, (3 + 2.5)/2], λ 1 (this project's defaults would trim to 20 %).
        AssertClose([-4f, 1f, -0.875f, 2.75f], Merge($"merge_method: ties\nbase_model: base.safetensors\nmodels:\n{Three}"), 1e-7);
        // task_arithmetic without lambda: Σ τ at λ 1 (this project's default is 0.3).
        AssertClose([-1f, 0f, -1.25f, 5.25f], Merge($"merge_method: task_arithmetic\nbase_model: base.safetensors\nmodels:\n{Three}"), 1e-7);
    }

    [TestMethod]
    public void BaseListedUnderModels_IsLeftOut_OrRefusedInTheNativeForm()
    {
        string body = $"base_model: base.safetensors\nmodels:\n  - model: t1.safetensors\n  - model: base.safetensors\n  - model: t2.safetensors\n";
        const string weighted = "parameters: {weight: 1}\n";
        Family().Save(_dir);
        var recipe = MergeRecipe.Parse("merge_method: task_arithmetic\n" + weighted + body, "r.yaml", _dir);
        CollectionAssert.AreEqual(new[] { "t1", "t2" }, recipe.Models.Select(m => m.Name).ToArray());
        // model_stock counts its models: with the base left out, the merge equals the one without it.
        CollectionAssert.AreEqual(new[] { "t1", "t2" }, MergeRecipe.Parse("merge_method: model_stock\n" + body, "r.yaml", _dir).Models.Select(m => m.Name).ToArray());
        // linear (weight averaging) keeps it as a model, as mergekit's linear does.
        Assert.AreEqual(3, MergeRecipe.Parse("merge_method: linear\n" + weighted + body, "r.yaml", _dir).Models.Count);
        var e = Assert.ThrowsExactly<RecipeException>(() => MergeRecipe.Parse("method: task_arithmetic\n" + body.Replace("base_model:", "base:"), "r.yaml", _dir));
        StringAssert.Contains(e.Message, "model 'base' is the base checkpoint");
        StringAssert.Contains(e.Message, "r.yaml");
        var nu = Assert.ThrowsExactly<RecipeException>(() => MergeRecipe.Parse("merge_method: nuslerp\nbase_model: base.safetensors\nmodels:\n  - model: t1.safetensors\n  - model: base.safetensors\n", "r.yaml", _dir));
        StringAssert.Contains(nu.Message, "nuslerp");
    }

    [TestMethod]
    public void Slerp_RunsFromTheBaseModel()
    {
        // base_model t1, models listed [t2, t1]: t = 0 is t1 (the base), t = 1 is t2, over the weights.
        Family().Save(_dir);
        string Recipe(double t) => $"merge_method: slerp\nbase_model: t1.safetensors\nmodels:\n  - model: t2.safetensors\n  - model: t1.safetensors\nparameters: {{t: {t}}}";
        AssertClose([1f, -2f, 0.5f, 3f], Merge(Recipe(0)), 0, "t = 0");
        AssertClose([2f, 1.5f, -1f, -0.25f], Merge(Recipe(1)), 0, "t = 1");
        var e = Assert.ThrowsExactly<RecipeException>(() => MergeRecipe.Parse(
            "merge_method: slerp\nbase_model: base.safetensors\nmodels:\n  - model: t1.safetensors\n  - model: t2.safetensors\n", "r.yaml", _dir));
        StringAssert.Contains(e.Message, "list base_model as one of its two models");
    }

    [TestMethod]
    public void DareLinearWithNormalize_IsTheWeightedMean()
    {
        Family().Save(_dir);
        var recipe = MergeRecipe.Parse($"merge_method: dare_linear\nbase_model: base.safetensors\nmodels:\n{Three}parameters: {{normalize: true}}", "r.yaml", _dir);
        Assert.AreEqual("average", recipe.ResolveParameters().Choice("merge"));
        Assert.AreEqual("ta", MergeRecipe.Parse($"merge_method: dare_linear\nbase_model: base.safetensors\nmodels:\n{Three}", "r.yaml", _dir).ResolveParameters().Choice("merge"));
    }

    [TestMethod]
    public void WeightIsRequired_AndBaseFreeMethodsNeedNoBase()
    {
        Family().Save(_dir);
        var e = Assert.ThrowsExactly<RecipeException>(() => MergeRecipe.Parse(
            "merge_method: ties\nbase_model: base.safetensors\nmodels:\n  - model: t1.safetensors\n    parameters: {weight: 1}\n  - model: t2.safetensors\n", "r.yaml", _dir));
        StringAssert.Contains(e.Message, "mergekit's ties requires a 'weight' for every model; model 't2' has none");
        // linear without a base: the weighted mean of the listed models (the first stands in for shapes only).
        AssertClose([1.5f, -0.25f, -0.25f, 1.375f], Merge("merge_method: linear\nmodels:\n  - model: t1.safetensors\n    parameters: {weight: 1}\n  - model: t2.safetensors\n    parameters: {weight: 1}"), 1e-7);
        // nuslerp without a base interpolates the raw weights (mergekit's reading): t = 0.5 of θ1 and θ2.
        var nu = MergeRecipe.Parse("merge_method: nuslerp\nmodels:\n  - model: t1.safetensors\n  - model: t2.safetensors\n", "r.yaml", _dir);
        Assert.AreEqual("weights", nu.ResolveParameters().Choice("over"));
        Assert.AreEqual(2, nu.Models.Count);
        // ties still needs its base.
        StringAssert.Contains(Assert.ThrowsExactly<RecipeException>(() => MergeRecipe.Parse(
            "merge_method: ties\nmodels:\n  - model: t1.safetensors\n    parameters: {weight: 1}\n", "r.yaml", _dir)).Message, "missing 'base'");
    }

    [TestMethod]
    public void TaskArithmeticNormalize_DividesByTheWeightSum()
    {
        // Σ w·τ with w = 1, 1, 2 → [−5, 0.5, −2, 7.75], divided by 4; λ 1.
        string models = "  - model: t1.safetensors\n    parameters: {weight: 1}\n  - model: t2.safetensors\n    parameters: {weight: 1}\n  - model: t3.safetensors\n    parameters: {weight: 2}\n";
        AssertClose([-1.25f, 0.125f, -0.5f, 1.9375f], Merge($"merge_method: task_arithmetic\nbase_model: base.safetensors\nmodels:\n{models}parameters: {{normalize: true}}"), 1e-7);
    }

    [TestMethod]
    public void SignElection_RefusesNegativeWeights()
    {
        var e = Assert.ThrowsExactly<RecipeException>(() => Run(Family(), "ties", P(("keep", 1.0)), [null, P(("weight", -0.7)), null]));
        StringAssert.Contains(e.Message, "model 't2' has a negative weight");
        // From a recipe, the refusal names the recipe file.
        var fromRecipe = Assert.ThrowsExactly<RecipeException>(() => Merge("method: ties\nbase: base.safetensors\nmodels:\n  - { name: t1, path: t1.safetensors, parameters: { weight: -1 } }\n  - { name: t2, path: t2.safetensors }"));
        StringAssert.EndsWith(fromRecipe.File, "recipe.yaml");
        // Without an election a negative weight is task negation, and merges.
        AssertClose([-4.4f, -2.55f, 0.45f, 5.675f], Run(Family(), "task_arithmetic", P(("scale", 1.0)), [null, P(("weight", -0.7)), null]).Tensors["a"], 1e-6);
    }
}
