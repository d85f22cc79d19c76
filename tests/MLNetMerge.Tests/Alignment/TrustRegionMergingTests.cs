using MLNetMerge.Alignment;
using MLNetMerge.Data;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests.Alignment;

/// <summary>TATR with gradients (docs/methods/tatr.md): the mean absolute gradient, the trust-region merge, and the stage.</summary>
[TestClass]
public sealed class TrustRegionMergingTests
{
    [TestMethod]
    public void MeanAbsoluteGradient_OfALinearEncoder_MatchesTheClosedForm()
    {
        // CE = −log p_y: ∂CE/∂W_ij = (Hᵀ(p − δ_y))_i x_j, ∂CE/∂b_i = (Hᵀ(p − δ_y))_i; G = mean over the examples of their
        // absolute values (LinearEncoderCase); the predicted labels are the argmax of z, i.e. of p.
        var c = new LinearEncoderCase();
        int[] ys = [2, 0];
        var g = MeanAbsoluteGradient.Compute(c.Encoder, c.Head, c.Data, ys);
        var expected = new double[8];
        var predicted = new int[2];
        for (int n = 0; n < 2; n++)
        {
            var (x, _, p) = c.Forward(n);
            predicted[n] = Array.IndexOf(p, p.Max());
            var d = c.EmbeddingGradient(p, ys[n]);
            for (int i = 0; i < 2; i++)
            {
                for (int j = 0; j < 3; j++) expected[i * 3 + j] += Math.Abs(d[i] * x[j]) / 2;
                expected[6 + i] += Math.Abs(d[i]) / 2;
            }
        }
        for (int i = 0; i < 8; i++) Assert.AreEqual(expected[i], g[i], 1e-5 * Math.Max(1, expected[i]), $"element {i}");
        CollectionAssert.AreEqual(predicted, MeanAbsoluteGradient.Predict(c.Encoder, c.Head, c.Data));
    }

    [TestMethod]
    public void Merge_KeepsTaskArithmeticBelowTheConflictQuantile()
    {
        // θ0 = 0, τ1 = [1, 2, 0, 3], τ2 = [1, −1, 5, 2], G1 = 1, G2 = [0, 2, 0, 0.5]:
        // Ω = G1 |τ2| + G2 |τ1| = [1, 1 + 4, 5, 2 + 1.5] = [1, 5, 5, 3.5]. quantile 0.5 of P = 4 → ascending index 2 of
        // [1, 3.5, 5, 5] → q = 5; Ω < 5 keeps elements 0 and 3 of Σ τ = [2, 1, 5, 5] → [2, 0, 0, 5] at λ 1.
        var output = new float[4];
        float q = TrustRegionMerging.Merge(output, new float[4], [[1f, 2f, 0f, 3f], [1f, -1f, 5f, 2f]], [[1f, 1f, 1f, 1f], [0f, 2f, 0f, 0.5f]], 0.5, 1f);
        Assert.AreEqual(5f, q);
        CollectionAssert.AreEqual(new[] { 2f, 0f, 0f, 5f }, output);
    }

    [TestMethod]
    public void Stage_IsTaskArithmeticOutsideItsMostConflictedElements()
    {
        // quantile 1: q is the largest Ω, so every element but those at it merges as task arithmetic (θ0 + 0.3 Σ τ);
        // quantile 0: nothing is below the smallest Ω, the base comes back.
        using var fx = AlignmentFixture.TinyVit(["a", "b"], examples: 8);
        var merged = EngineRuns.Merge(fx.Family, new TaskArithmeticOptions { Scale = 0.3 });
        var ws = EncoderWorkspace.Open("test", merged, fx.Inputs);
        var theta0 = ws.Flatten(ws.Family.Base);
        var ta = ws.Flatten(merged, "a");
        var all = (MergedEncoderModel)EngineRuns.Stage(new TrustRegionOptions { Samples = 8, Quantile = 1.0, Scale = 0.3 }).Fit(merged, fx.Inputs);
        var m = ws.Flatten(name => all.EncoderWeights[name]);
        int atBase = 0;
        for (int i = 0; i < m.Length; i++)
        {
            if (m[i] == theta0[i] && ta[i] != theta0[i]) { atBase++; continue; }
            Assert.AreEqual(ta[i], m[i], 1e-6f, $"element {i}");
        }
        Assert.IsTrue(atBase is >= 1 and <= 4, $"{atBase} elements left at θ0; expected the few at the largest Ω");
        var none = (MergedEncoderModel)EngineRuns.Stage(new TrustRegionOptions { Samples = 8, Quantile = 0.0 }).Fit(merged, fx.Inputs);
        CollectionAssert.AreEqual(theta0, ws.Flatten(name => none.EncoderWeights[name]));
    }

