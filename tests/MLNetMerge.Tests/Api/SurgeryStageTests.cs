using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetMerge.Data;

namespace MLNetMerge.Tests.Api;

/// <summary>Representation Surgery in an ML.NET pipeline: the exported graph runs each task's module between the
/// embedding and the frozen head, and scores what the engine's fitted stage predicts.</summary>
[TestClass]
public sealed class SurgeryStageTests
{
    private static float[][] Column(IDataView view, string name) => [.. view.GetColumn<float[]>(name)];

    [TestMethod]
    public void Surgery_ScoresAreTheStagesProbabilities_AndSurviveSaveAndLoad()
    {
        var ml = new MLContext(seed: 0);
        using var family = ml.Merging().LoadZooFamily(ZooPaths.Vision);
        var all = ml.Merging().LoadZooData(ZooPaths.Vision, "test");
        var unlabeled = ml.Transforms.DropColumns("Label").Fit(all).Transform(all);
        var estimator = ml.Merging().TaskArithmetic(family, new TaskArithmeticOptions { Seed = 5 })
            .Append(ml.Merging().Surgery(new SurgeryOptions { Rank = 4, Steps = 30 }));
        var model = estimator.Fit(unlabeled);
        var (_, aligned) = estimator.FitModels(unlabeled);
        Assert.AreEqual("surgery", aligned!.Method);

        var fashion = ml.Merging().LoadZooData(ZooPaths.Vision, "fashion", "test");
        var scores = Column(model.Transform(fashion), MergeColumns.ForTask(MergeColumns.Score, "fashion"));
        var data = ZooPaths.VisionTest("fashion", 1000);
        var expected = aligned.PredictProbabilities("fashion", data);
        int k = family.ClassNames("fashion").Count;
        double worst = Enumerable.Range(0, scores.Length * k).Max(i => Math.Abs(scores[i / k][i % k] - expected[i]));
        Assert.IsTrue(worst < 1e-4, $"the graph's Score differs from the stage's probabilities by {worst}");

        // The module matters: the frozen head on the merged features alone scores otherwise.
        var plain = ml.Merging().TaskArithmetic(family, new TaskArithmeticOptions { Seed = 5 }).Fit(unlabeled);
        var plainScores = Column(plain.Transform(fashion), MergeColumns.ForTask(MergeColumns.Score, "fashion"));
        double moved = Enumerable.Range(0, scores.Length * k).Max(i => Math.Abs(scores[i / k][i % k] - plainScores[i / k][i % k]));
        Assert.IsTrue(moved > 1e-3, $"the surgery module changed the scores by only {moved}");

        string zip = Path.Combine(Directory.CreateTempSubdirectory("mlnetmerge-surgery-").FullName, "model.zip");
        try
        {
            ml.Model.Save(model, unlabeled.Schema, zip);
            var ml2 = new MLContext();
            ml2.Merging().RegisterAssembly();
            var loaded = ml2.Model.Load(zip, out _);
            var again = Column(loaded.Transform(fashion), MergeColumns.ForTask(MergeColumns.Score, "fashion"));
            Assert.IsTrue(scores.Zip(again).All(p => p.First.SequenceEqual(p.Second)), "the loaded model scores differently");
            (loaded as IDisposable)?.Dispose();
        }
        finally { Directory.Delete(Path.GetDirectoryName(zip)!, recursive: true); }
    }
}
