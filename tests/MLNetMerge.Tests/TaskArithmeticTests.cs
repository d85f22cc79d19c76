using MLNetMerge.Merging;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

[TestClass]
public sealed class TaskArithmeticTests
{
    private static readonly float[] Theta0 = [1f, 1f, 1f, 1f];
    private static readonly float[] Tau1 = [0.5f, -1f, 2f, 0f];
    private static readonly float[] Tau2 = [1.5f, 1f, -1f, 0.25f];

    [TestMethod]
    public void ScaledSumOfTaskVectors()
    {
        // Σ τ = [2, 0, 1, 0.25]; λ = 0.5 → θ = θ0 + [1, 0, 0.5, 0.125] = [2, 1, 1.5, 1.125].
        var f = new TinyFamily("t1", "t2").WithTaskVectors("w", [4], Theta0, Tau1, Tau2);
        var m = Run(f, "task_arithmetic", P(("scale", 0.5)));
        AssertClose([2f, 1f, 1.5f, 1.125f], m.Tensors["w"], 0);
    }

    [TestMethod]
    public void DefaultScaleIsPointThree()
    {
        // λ = 0.3: θ0 + 0.3·[2, 0, 1, 0.25] = [1.6, 1, 1.3, 1.075].
        var f = new TinyFamily("t1", "t2").WithTaskVectors("w", [4], Theta0, Tau1, Tau2);
        var m = Run(f, "task_arithmetic");
        AssertClose([1.6f, 1f, 1.3f, 1.075f], m.Tensors["w"], 1e-6);
    }

    [TestMethod]
    public void LambdaAliasMeansScale()
    {
        var f = new TinyFamily("t1", "t2").WithTaskVectors("w", [4], Theta0, Tau1, Tau2);
        var m = Run(f, "task_arithmetic", P(("lambda", 0.5)));
        AssertClose([2f, 1f, 1.5f, 1.125f], m.Tensors["w"], 0);
    }

    [TestMethod]
    public void PerModelWeight()
    {
        // w = (2, 1): Σ w·τ = [1 + 1.5, −2 + 1, 4 − 1, 0 + 0.25] = [2.5, −1, 3, 0.25]; λ = 0.5 → θ0 + [1.25, −0.5, 1.5, 0.125].
        var f = new TinyFamily("t1", "t2").WithTaskVectors("w", [4], Theta0, Tau1, Tau2);
        var m = Run(f, "task_arithmetic", P(("scale", 0.5)), [P(("weight", 2.0)), null]);
        AssertClose([2.25f, 0.5f, 2.5f, 1.125f], m.Tensors["w"], 0);
    }

    [TestMethod]
    public void ScaleOneOverTEqualsWeightAveraging()
    {
        // θ0 + (1/T) Σ (θt − θ0) = (1/T) Σ θt, on random weights with T = 3 (float32 rounding only).
        var names = new[] { "a", "b", "c" };
        var f = new TinyFamily(names)
            .WithWeights("model.layers.0.w", [6, 5], Random(30, 1), Random(30, 2), Random(30, 3), Random(30, 4))
            .WithWeights("bias", [7], Random(7, 5), Random(7, 6), Random(7, 7), Random(7, 8));
        var ta = Run(f, "task_arithmetic", P(("scale", 1.0 / 3)));
        var avg = Run(f, "weight_average");
        foreach (var name in new[] { "model.layers.0.w", "bias" })
            AssertClose(avg.Tensors[name], ta.Tensors[name], 1e-6, name);
    }

    [TestMethod]
    public void PerLayerGradientIsInterpolatedOverLayers()
    {
        // Three blocks (LayerCount = 3), scale: [0, 1]: layer l sits at l/2 of the list → λ = 0, 0.5, 1.
        // A tensor without a block index takes the first value if its name mentions an embedding, else the last.
        // τ = 1 everywhere, θ0 = 0 → θ = λ.
        float[] zero = [0f, 0f], one = [1f, 1f];
        var f = new TinyFamily("t1")
            .WithTaskVectors("model.embed_tokens.weight", [2], zero, one)
            .WithTaskVectors("model.layers.0.mlp.weight", [2], zero, one)
            .WithTaskVectors("model.layers.1.mlp.weight", [2], zero, one)
            .WithTaskVectors("model.layers.2.mlp.weight", [2], zero, one)
            .WithTaskVectors("model.final_norm.weight", [2], zero, one);
        var m = Run(f, "task_arithmetic", P(("scale", new[] { 0.0, 1.0 })));
        AssertClose([0f, 0f], m.Tensors["model.embed_tokens.weight"], 0, "embed");
        AssertClose([0f, 0f], m.Tensors["model.layers.0.mlp.weight"], 0, "layer 0");
        AssertClose([0.5f, 0.5f], m.Tensors["model.layers.1.mlp.weight"], 0, "layer 1");
        AssertClose([1f, 1f], m.Tensors["model.layers.2.mlp.weight"], 0, "layer 2");
        AssertClose([1f, 1f], m.Tensors["model.final_norm.weight"], 0, "final norm");
    }

