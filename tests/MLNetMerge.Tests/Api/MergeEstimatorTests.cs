using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetMerge.Data;
using MLNetMerge.Merging;
using MLNetMerge.Tests.MLNet;

namespace MLNetMerge.Tests.Api;

/// <summary>
/// The public surface on the committed vision zoo: <c>ml.Merging()</c> estimators fit ML.NET components whose
/// <c>Score</c> is the engine's own probabilities, whose columns are the ones <c>GetOutputSchema</c> promised, whose
/// seed comes from the options or the context, and which score the same after <c>Model.Save</c>/<c>Load</c>.
/// </summary>
[TestClass]
public sealed class MergeEstimatorTests
{
    private static readonly string[] Tasks = ["fashion", "digits", "fashion_footwear"];

    private static MergeFamily Family(MLContext ml) =>
        ml.Merging().LoadFamily(Path.Combine(ZooPaths.Vision, "base.safetensors"), Tasks.Select(t => (t, Path.Combine(ZooPaths.Vision, t + ".safetensors"))));

    private static float[][] Column(IDataView view, string name) => [.. view.GetColumn<float[]>(name)];

    [TestMethod]
    public void OneTaskMerge_ScoresAreTheEngineProbabilities_AndMLNetMetricsAgree()
    {
        var ml = new MLContext(seed: 0);
        using var family = Family(ml);
        var test = ml.Merging().LoadZooData(ZooPaths.Vision, "fashion", "test");
        var model = ml.Merging().Ties(family, keep: 0.2, scale: 1.0, task: "fashion").Fit(test);
        var scored = model.Transform(test);

        var merged = MergeExecutor.RunInMemory(family.Family, "ties", new Dictionary<string, ParameterValue> { ["keep"] = new ParameterValue.Scalar(0.2), ["scale"] = new ParameterValue.Scalar(1.0) });
        var data = ZooPaths.VisionTest("fashion", 1000);
        var head = family.Family.Head("fashion");
        var expected = head.Probabilities(merged.Session.Embed(merged.Session.WeightsFor(merged, "fashion"), data), data.Count);   // (N, K)
        var scores = Column(scored, MergeColumns.Score);
        Assert.AreEqual(data.Count, scores.Length);
        double worst = 0;
        for (int i = 0; i < scores.Length; i++)
            for (int c = 0; c < head.ClassCount; c++) worst = Math.Max(worst, Math.Abs(scores[i][c] - expected[i * head.ClassCount + c]));
        Console.WriteLine($"max |Score − engine probability| over {scores.Length}×{head.ClassCount}: {worst:E2}");
        Assert.IsTrue(worst < 1e-4, $"ONNX Runtime's Score differs from the engine by {worst}");

        var metrics = ml.MulticlassClassification.Evaluate(scored);
        var own = Evaluation.ClassificationScores.Compute(expected, data.RequireLabels(), head.ClassCount);
        Assert.AreEqual(own.MicroAccuracy, metrics.MicroAccuracy, 1e-9);
        Assert.AreEqual(own.LogLoss, metrics.LogLoss, 1e-4);
        var keys = default(VBuffer<ReadOnlyMemory<char>>);
        scored.Schema[MergeColumns.PredictedLabel].GetKeyValues(ref keys);
        CollectionAssert.AreEqual(family.ClassNames("fashion").ToArray(), keys.DenseValues().Select(k => k.ToString()).ToArray());
    }

