using MLNetMerge.Alignment;
using MLNetMerge.Nn.Architectures;

namespace MLNetMerge.Tests.Alignment;

/// <summary>RegMean's closed form, hand-checked, and as an estimator over MLP families.</summary>
[TestClass]
public sealed class RegMeanTests
{
    private static readonly string LinearConfig = """{"model_type":"mlp","input_size":2,"hidden_sizes":[],"output_size":1}""";

    [TestMethod]
    public void SingleLinearLayer_WithAlphaOne_IsTheLeastSquaresSolutionOfTheConcatenatedProblem()
    {
        // Task a: X_a rows (1, 0), (0, 1) → G_a = I;  W_a = [1, 2], bias 0.5.
        // Task b: X_b rows (1, 1), (1, −1) → G_b = 2I; W_b = [4, −2], bias 1.5.
        // RegMean (α = 1): Wᵀ = (G_a + G_b)⁻¹ (G_a W_aᵀ + G_b W_bᵀ) = (3I)⁻¹ ([1, 2] + [8, −4]) = [3, −2/3].
        // Concatenated least squares min_w Σ (x·w − x·w_t)²: targets x·w_t = 1, 2 (task a) and 2, 6 (task b);
        // XᵀX = 3I, Xᵀy = [1 + 2 + 6, 2 + 2 − 6] = [9, −2] → w = [3, −2/3]: the same. The bias (not a linear weight) is averaged: 1.0.
        var layout = new Mlp(new MlpConfig { InputSize = 2, OutputSize = 1 }).Parameters.Layout;
        float[][] w = [[1f, 2f], [4f, -2f]];
        float[] bias = [0.5f, 1.5f];
        float[][] x = [[1, 0, 0, 1], [1, 1, 1, -1]];
        using var fx = AlignmentFixture.Build(LinearConfig, layout, ["a", "b"], 0, examples: 2, inputSize: 2, classes: 2, headWidth: 1, seed: 3,
            taskValues: (name, t) => name.EndsWith("weight") ? w[t] : [bias[t]],
            inputs: task => x[task == "a" ? 0 : 1]);
        var merged = EngineRuns.Merge(fx.Family, new WeightAverageOptions());
        var fitted = (MergedEncoderModel)EngineRuns.Stage(new RegMeanOptions { Alpha = 1.0 }).Fit(merged, fx.Inputs);
        var weight = fitted.EncoderWeights["layers.0.weight"];
        Assert.AreEqual(3f, weight[0], 1e-6f);
        Assert.AreEqual(-2f / 3f, weight[1], 1e-6f);
        Assert.AreEqual(1f, fitted.EncoderWeights["layers.0.bias"][0], 1e-6f);
        Assert.IsNull(fitted.Coefficients);
    }

    [TestMethod]
    public void Solver_WithAlpha_ShrinksOffDiagonals()
    {
        // One model, G = [[2, 1], [1, 2]], W = [1, 1] (Out = 1): any G gives W back with one model (W G G⁻¹ = W).
        // Two models, G_a = [[2, 1], [1, 2]], G_b = [[2, −1], [−1, 2]], W_a = [1, 0], W_b = [0, 1], α = 0.5:
        // G̃_a = [[2, 0.5], [0.5, 2]], G̃_b = [[2, −0.5], [−0.5, 2]]; Σ G̃ = 4I; Σ G̃ W_tᵀ = [2, 0.5] + [−0.5, 2] = [1.5, 2.5];
        // W = [0.375, 0.625].
        var output = new float[2];
        RegMeanSolver.Merge(output, [[1f, 1f]], [[2f, 1f, 1f, 2f]], 1, 2, 0.3);
        Assert.AreEqual(1f, output[0], 1e-6f); Assert.AreEqual(1f, output[1], 1e-6f);
        RegMeanSolver.Merge(output, [[1f, 0f], [0f, 1f]], [[2f, 1f, 1f, 2f], [2f, -1f, -1f, 2f]], 1, 2, 0.5);
        Assert.AreEqual(0.375f, output[0], 1e-6f); Assert.AreEqual(0.625f, output[1], 1e-6f);
    }

