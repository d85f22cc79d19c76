using MLNetMerge.Alignment;
using MLNetMerge.Data;
using MLNetMerge.Merging;

namespace MLNetMerge.Tests.Alignment;

/// <summary>
/// The shared conformance of the head/transform stages on a tiny MLP family: each fits, refuses bad input with a typed
/// error, and its saved state restores through the registry to identical predictions.
/// </summary>
[TestClass]
public sealed class AlignmentEstimatorTests
{
    private static IEnumerable<IAlignmentEstimator> Estimators()
    {
        yield return EngineRuns.Stage(new FtClassifierOptions { ShotsPerClass = 3, Epochs = 2, BatchSize = 2 }, 1);
        yield return EngineRuns.Stage(new AlignedTransformOptions { Transform = AlignedTransformKind.Orthogonal }, 1);
        yield return EngineRuns.Stage(new AlignedTransformOptions { Transform = AlignedTransformKind.Affine, Solver = TransformSolver.Trained, Steps = 30 }, 1);
        yield return EngineRuns.Stage(new AlignedTransformOptions { Transform = AlignedTransformKind.Scaling, ShotsPerClass = 0 }, 1);
        yield return new SurgeryEstimator(new Dictionary<string, ParameterValue> { ["rank"] = new ParameterValue.Scalar(2), ["steps"] = new ParameterValue.Scalar(20), ["batch"] = new ParameterValue.Scalar(4) }, 1);
    }

    [TestMethod]
    public void EveryStage_FitsAndPredictsDistributions()
    {
        using var zoo = new TinyAlignmentZoo();
        foreach (var est in Estimators())
        {
            var model = est.Fit(zoo.Merged, zoo.Inputs);
            CollectionAssert.AreEqual(new[] { "a", "b" }, model.TaskNames.ToArray(), est.Name);
            var p = model.PredictProbabilities("a", zoo.Data["a"]);
            Assert.AreEqual(TinyAlignmentZoo.Examples * TinyAlignmentZoo.Classes, p.Length, est.Name);
            for (int i = 0; i < TinyAlignmentZoo.Examples; i++) Assert.AreEqual(1.0, p[2 * i] + p[2 * i + 1], 1e-5, est.Name);
            Assert.AreEqual(TinyAlignmentZoo.Examples * TinyAlignmentZoo.Width, model.Embed("b", zoo.Data["b"]).Length, est.Name);
            Assert.ThrowsExactly<ArgumentException>(() => model.PredictProbabilities("zzz", zoo.Data["a"]), est.Name);
        }
    }

    [TestMethod]
    public void EveryStage_RefusesBadInputWithTypedErrors()
    {
        using var zoo = new TinyAlignmentZoo();
        var a = zoo.Data["a"];
        var empty = new TaskDataset("b", [], [TinyAlignmentZoo.Input], [], ["zero", "one"]);
        var wrongSize = new TaskDataset("b", new float[8], [4], null, ["zero", "one"]);
        foreach (var est in Estimators())
        {
            Assert.ThrowsExactly<AlignmentDataException>(() => est.Fit(zoo.Merged, new MergeInputs(zoo.Family)), est.Name + ": no data");
            Assert.ThrowsExactly<AlignmentDataException>(() => est.Fit(zoo.Merged, new MergeInputs(zoo.Family, new Dictionary<string, TaskDataset> { ["a"] = a, ["zzz"] = a })), est.Name + ": unknown task");
            Assert.ThrowsExactly<AlignmentDataException>(() => est.Fit(zoo.Merged, new MergeInputs(zoo.Family, new Dictionary<string, TaskDataset> { ["a"] = a })), est.Name + ": missing task");
            Assert.ThrowsExactly<AlignmentDataException>(() => est.Fit(zoo.Merged, new MergeInputs(zoo.Family, new Dictionary<string, TaskDataset> { ["a"] = a, ["b"] = empty })), est.Name + ": empty");
            Assert.ThrowsExactly<AlignmentDataException>(() => est.Fit(zoo.Merged, new MergeInputs(zoo.Family, new Dictionary<string, TaskDataset> { ["a"] = a, ["b"] = wrongSize })), est.Name + ": example size");
        }
        using var wide = new TinyAlignmentZoo(headWidth: 3);
        foreach (var est in Estimators())
        {
            var e = Assert.ThrowsExactly<CheckpointFormatException>(() => est.Fit(wide.Merged, wide.Inputs), est.Name + ": head width");
            StringAssert.Contains(e.Message, "classifier.weight");
        }
    }