    [TestMethod]
    public void GetOutputSchema_RefusesInputsFitRefuses()
    {
        // A pipeline's schema check passed inputs that Fit then refused (found by an ML.NET user's trial).
        var ml = new MLContext(seed: 0);
        using var family = Family(ml);
        var estimator = ml.Merging().TaskArithmetic(family);
        var test = ml.Data.TakeRows(ml.Merging().LoadZooData(ZooPaths.Vision, "fashion", "test"), 4);
        string Refusal(IDataView view) => Assert.ThrowsExactly<ArgumentException>(() => estimator.GetOutputSchema(SchemaShapes.Of(view.Schema))).Message;
        var doubles = ml.Transforms.Conversion.ConvertType(MergeColumns.PixelValues, outputKind: DataKind.Double).Fit(test).Transform(test);
        Assert.AreEqual("input column 'pixel_values' is a vector of Double; the family's encoder expects a vector of 784 Single.", Refusal(doubles));
        var renamed = ml.Transforms.CopyColumns("pixels", MergeColumns.PixelValues).Fit(test).Transform(test);
        var missing = ml.Transforms.DropColumns(MergeColumns.PixelValues).Fit(renamed).Transform(renamed);
        StringAssert.StartsWith(Refusal(missing), "the input has no column 'pixel_values'; the family's encoder expects a vector of 784 Single (columns: ");
        var scalar = ml.Data.LoadFromEnumerable(new[] { new ScalarPixel { pixel_values = 1 } });
        Assert.AreEqual("input column 'pixel_values' is a scalar; the family's encoder expects a vector of 784 Single.", Refusal(scalar));
        var variable = ml.Data.LoadFromEnumerable(new[] { new VariablePixels { pixel_values = [1, 2] } });
        Assert.AreEqual("input column 'pixel_values' is a vector of variable size; the family's encoder expects a vector of 784 Single.", Refusal(variable));
        Assert.IsTrue(estimator.GetOutputSchema(SchemaShapes.Of(test.Schema)).Any(c => c.Name.StartsWith(MergeColumns.Score, StringComparison.Ordinal)));
    }

    private sealed class ScalarPixel
    {
#pragma warning disable IDE1006, CA1707 // the column's name
        public float pixel_values { get; set; }
    }

    private sealed class VariablePixels
    {
        public float[] pixel_values { get; set; } = [];
#pragma warning restore IDE1006, CA1707
    }

    [TestMethod]
    public void EveryTaskMerge_HasTheColumnsGetOutputSchemaPromised()
    {
        var ml = new MLContext(seed: 0);
        using var family = Family(ml);
        var test = ml.Merging().LoadZooData(ZooPaths.Vision, "fashion", "test");
        foreach (var estimator in new[] { ml.Merging().TaskArithmetic(family), ml.Merging().Emr(family) })
        {
            var promised = estimator.GetOutputSchema(SchemaShapes.Of(test.Schema));
            var actual = estimator.Fit(test).Transform(test).Schema;
            var added = actual.Where(c => !c.IsHidden && test.Schema.GetColumnOrNull(c.Name) is null).Select(c => c.Name).Order().ToList();
            var expected = promised.Select(c => c.Name).Where(n => test.Schema.GetColumnOrNull(n) is null).Order().ToList();
            CollectionAssert.AreEqual(expected, added, $"{estimator.Method.Name}: {string.Join(", ", added)}");
            foreach (var c in promised.Where(c => test.Schema.GetColumnOrNull(c.Name) is null))
                Assert.AreEqual(c.ItemType.RawType, (actual[c.Name].Type is VectorDataViewType v ? v.ItemType : actual[c.Name].Type).RawType, c.Name);
            bool perTask = estimator.Method.IsPerTask;
            Assert.AreEqual(!perTask, added.Contains(MergeColumns.Embedding), estimator.Method.Name);
            foreach (var task in Tasks)
            {
                Assert.IsTrue(added.Contains(MergeColumns.ForTask(MergeColumns.Score, task)));
                Assert.IsTrue(added.Contains(MergeColumns.ForTask(MergeColumns.PredictedLabel, task)));
                Assert.AreEqual(perTask, added.Contains(MergeColumns.ForTask(MergeColumns.Embedding, task)));
                Assert.AreEqual(family.ClassNames(task).Count, ((VectorDataViewType)actual[MergeColumns.ForTask(MergeColumns.Score, task)].Type).Size);
            }
        }
    }

