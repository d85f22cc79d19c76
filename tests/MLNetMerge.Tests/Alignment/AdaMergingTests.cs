using MLNetMerge.Alignment;
using MLNetMerge.Merging;

namespace MLNetMerge.Tests.Alignment;

/// <summary>AdaMerging, AdaMerging++ and CART++ as estimators on a tiny ViT family.</summary>
[TestClass]
public sealed class AdaMergingTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>Mean over tasks of the mean prediction entropy (nats) of a fitted model on each task's data.</summary>
    private static double MeanEntropy(AlignedModel model, AlignmentFixture fx)
    {
        double total = 0;
        foreach (var (task, data) in fx.Data)
        {
            var p = model.PredictProbabilities(task, data);
            int k = data.ClassCount;
            double h = 0;
            for (int i = 0; i < p.Length; i++) if (p[i] > 0) h -= p[i] * Math.Log(p[i]);
            total += h / (p.Length / k);
        }
        return total / fx.Data.Count;
    }

    [TestMethod]
    [DataRow(CoefficientGranularity.Task)]
    [DataRow(CoefficientGranularity.Layer)]
    public void AdaMerging_LowersTheEntropy(CoefficientGranularity granularity)
    {
        using var fx = AlignmentFixture.TinyVit(["a", "b", "c"], tauScale: 0.5f, examples: 32);
        var merged = EngineRuns.Merge(fx.Family, new TaskArithmeticOptions());
        var start = EngineRuns.Stage(new AdaMergingOptions { Granularity = granularity, Steps = 0 }).Fit(merged, fx.Inputs);
        var reports = new List<MergeProgress>();
        var fitted = EngineRuns.Stage(new AdaMergingOptions { Granularity = granularity, Steps = 60, LearningRate = 2e-2, BatchSize = 16 })
            .Fit(merged, fx.Inputs, new SyncProgress(reports));
        double before = MeanEntropy(start, fx), after = MeanEntropy(fitted, fx);
        var coefficients = ((MergedEncoderModel)fitted).Coefficients!;
        TestContext.WriteLine($"{granularity}: mean entropy {before:F4} → {after:F4}; last report '{reports[^1].Stage}'; coefficients {string.Join(", ", coefficients.Values.Take(6).Select(v => v.ToString("F3")))}…");
        Assert.IsTrue(after < before - 1e-3, $"entropy {before:F4} → {after:F4}");
        Assert.AreEqual(granularity == CoefficientGranularity.Task ? 1 : 2, coefficients.Shape.Length);
        Assert.AreEqual(60, reports[^1].Completed);
        StringAssert.Contains(reports[^1].Stage, "entropy");
        // At 0 steps the model is θ0 + 0.3 Σ τt, the task arithmetic merge at λ = 0.3.
        var ta = EngineRuns.Merge(fx.Family, new TaskArithmeticOptions { Scale = 0.3 });
        foreach (var (name, w) in ((MergedEncoderModel)start).EncoderWeights)
            for (int i = 0; i < w.Length; i++) Assert.AreEqual(ta.Tensors[name][i], w[i], 1e-5f, name);
    }

    [TestMethod]
    public void AdaMerging_HonoursCancellation()
    {
        using var fx = AlignmentFixture.TinyVit(["a", "b"]);
        var merged = EngineRuns.Merge(fx.Family, new TaskArithmeticOptions());
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsExactly<OperationCanceledException>(() => EngineRuns.Stage(new AdaMergingOptions()).Fit(merged, fx.Inputs, null, cts.Token));
    }

    [TestMethod]
    public void TiesTrim_KeepsMagnitudesAtLeastTheTiesThreshold()
    {
        // P = 5, keep 0.4: K = ⌊0.4·5⌋ = 2 kept, TIES's threshold is the (K+1) = 3rd largest |τ| = 0.2 (ties kept, as the
        // authors' kthvalue rule), so |τ| ≥ 0.2 stays: [0.1, −0.5, 0.3, 0.05, −0.2] → [0, −0.5, 0.3, 0, −0.2].
        float[] tau = [0.1f, -0.5f, 0.3f, 0.05f, -0.2f];
        float threshold = MLNetMerge.Alignment.TiesTrimming.Apply(tau, 0.4);
        Assert.AreEqual(0.2f, threshold);
        CollectionAssert.AreEqual(new[] { 0f, -0.5f, 0.3f, 0f, -0.2f }, tau);
    }

    [TestMethod]
    public void AdaMergingPlusPlus_AtZeroSteps_IsBasePlusScaledTrimmedVectors()
    {
        using var fx = AlignmentFixture.TinyVit(["a", "b"]);
        var merged = EngineRuns.Merge(fx.Family, new TaskArithmeticOptions());
        var fitted = (MergedEncoderModel)EngineRuns.Stage(new AdaMergingOptions { Vectors = AdaMergingVectors.Ties, Keep = 0.2, Steps = 0 }).Fit(merged, fx.Inputs);
        var ws = EncoderWorkspace.Open("test", merged, fx.Inputs);
        var (theta0, taus) = CoefficientMergeRun.PlainTaskVectors(ws);
        foreach (var tau in taus) MLNetMerge.Alignment.TiesTrimming.Apply(tau, 0.2);
        int kept = taus[0].Count(v => v != 0);
        Assert.AreEqual((int)Math.Floor(0.2 * taus[0].Length) + 1, kept, 2, "about 20 % of the task vector survives");
        var expected = theta0.Select((b, i) => b + 0.3f * taus[0][i] + 0.3f * taus[1][i]).ToArray();
        var got = ws.Flatten(name => fitted.EncoderWeights[ws.Session.Prefix + name]);
        for (int i = 0; i < expected.Length; i++) Assert.AreEqual(expected[i], got[i], 1e-5f);
    }

    [TestMethod]
    public void CartPlusPlus_AtZeroSteps_IsCart_AndTrainingLowersTheEntropy()
    {
        using var fx = AlignmentFixture.TinyVit(["a", "b", "c"], tauScale: 0.5f, examples: 32);
        var cart = EngineRuns.Merge(fx.Family, new CartOptions { RankRatio = 0.5, Scale = 2.0 });
        var start = (MergedEncoderModel)EngineRuns.Stage(new CartPlusPlusOptions { RankRatio = 0.5, Steps = 0 }).Fit(cart, fx.Inputs);
        double worst = 0;
        foreach (var (name, w) in start.EncoderWeights)
            for (int i = 0; i < w.Length; i++) worst = Math.Max(worst, Math.Abs(cart.Tensors[name][i] - w[i]));
        var fitted = EngineRuns.Stage(new CartPlusPlusOptions { RankRatio = 0.5, Steps = 60, LearningRate = 2e-2 }).Fit(cart, fx.Inputs);
        double before = MeanEntropy(start, fx), after = MeanEntropy(fitted, fx);
        TestContext.WriteLine($"CART++ at 0 steps vs CART: max |Δθ| = {worst:E2}; entropy {before:F4} → {after:F4}");
        Assert.IsTrue(worst < 1e-5, $"max |Δθ| {worst:E3}");
        Assert.IsTrue(after < before - 1e-3, $"entropy {before:F4} → {after:F4}");
        Assert.IsTrue(((MergedEncoderModel)fitted).Coefficients!.Values.Any(v => v > 1.5f), "CART++ is not clamped to [0, 1] (it starts at 2)");
    }

    [TestMethod]
    public void Restore_FromState_PredictsTheSame()
    {
        using var fx = AlignmentFixture.TinyVit(["a", "b"]);
        var merged = EngineRuns.Merge(fx.Family, new TaskArithmeticOptions());
        var stage = EngineRuns.Stage(new AdaMergingOptions { Steps = 5, LearningRate = 1e-2 });
        var fitted = stage.Fit(merged, fx.Inputs);
        var entry = AlignmentMethods.Find(stage.Name);
        var again = entry.Restore(merged, fitted.Parameters, fitted.State);
        foreach (var (task, data) in fx.Data)
            CollectionAssert.AreEqual(fitted.PredictProbabilities(task, data), again.PredictProbabilities(task, data));
        var rebuilt = entry.Create(stage.Parameters, 0);
        CollectionAssert.AreEquivalent(stage.Parameters.Keys.ToList(), rebuilt.Parameters.Keys.ToList());
        Assert.AreEqual(DataRequirement.UnlabeledTest, rebuilt.Consumes);
    }

    [TestMethod]
    public void RecipeParameters_AreChecked()
    {
        var entry = AlignmentMethods.Find("adamerging");
        var stage = entry.Create(new Dictionary<string, ParameterValue> { ["granularity"] = new ParameterValue.Text("task"), ["vectors"] = new ParameterValue.Text("ties") }, 0);
        Assert.AreEqual("task", stage.Parameters["granularity"].ResolveText(""));
        Assert.AreEqual("ties", stage.Parameters["vectors"].ResolveText(""));
        Assert.ThrowsExactly<RecipeException>(() => entry.Create(new Dictionary<string, ParameterValue> { ["granularity"] = new ParameterValue.Text("block") }, 0));
        Assert.ThrowsExactly<RecipeException>(() => entry.Create(new Dictionary<string, ParameterValue> { ["lr"] = new ParameterValue.Scalar(1) }, 0));
        foreach (var name in new[] { "adamerging", "cart_plus_plus", "regmean", "fisher" })
            Assert.AreEqual(DataRequirement.UnlabeledTest, AlignmentMethods.Find(name).Consumes);
    }

    /// <summary>Collects reports on the calling thread (Progress&lt;T&gt; would post them later).</summary>
    private sealed class SyncProgress(List<MergeProgress> sink) : IProgress<MergeProgress>
    {
        public void Report(MergeProgress value) => sink.Add(value);
    }
}