    [TestMethod]
    public void EqualGrams_GiveTheSimpleAverage()
    {
        var rng = new Random(5);
        int outDim = 3, inDim = 4;
        var x = Enumerable.Range(0, 10 * inDim).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var g = new float[inDim * inDim];
        for (int r = 0; r < 10; r++) for (int i = 0; i < inDim; i++) for (int j = 0; j < inDim; j++) g[i * inDim + j] += x[r * inDim + i] * x[r * inDim + j];
        var ws = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, outDim * inDim).Select(_ => (float)rng.NextDouble()).ToArray()).ToList();
        var output = new float[outDim * inDim];
        RegMeanSolver.Merge(output, ws, [g, g, g], outDim, inDim, 0.95);
        for (int i = 0; i < output.Length; i++) Assert.AreEqual((ws[0][i] + ws[1][i] + ws[2][i]) / 3, output[i], 2e-5f);
    }

    [TestMethod]
    public void Estimator_FirstLayerWithSharedInputs_IsTheAverage_DeeperLayersAreNot()
    {
        // Every task sees the same inputs: layer 0's Grams are equal (→ average); layer 1's inputs are each model's own
        // hidden activations, so its Grams differ and RegMean departs from the average there.
        string config = """{"model_type":"mlp","input_size":4,"hidden_sizes":[5],"output_size":3}""";
        var layout = new Mlp(new MlpConfig { InputSize = 4, HiddenSizes = [5], OutputSize = 3 }).Parameters.Layout;
        var shared = Enumerable.Range(0, 40 * 4).Select(i => MathF.Sin(i * 0.7f)).ToArray();
        using var fx = AlignmentFixture.Build(config, layout, ["a", "b", "c"], 0.5f, examples: 40, inputSize: 4, classes: 2, headWidth: 3, seed: 9, inputs: _ => shared);
        var merged = EngineRuns.Merge(fx.Family, new WeightAverageOptions());
        var fitted = (MergedEncoderModel)EngineRuns.Stage(new RegMeanOptions()).Fit(merged, fx.Inputs);
        static void Near(float[] a, float[] b, float tol) { for (int i = 0; i < a.Length; i++) Assert.AreEqual(a[i], b[i], tol); }
        Near(merged.Tensors["layers.0.weight"], fitted.EncoderWeights["layers.0.weight"], 1e-5f);
        Near(merged.Tensors["layers.0.bias"], fitted.EncoderWeights["layers.0.bias"], 1e-6f);
        Near(merged.Tensors["layers.1.bias"], fitted.EncoderWeights["layers.1.bias"], 1e-6f);
        double diff = merged.Tensors["layers.1.weight"].Zip(fitted.EncoderWeights["layers.1.weight"], (p, q) => Math.Abs(p - q)).Max();
        Assert.IsTrue(diff > 1e-3, $"layer 1 differs from the average by {diff:E2}");
    }

    [TestMethod]
    public void GramCollector_SeesEveryLinearLayerOfAViT()
    {
        // Tiny ViT: per block q, k, v, output, fc1, fc2 = 6 linear weights × 2 blocks, plus the patch projection, which the
        // engine runs as a linear layer over unfolded patches (its weight is 4-D, (C, Cin, P, P): RegMean averages it, as
        // the reference code does with the convolution).
        using var fx = AlignmentFixture.TinyVit(["a"]);
        var merged = EngineRuns.Merge(fx.Family, new WeightAverageOptions());
        var ws = EncoderWorkspace.Open("test", merged, fx.Inputs);
        var grams = RegMean.Collect(ws.Model, ws.Flatten(ws.Family.Reader("a")), fx.Data["a"], 10);
        var names = grams.Keys.Select(i => ws.Model.Parameters.Layout.Entries[i].Name).OrderBy(n => n).ToList();
        Assert.AreEqual(13, names.Count, string.Join(", ", names));
        Assert.AreEqual(12, names.Count(n => n.EndsWith(".weight") && n.StartsWith("encoder.layer.")));
        Assert.AreEqual("embeddings.patch_embeddings.projection.weight", names[0]);
        // fc2's input is the 16-wide MLP activation: a 16 × 16 Gram.
        Assert.AreEqual(16 * 16, grams[ws.Model.Parameters.Layout.IndexOf("encoder.layer.0.output.dense.weight")].Length);
    }
}