    [TestMethod]
    public void SavedState_RestoresThroughTheRegistryToIdenticalPredictions()
    {
        using var zoo = new TinyAlignmentZoo();
        foreach (var est in Estimators())
        {
            var model = est.Fit(zoo.Merged, zoo.Inputs);
            var entry = AlignmentMethods.Find(est.Name);
            var state = model.State.Select(s => new AlignedTensor(s.Name, s.Shape, (float[])s.Values.Clone())).ToList();
            var again = entry.Restore(zoo.Merged, model.Parameters, state);
            Assert.AreEqual(model.Method, again.Method);
            foreach (var task in new[] { "a", "b" })
                CollectionAssert.AreEqual(model.PredictProbabilities(task, zoo.Data[task]), again.PredictProbabilities(task, zoo.Data[task]), $"{est.Name} {task}");
            CollectionAssert.AreEqual(model.State.SelectMany(s => s.Values).ToArray(), again.State.SelectMany(s => s.Values).ToArray(), est.Name);
            // The restored model's parameters rebuild the same estimator settings.
            var rebuilt = entry.Create(again.Parameters, 0);
            CollectionAssert.AreEquivalent(est.Parameters.Keys.ToArray(), rebuilt.Parameters.Keys.ToArray(), est.Name);
            var truncated = state.Take(state.Count - 1).Append(state[^1] with { Values = new float[1] }).ToList();
            Assert.ThrowsExactly<AlignmentDataException>(() => entry.Restore(zoo.Merged, model.Parameters, truncated), est.Name + ": bad state");
        }
    }

    [TestMethod]
    public void Registry_CreatesEveryStageAndRejectsUnknownParameters()
    {
        foreach (var name in new[] { "ft_classifier", "aligned_transform", "surgery" })
        {
            var entry = AlignmentMethods.Find(name);
            var est = entry.Create(new Dictionary<string, ParameterValue>(), 0);
            Assert.AreEqual(name, est.Name);
            Assert.AreEqual(DataRequirement.UnlabeledTest, est.Consumes);
            Assert.ThrowsExactly<RecipeException>(() => entry.Create(new Dictionary<string, ParameterValue> { ["colour"] = new ParameterValue.Text("blue") }, 0), name);
        }
        Assert.ThrowsExactly<RecipeException>(() => AlignmentMethods.Find("aligned_transform").Create(new Dictionary<string, ParameterValue> { ["transform"] = new ParameterValue.Text("shear") }, 0));
        Assert.ThrowsExactly<RecipeException>(() => AlignmentMethods.Find("ft_classifier").Create(new Dictionary<string, ParameterValue> { ["epochs"] = new ParameterValue.Scalar(0) }, 0));
        Assert.ThrowsExactly<RecipeException>(() => AlignmentMethods.Find("nope"));
    }

    [TestMethod]
    public void FewShotStages_DrawPerSeed()
    {
        using var zoo = new TinyAlignmentZoo();
        var est = (AlignedTransformEstimator)EngineRuns.Stage(new AlignedTransformOptions { Transform = AlignedTransformKind.Scaling, ShotsPerClass = 2 });
        var s0 = (AlignedTransformModel)est.WithSeed(0).Fit(zoo.Merged, zoo.Inputs);
        var s0Again = (AlignedTransformModel)est.WithSeed(0).Fit(zoo.Merged, zoo.Inputs);
        var s1 = (AlignedTransformModel)est.WithSeed(1).Fit(zoo.Merged, zoo.Inputs);
        CollectionAssert.AreEqual(s0.TransformOf("a").Scale, s0Again.TransformOf("a").Scale);
        CollectionAssert.AreNotEqual(s0.TransformOf("a").Scale, s1.TransformOf("a").Scale);
        var idx = AlignmentInputs.FewShotIndices(zoo.Data["a"], 2, 0);
        Assert.AreEqual(4, idx.Length);
        CollectionAssert.AreEqual(new[] { 0, 0, 1, 1 }, idx.Select(i => zoo.Data["a"].Labels![i]).ToArray(), "class-balanced");
    }
}
