using MLNetMerge.Alignment;
using MLNetMerge.Data;
using MLNetMerge.Merging;

namespace MLNetMerge.Tests.Alignment;

/// <summary>The Tinting stage end to end on a tiny ViT family on disk: fit, typed errors, restore, determinism.</summary>
[TestClass]
public sealed class TintingEstimatorTests
{
    public TestContext TestContext { get; set; } = null!;

    private static readonly string[] Names = ["alpha", "beta"];

    private static (TinyVitFamily Fam, MergedModel Merged) Setup(int headWidth = 8)
    {
        var fam = new TinyVitFamily(Names, [3, 4], headWidth: headWidth);
        var merged = EngineRuns.Merge(fam.Family, new TaskArithmeticOptions { Scale = 0.3 });
        return (fam, merged);
    }

    [TestMethod]
    public void Fit_LowersTheLoss_ReportsProgress_AndRestoresToIdenticalPredictions()
    {
        var (fam, merged) = Setup();
        using var _ = fam;
        var data = fam.Data(40);
        var reports = new List<MergeProgress>();
        var est = EngineRuns.Stage(new TintingOptions { Rounds = 40, BatchSize = 8 });
        Assert.AreEqual("tinting", est.Name);
        Assert.AreEqual(DataRequirement.UnlabeledTest, est.Consumes);
        var model = (TintedModel)est.Fit(merged, new MergeInputs(fam.Family, data), new SyncProgress(reports));
        Assert.AreEqual(40, model.LossHistory.Count);
        double first = model.LossHistory.Take(5).Average(), last = model.LossHistory.TakeLast(5).Average();
        TestContext.WriteLine($"loss: first 5 rounds {first:F4}, last 5 {last:F4}; sparsity {model.CoefficientSparsity():P1}");
        Assert.IsTrue(last < 0.8 * first, $"training lowers the pseudo-label cross-entropy ({first:F4} → {last:F4})");
        Assert.IsTrue(reports.Any(r => r.Stage.StartsWith("tinting: loss ", StringComparison.Ordinal) && r.Completed == 40 && r.Total == 40 && r.Loss is > 0));

        var method = AlignmentMethods.Find("tinting");
        var restored = method.Restore(merged, model.Parameters, model.State);
        foreach (var task in Names)
        {
            CollectionAssert.AreEqual(model.PredictProbabilities(task, data[task]), restored.PredictProbabilities(task, data[task]), $"{task}: same probabilities to the bit");
            CollectionAssert.AreEqual(model.Embed(task, data[task]), restored.Embed(task, data[task]));
        }
        // The registry rebuilds the same estimator from the recipe form.
        var again = method.Create(model.Parameters, 0);
        CollectionAssert.AreEquivalent(model.Parameters.Keys.ToArray(), again.Parameters.Keys.ToArray());
        Assert.AreEqual(model.Parameters["rounds"], again.Parameters["rounds"]);
        Assert.AreEqual(model.Parameters["batch"], again.Parameters["batch"]);
    }

    [TestMethod]
    public void BlockMode_PlusPlus_RestoresToIdenticalPredictions()
    {
        var (fam, merged) = Setup();
        using var _ = fam;
        var data = fam.Data(24);
        var est = EngineRuns.Stage(new TintingOptions { PlusPlus = true, Block = 0, Rounds = 6, BatchSize = 8 });
        Assert.AreEqual("tinting_plus_plus", est.Name);
        var model = (TintedModel)est.Fit(merged, new MergeInputs(fam.Family, data));
        Assert.AreEqual(0, model.BlockIndex);
        Assert.IsTrue(model.State.Any(s => s.Name == "alpha.encoder.layer.0.attention.attention.query.weight"));
        var restored = AlignmentMethods.Find("tinting_plus_plus").Restore(merged, model.Parameters, model.State);
        // Alternate tasks so that a wrong block swap would show.
        foreach (var task in new[] { "alpha", "beta", "alpha" })
            CollectionAssert.AreEqual(model.PredictProbabilities(task, data[task]), restored.PredictProbabilities(task, data[task]), task);
        var a = model.Embed("alpha", data["alpha"]);
        var b = model.Embed("beta", data["alpha"]);
        Assert.IsFalse(a.SequenceEqual(b), "each task runs its own block");
    }

    [TestMethod]
    public void ABlockTheEncoderLacks_IsNamedWithTheRange()
    {
        // It failed deep in the trainer with an ArgumentException naming no file, key or range (found by an alignment trial).
        var (fam, merged) = Setup();
        using var _ = fam;
        var e = Assert.ThrowsExactly<MergeException>(() => EngineRuns.Stage(new TintingOptions { Block = 7, Rounds = 1, BatchSize = 8 }).Fit(merged, new MergeInputs(fam.Family, fam.Data(8))));
        StringAssert.EndsWith(e.File, "config.json");
        StringAssert.Contains(e.Message, "tinting: layer 7 is not a transformer block of this family's encoder, which has 2 (layer: 0 … 1, or head).");
    }

    [TestMethod]
    public void SameSeedSameCoefficients_OtherSeedOthers()
    {
        var (fam, merged) = Setup();
        using var _ = fam;
        var data = fam.Data(30);
        TintedModel Fit(int seed) => (TintedModel)EngineRuns.Stage(new TintingOptions { Rounds = 5, BatchSize = 7 }, (ulong)seed)
            .Fit(merged, new MergeInputs(fam.Family, data));
        var a = Fit(1).Coefficients.ToArray();
        CollectionAssert.AreEqual(a, Fit(1).Coefficients.ToArray());
        Assert.IsFalse(a.SequenceEqual(Fit(2).Coefficients.ToArray()));
    }