    [TestMethod]
    public void Stage_RefusesATrustRegionThatTiesLeaveEmpty()
    {
        // Where no task moved an element, Σ_{j≠i} |τj| = 0 and Ω = 0: with 9 of 10 elements so, quantile 0.6 puts q at 0
        // and the strict Ω < q (the authors' rule) kept nothing — the base, without a word (found by an alignment trial on
        // the text zoo, whose unused embedding rows have G = 0).
        var layout = new MLNetMerge.Nn.Architectures.VisionTransformer(MLNetMerge.Nn.Architectures.VisionTransformerConfig.FromJson(System.Text.Json.JsonDocument.Parse(AlignmentFixture.TinyVitConfig).RootElement)).Parameters.Layout;
        var rng = new Random(3);
        var baseValues = layout.Entries.ToDictionary(e => e.Name, e => Enumerable.Range(0, e.Length).Select(_ => (float)rng.NextDouble()).ToArray());
        using var fx = AlignmentFixture.Build(AlignmentFixture.TinyVitConfig, layout, ["a", "b"], 0.3f, 8, 64, classes: 3, headWidth: 8, seed: 1,
            taskValues: (name, t) => baseValues[name].Select((v, i) => i % 10 == 0 ? v + 0.1f * (t + 1) : v).ToArray(), baseValues: name => baseValues[name]);
        var merged = EngineRuns.Merge(fx.Family, new TaskArithmeticOptions { Scale = 0.3 });
        var e = Assert.ThrowsExactly<AlignmentDataException>(() => EngineRuns.Stage(new TrustRegionOptions { Samples = 8, Quantile = 0.6 }).Fit(merged, fx.Inputs));
        StringAssert.Contains(e.Message, "trust_region: the trust region holds no element (quantile 0.6 puts q at 0");
        StringAssert.Contains(e.Message, "so the model would be the base; choose a quantile above 0.");
        // Above the ties' share the region holds the moved elements; quantile 0 stays the documented base.
        var kept = (MergedEncoderModel)EngineRuns.Stage(new TrustRegionOptions { Samples = 8, Quantile = 0.97 }).Fit(merged, fx.Inputs);
        var ws = EncoderWorkspace.Open("test", merged, fx.Inputs);
        var theta0 = ws.Flatten(ws.Family.Base);
        var m = ws.Flatten(name => kept.EncoderWeights[name]);
        Assert.IsTrue(Enumerable.Range(0, m.Length).Count(i => m[i] != theta0[i]) > 0);
        var none = (MergedEncoderModel)EngineRuns.Stage(new TrustRegionOptions { Samples = 8, Quantile = 0.0 }).Fit(merged, fx.Inputs);
        CollectionAssert.AreEqual(theta0, ws.Flatten(name => none.EncoderWeights[name]));
    }

    [TestMethod]
    public void ValidationLabels_AreTheDatasOwn_AndUnlabeledDataIsATypedError()
    {
        // labels: validation takes the inputs' labels: labeled with what the fine-tuned models predict, the stage gives the
        // bits of labels: predicted; with every label moved to the next class it gives others. Unlabeled inputs fail.
        using var fx = AlignmentFixture.TinyVit(["a", "b"], examples: 8);
        var merged = EngineRuns.Merge(fx.Family, new TaskArithmeticOptions { Scale = 0.3 });
        var ws = EncoderWorkspace.Open("test", merged, fx.Inputs);
        MergeInputs Labeled(int shift) => new(fx.Family, fx.Data.ToDictionary(kv => kv.Key, kv =>
        {
            int t = ws.TaskNames.ToList().IndexOf(kv.Key);
            ws.Flatten(ws.Family.Reader(kv.Key)).CopyTo(ws.Model.Parameters.Values, 0);
            var predicted = MeanAbsoluteGradient.Predict(ws.Model, ws.Heads[t], kv.Value);
            var labels = predicted.Select(y => (y + shift) % kv.Value.ClassCount).ToArray();
            return new TaskDataset(kv.Key, kv.Value.Features, kv.Value.FeatureShape, labels, kv.Value.ClassNames);
        }));
        var options = new TrustRegionOptions { Samples = 8, Quantile = 0.7 };
        var byPrediction = (MergedEncoderModel)EngineRuns.Stage(options).Fit(merged, fx.Inputs);
        var validation = new TrustRegionOptions { Samples = 8, Quantile = 0.7, Labels = TrustRegionLabels.Validation };
        var same = (MergedEncoderModel)EngineRuns.Stage(validation).Fit(merged, Labeled(0));
        var shifted = (MergedEncoderModel)EngineRuns.Stage(validation).Fit(merged, Labeled(1));
        var p = ws.Flatten(name => byPrediction.EncoderWeights[name]);
        CollectionAssert.AreEqual(p, ws.Flatten(name => same.EncoderWeights[name]));
        CollectionAssert.AreNotEqual(p, ws.Flatten(name => shifted.EncoderWeights[name]));
        var e = Assert.ThrowsExactly<AlignmentDataException>(() => EngineRuns.Stage(validation).Fit(merged, fx.Inputs));
        StringAssert.Contains(e.Message, "labels: validation");
    }
}
