using MLNetMerge.Alignment;
using MLNetMerge.Data;
using MLNetMerge.Evaluation;
using MLNetMerge.Nn;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests.Alignment;

/// <summary>Fisher merging: the weighted average and the diagonal Fisher itself.</summary>
[TestClass]
public sealed class FisherMergingTests
{
    [TestMethod]
    public void EqualFishers_GiveTheAverage_AndAZeroFisherIgnoresItsModel()
    {
        float[][] thetas = [[1f, 2f, -3f], [3f, -2f, 5f]];
        var output = new float[3];
        DiagonalFisher.Merge(output, thetas, [[0.5f, 2f, 7f], [0.5f, 2f, 7f]], 1e-6f);
        CollectionAssert.AreEqual(new[] { 2f, 0f, 1f }, output);
        // Model 2 has zero Fisher: without a floor it has no weight; with the 1e-6 floor against Fisher 1 its weight is
        // 1e-6/(1 + 1e-6), a shift of at most 1e-6·|θ2 − θ1| = 8e-6.
        DiagonalFisher.Merge(output, thetas, [[1f, 1f, 1f], [0f, 0f, 0f]], 0f);
        CollectionAssert.AreEqual(thetas[0], output);
        DiagonalFisher.Merge(output, thetas, [[1f, 1f, 1f], [0f, 0f, 0f]], 1e-6f);
        for (int i = 0; i < 3; i++) Assert.AreEqual(thetas[0][i], output[i], 1e-5f);
        // Both zero: the floor makes them equal → average.
        DiagonalFisher.Merge(output, thetas, [[0f, 0f, 0f], [0f, 0f, 0f]], 1e-6f);
        CollectionAssert.AreEqual(new[] { 2f, 0f, 1f }, output);
    }

    [TestMethod]
    public void ExpectedFisher_OfALinearEncoder_MatchesTheClosedForm()
    {
        // ∂ log p_y / ∂W_ij = (Hᵀ(δ_y − p))_i x_j, ∂/∂b_i = (Hᵀ(δ_y − p))_i; F = mean_x Σ_y p_y (∂ log p_y/∂θ)² (LinearEncoderCase).
        var c = new LinearEncoderCase();
        var fisher = DiagonalFisher.Compute(c.Encoder, c.Head, c.Data, FisherLabelSource.Expected, 0);
        var expected = new double[8];
        for (int n = 0; n < 2; n++)
        {
            var (x, _, p) = c.Forward(n);
            for (int y = 0; y < 3; y++)
            {
                var g = c.EmbeddingGradient(p, y);                        // the sign does not matter squared
                for (int i = 0; i < 2; i++)
                {
                    for (int j = 0; j < 3; j++) expected[i * 3 + j] += p[y] * Math.Pow(g[i] * x[j], 2) / 2;
                    expected[6 + i] += p[y] * g[i] * g[i] / 2;
                }
            }
        }
        for (int i = 0; i < 8; i++) Assert.AreEqual(expected[i], fisher[i], 1e-5 * Math.Max(1, expected[i]), $"element {i}");
    }

    [TestMethod]
    public void SampledFisher_AveragesToTheExpectedOne()
    {
        // 4000 copies of one input: the sampled-label Fisher converges to the expected one (standard error ≈ 2 %).
        var mlp = new Mlp(new MlpConfig { InputSize = 2, OutputSize = 2 });
        float[] w = [0.5f, -1f, 1f, 0.5f];
        w.CopyTo(mlp.Parameters.Value("layers.0.weight"));
        var head = new TaskHead([1f, 0f, 0f, 1f, -1f, -1f], [0f, 0f, 0f], 3, 2);
        var data = new TaskDataset("t", Enumerable.Repeat(new[] { 1f, 0.5f }, 4000).SelectMany(v => v).ToArray(), [2], null, ["a", "b", "c"]);
        var exact = DiagonalFisher.Compute(mlp, head, data.Subset([0]), FisherLabelSource.Expected, 0);
        var sampled = DiagonalFisher.Compute(mlp, head, data, FisherLabelSource.Sampled, 7);
        for (int i = 0; i < exact.Length; i++) Assert.AreEqual(exact[i], sampled[i], 0.1 * exact[i] + 1e-6, $"element {i}");
    }

    [TestMethod]
    public void Estimator_GivesAnElementWiseConvexCombination()
    {
        using var fx = AlignmentFixture.TinyVit(["a", "b"], examples: 8);
        var merged = EngineRuns.Merge(fx.Family, new WeightAverageOptions());
        var fitted = (MergedEncoderModel)EngineRuns.Stage(new FisherOptions { Samples = 8 }).Fit(merged, fx.Inputs);
        var ws = EncoderWorkspace.Open("test", merged, fx.Inputs);
        var a = ws.Flatten(ws.Family.Reader("a"));
        var b = ws.Flatten(ws.Family.Reader("b"));
        var m = ws.Flatten(name => fitted.EncoderWeights[name]);
        int offAverage = 0;
        for (int i = 0; i < m.Length; i++)
        {
            Assert.IsTrue(m[i] >= Math.Min(a[i], b[i]) - 1e-6f && m[i] <= Math.Max(a[i], b[i]) + 1e-6f, $"element {i}");
            if (Math.Abs(m[i] - 0.5f * (a[i] + b[i])) > 1e-4f) offAverage++;
        }
        Assert.IsTrue(offAverage > m.Length / 2, $"only {offAverage} of {m.Length} elements differ from the average");
    }
}