    [TestMethod]
    public void Seed_FromOptionsOrContext_MakesDareReproducible()
    {
        float[][] Scores(MLContext ml, ulong? seed)
        {
            using var family = Family(ml);
            var test = ml.Merging().LoadZooData(ZooPaths.Vision, "digits", "test");
            return Column(ml.Merging().Dare(family, new global::MLNetMerge.DareOptions { Drop = 0.9, Task = "digits", Seed = seed }).Fit(test).Transform(test), MergeColumns.Score)[..50];
        }
        static bool Same(float[][] a, float[][] b) => a.Zip(b).All(p => p.First.SequenceEqual(p.Second));
        Assert.IsTrue(Same(Scores(new MLContext(seed: 1), 7), Scores(new MLContext(seed: 2), 7)), "the options' seed decides");
        Assert.IsFalse(Same(Scores(new MLContext(), 7), Scores(new MLContext(), 8)), "another seed drops other entries");
        Assert.IsTrue(Same(Scores(new MLContext(seed: 3), null), Scores(new MLContext(seed: 3), null)), "the context's seed decides");
        Assert.IsFalse(Same(Scores(new MLContext(seed: 3), null), Scores(new MLContext(seed: 4), null)));
    }

    [TestMethod]
    public void AlignedMerge_ScoresAreTheStagesProbabilities_AndSurviveSaveAndLoad()
    {
        var ml = new MLContext(seed: 0);
        using var family = ml.Merging().LoadZooFamily(ZooPaths.Vision);
        var all = ml.Merging().LoadZooData(ZooPaths.Vision, "test");
        var unlabeled = ml.Transforms.DropColumns("Label").Fit(all).Transform(all);
        var estimator = ml.Merging().TaskArithmetic(family, new global::MLNetMerge.TaskArithmeticOptions { Seed = 5 }).Append(ml.Merging().FtClassifier(new global::MLNetMerge.FtClassifierOptions { ShotsPerClass = 2, Epochs = 2 }));
        var model = estimator.Fit(unlabeled);

        var (merged, aligned) = estimator.FitModels(unlabeled);
        var fashion = ml.Merging().LoadZooData(ZooPaths.Vision, "fashion", "test");
        var scores = Column(model.Transform(fashion), MergeColumns.ForTask(MergeColumns.Score, "fashion"));
        var data = ZooPaths.VisionTest("fashion", 1000);
        var expected = aligned!.PredictProbabilities("fashion", data);
        int k = family.ClassNames("fashion").Count;
        double worst = Enumerable.Range(0, scores.Length * k).Max(i => Math.Abs(scores[i / k][i % k] - expected[i]));
        Assert.IsTrue(worst < 1e-4, $"the aligned Score differs from the stage's probabilities by {worst}");

        string zip = Path.Combine(Directory.CreateTempSubdirectory("mlnetmerge-api-").FullName, "model.zip");
        try
        {
            ml.Model.Save(model, unlabeled.Schema, zip);
            var ml2 = new MLContext();
            ml2.Merging().RegisterAssembly();
            var loaded = ml2.Model.Load(zip, out var schema);
            Assert.IsNotNull(schema.GetColumnOrNull(MergeColumns.PixelValues));
            var again = Column(loaded.Transform(fashion), MergeColumns.ForTask(MergeColumns.Score, "fashion"));
            Assert.IsTrue(scores.Zip(again).All(p => p.First.SequenceEqual(p.Second)), "the loaded model scores differently");
            var label = loaded.Transform(fashion).GetColumn<uint>(MergeColumns.ForTask(MergeColumns.PredictedLabel, "fashion")).Take(20).ToArray();
            var argmax = scores.Take(20).Select(s => (uint)(Array.IndexOf(s, s.Max()) + 1)).ToArray();
            CollectionAssert.AreEqual(argmax, label);
            (loaded as IDisposable)?.Dispose();
        }
        finally { Directory.Delete(Path.GetDirectoryName(zip)!, recursive: true); }
    }