    [TestMethod]
    public void GradientInterpolatesBetweenListEntries()
    {
        // Five blocks, scale: [0, 1, 0.5]: block l sits at l/4·2 on the list → positions 0, 0.5, 1, 1.5, 2
        // → λ = 0, 0.5, 1, 0.75, 0.5 (linear between neighbours). τ = 1, θ0 = 0 → θ = λ.
        var f = new TinyFamily("t1");
        for (int l = 0; l < 5; l++) f.WithTaskVectors($"h.{l}.attn.w", [1], [0f], [1f]);
        var m = Run(f, "task_arithmetic", P(("scale", new[] { 0.0, 1.0, 0.5 })));
        float[] expected = [0f, 0.5f, 1f, 0.75f, 0.5f];
        for (int l = 0; l < 5; l++) Assert.AreEqual(expected[l], m.Tensors[$"h.{l}.attn.w"][0], 1e-7f, $"block {l}");
    }

    [TestMethod]
    public void FilterEntriesResolvePerTensor()
    {
        // scale: [{filter: attn, value: 1}, {filter: mlp, value: [0, 0.5]}, {value: 0.25}]:
        // attn tensors λ = 1; mlp tensors the list over 2 layers (layer 0 → 0, layer 1 → 0.5); anything else 0.25.
        float[] zero = [0f, 0f], two = [2f, 2f];
        var f = new TinyFamily("t1")
            .WithTaskVectors("layers.0.attn.q", [2], zero, two)
            .WithTaskVectors("layers.0.mlp.fc", [2], zero, two)
            .WithTaskVectors("layers.1.mlp.fc", [2], zero, two)
            .WithTaskVectors("layers.1.norm", [2], zero, two);
        var scale = new ParameterValue.Filtered([
            ("attn", new ParameterValue.Scalar(1)),
            ("mlp", new ParameterValue.Gradient([0, 0.5])),
            (null, new ParameterValue.Scalar(0.25)),
        ]);
        var m = Run(f, "task_arithmetic", P(("scale", scale)));
        AssertClose([2f, 2f], m.Tensors["layers.0.attn.q"], 0, "attn");
        AssertClose([0f, 0f], m.Tensors["layers.0.mlp.fc"], 0, "mlp 0");
        AssertClose([1f, 1f], m.Tensors["layers.1.mlp.fc"], 0, "mlp 1");
        AssertClose([0.5f, 0.5f], m.Tensors["layers.1.norm"], 0, "fallback");
    }

    [TestMethod]
    public void FilterListWithoutFallbackIsARecipeError()
    {
        // scale: [{filter: attn, value: 1}] has no entry for the mlp tensor: a typed recipe error naming it.
        var f = new TinyFamily("t1")
            .WithTaskVectors("layers.0.attn.q", [2], [0f, 0f], [1f, 1f])
            .WithTaskVectors("layers.0.mlp.fc", [2], [0f, 0f], [1f, 1f]);
        var scale = new ParameterValue.Filtered([("attn", new ParameterValue.Scalar(1))]);
        var e = Assert.ThrowsExactly<RecipeException>(() => Run(f, "task_arithmetic", P(("scale", scale))));
        StringAssert.Contains(e.Message, "'layers.0.mlp.fc'");
        StringAssert.Contains(e.Message, "fallback");
        Assert.ThrowsExactly<RecipeException>(() => Run(f, "task_arithmetic", P(("scale", new ParameterValue.Gradient([])))));
        // mergekit's '*' matches every tensor: attn takes 1, the mlp tensor the '*' entry's 0.5.
        var star = new ParameterValue.Filtered([("attn", new ParameterValue.Scalar(1)), ("*", new ParameterValue.Scalar(0.5))]);
        var merged = Run(f, "task_arithmetic", P(("scale", star)));
        CollectionAssert.AreEqual(new[] { 1f, 1f }, merged.Tensors["layers.0.attn.q"].ToArray());
        CollectionAssert.AreEqual(new[] { 0.5f, 0.5f }, merged.Tensors["layers.0.mlp.fc"].ToArray());
    }

    [TestMethod]
    public void PerModelWeightAsFilterList()
    {
        // Task 1's weight is 0 on "attn" tensors and 1 elsewhere; task 2 keeps 1: θ = θ0 + Σ w·τ with λ = 1.
        float[] zero = [0f], a = [1f], b = [4f];
        var f = new TinyFamily("t1", "t2")
            .WithTaskVectors("layers.0.attn.q", [1], zero, a, b)
            .WithTaskVectors("layers.0.mlp.fc", [1], zero, a, b);
        var weight = new ParameterValue.Filtered([("attn", new ParameterValue.Scalar(0)), (null, new ParameterValue.Scalar(1))]);
        var m = Run(f, "task_arithmetic", P(("scale", 1.0)), [P(("weight", weight)), null]);
        AssertClose([4f], m.Tensors["layers.0.attn.q"], 0, "attn: 0·1 + 4");
        AssertClose([5f], m.Tensors["layers.0.mlp.fc"], 0, "mlp: 1 + 4");
    }
}