    [TestMethod]
    public void RefusesBadInputWithTypedErrors()
    {
        var (fam, merged) = Setup();
        using var _ = fam;
        var est = EngineRuns.Stage(new TintingOptions { Rounds = 1 });
        var data = fam.Data(4);
        // Mismatched task names.
        var renamed = new Dictionary<string, TaskDataset> { ["alpha"] = data["alpha"], ["gamma"] = data["beta"] };
        var e1 = Assert.ThrowsExactly<AlignmentDataException>(() => est.Fit(merged, new MergeInputs(fam.Family, renamed)));
        Assert.AreEqual("gamma", e1.Task);
        var onlyAlpha = new Dictionary<string, TaskDataset> { ["alpha"] = data["alpha"] };
        Assert.AreEqual("beta", Assert.ThrowsExactly<AlignmentDataException>(() => est.Fit(merged, new MergeInputs(fam.Family, onlyAlpha))).Task);
        // No data, and a task without examples.
        Assert.ThrowsExactly<AlignmentDataException>(() => est.Fit(merged, new MergeInputs(fam.Family, null)));
        var empty = new Dictionary<string, TaskDataset>(data) { ["beta"] = new TaskDataset("beta", [], [1, 4, 4], null, ["a", "b", "c", "d"]) };
        Assert.AreEqual("beta", Assert.ThrowsExactly<AlignmentDataException>(() => est.Fit(merged, new MergeInputs(fam.Family, empty))).Task);
        // Examples of the wrong size, and a class count the head does not have.
        var wide = new Dictionary<string, TaskDataset>(data) { ["beta"] = new TaskDataset("beta", new float[4 * 25], [1, 5, 5], null, ["a", "b", "c", "d"]) };
        Assert.ThrowsExactly<AlignmentDataException>(() => est.Fit(merged, new MergeInputs(fam.Family, wide)));
        var fewer = new Dictionary<string, TaskDataset>(data) { ["beta"] = new TaskDataset("beta", data["beta"].Features, [1, 4, 4], null, ["a", "b"]) };
        StringAssert.Contains(Assert.ThrowsExactly<AlignmentDataException>(() => est.Fit(merged, new MergeInputs(fam.Family, fewer))).Message, "has 4 classes");
        // Bad settings and recipe values.
        Assert.ThrowsExactly<RecipeException>(() => EngineRuns.Stage(new TintingOptions { Rounds = 0 }));
        Assert.ThrowsExactly<RecipeException>(() => AlignmentMethods.Find("tinting").Create(new Dictionary<string, ParameterValue> { ["loss"] = new ParameterValue.Text("hinge") }, 0));
        Assert.ThrowsExactly<RecipeException>(() => AlignmentMethods.Find("tinting").Create(new Dictionary<string, ParameterValue> { ["layers"] = new ParameterValue.Scalar(1) }, 0));
    }

    [TestMethod]
    public void RefusesHeadsOfTheWrongWidth()
    {
        var (fam, merged) = Setup(headWidth: 7);  // heads (K, 7) on an 8-wide encoder
        using var _ = fam;
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => EngineRuns.Stage(new TintingOptions { Rounds = 1 })
            .Fit(merged, new MergeInputs(fam.Family, fam.Data(4))));
        StringAssert.Contains(e.Message, "classifier.weight");
    }

    [TestMethod]
    public void ZooRecipesReadIntoTintingStages()
    {
        string dir = Path.Combine(ZooPaths.Vision, "recipes", "align");
        var head = MLNetMerge.Recipes.AlignSection.Read(MLNetMerge.Recipes.MergeRecipe.Load(Path.Combine(dir, "tinting.yaml"))).Stages.Cast<TintingEstimator>().ToArray();
        CollectionAssert.AreEqual(new[] { "tinting", "tinting_plus_plus" }, head.Select(s => s.Name).ToArray());
        Assert.AreEqual(TintingFilterRule.None, head[0].Options.EffectiveFilter);
        Assert.AreEqual(TintingFilterRule.DisagreeAndMoreConfident, head[1].Options.EffectiveFilter);
        Assert.IsTrue(head.All(s => s.Options.Block is null && s.Options.Rounds == 500 && s.Options.BatchSize == 32 && s.Options.LearningRate == 1e-2));
        var block = MLNetMerge.Recipes.AlignSection.Read(MLNetMerge.Recipes.MergeRecipe.Load(Path.Combine(dir, "tinting_block.yaml"))).Stages.Cast<TintingEstimator>().ToArray();
        Assert.IsTrue(block.All(s => s.Options.Block == 3));
        Assert.AreEqual(new ParameterValue.Scalar(3), block[0].Parameters["layer"]);
    }

    [TestMethod]
    public void HonoursCancellation()
    {
        var (fam, merged) = Setup();
        using var _ = fam;
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsExactly<OperationCanceledException>(() => EngineRuns.Stage(new TintingOptions()).Fit(merged, new MergeInputs(fam.Family, fam.Data(4)), null, cts.Token));
    }

    /// <summary>IProgress that records synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress(List<MergeProgress> sink) : IProgress<MergeProgress>
    {
        public void Report(MergeProgress value) => sink.Add(value);
    }
}