    /// <summary>A transformer serving one task fits its stage on that task's rows alone, and its scores are the ones the
    /// all-task fit gives that task (FT-Classifier trains each task's head on its own rows, same seed).</summary>
    [TestMethod]
    public void OneTaskAlignedMerge_FitsOnThatTasksRows_AsTheAllTaskFitDoes()
    {
        var ml = new MLContext(seed: 0);
        using var family = ml.Merging().LoadZooFamily(ZooPaths.Vision);
        var stage = new global::MLNetMerge.FtClassifierOptions { ShotsPerClass = 2, Epochs = 2 };
        var fashion = ml.Merging().LoadZooData(ZooPaths.Vision, "fashion", "test");
        var fashionUnlabeled = ml.Transforms.DropColumns("Label").Fit(fashion).Transform(fashion);
        var one = ml.Merging().TaskArithmetic(family, new global::MLNetMerge.TaskArithmeticOptions { Seed = 5, Task = "fashion" })
            .Append(ml.Merging().FtClassifier(stage)).Fit(fashionUnlabeled);

        var all = ml.Merging().LoadZooData(ZooPaths.Vision, "test");
        var allUnlabeled = ml.Transforms.DropColumns("Label").Fit(all).Transform(all);
        var every = ml.Merging().TaskArithmetic(family, new global::MLNetMerge.TaskArithmeticOptions { Seed = 5 })
            .Append(ml.Merging().FtClassifier(stage)).Fit(allUnlabeled);

        var served = Column(one.Transform(fashion), MergeColumns.Score);
        var fromAll = Column(every.Transform(fashion), MergeColumns.ForTask(MergeColumns.Score, "fashion"));
        Assert.HasCount(fromAll.Length, served);
        double worst = served.Zip(fromAll).Max(p => p.First.Zip(p.Second).Max(q => Math.Abs(q.First - q.Second)));
        Assert.IsLessThan(1e-6, worst, $"one-task and all-task FT-Classifier scores for fashion differ by {worst}");
        var plain = Column(ml.Merging().TaskArithmetic(family, new global::MLNetMerge.TaskArithmeticOptions { Seed = 5, Task = "fashion" }).Fit(fashionUnlabeled).Transform(fashion), MergeColumns.Score);
        Assert.IsGreaterThan(1e-3, served.Zip(plain).Max(p => p.First.Zip(p.Second).Max(q => Math.Abs(q.First - q.Second))), "the stage changed nothing");
    }

    [TestMethod]
    public void BadInput_IsOneTypedLineNamingTheColumn()
    {
        var ml = new MLContext(seed: 0);
        using var family = Family(ml);
        var wrong = new global::MLNetMerge.MLNet.ArrayDataViewBuilder().AddFloatVector(MergeColumns.PixelValues, new float[10 * 100], 100).Build();
        var e = Assert.ThrowsExactly<ArgumentException>(() => ml.Merging().TaskArithmetic(family).Fit(wrong));
        StringAssert.Contains(e.Message, "'pixel_values'");
        StringAssert.Contains(e.Message, "784");
        Assert.IsFalse(e.Message.Contains('\n'));
        Assert.ThrowsExactly<ArgumentException>(() => ml.Merging().Ties(family, task: "cars"));
        Assert.ThrowsExactly<RecipeException>(() => ml.Merging().Ties(family, keep: 1.5));
        Assert.ThrowsExactly<InvalidOperationException>(() => ml.Merging().Ties(family).Append(ml.Merging().FtClassifier()).Append(ml.Merging().AdaMerging()));
    }

    [TestMethod]
    public void AMethodForAnotherNumberOfModels_IsRefusedWhenTheEstimatorIsBuilt()
    {
        var ml = new MLContext(seed: 0);
        using var family = Family(ml);
        var e = Assert.ThrowsExactly<ArgumentException>(() => ml.Merging().Slerp(family));
        StringAssert.Contains(e.Message, $"slerp merges exactly 2 fine-tuned models; the family has {family.TaskNames.Count}");
        using var two = ml.Merging().LoadFamily(Path.Combine(ZooPaths.Vision, "base.safetensors"),
            [("fashion", Path.Combine(ZooPaths.Vision, "fashion.safetensors")), ("digits", Path.Combine(ZooPaths.Vision, "digits.safetensors"))]);
        Assert.AreEqual("slerp", ml.Merging().Slerp(two).Method.Name);
    }
}
