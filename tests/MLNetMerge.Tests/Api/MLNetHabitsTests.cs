using System.Globalization;
using Microsoft.Data.Analysis;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace MLNetMerge.Tests.Api;

/// <summary>
/// ML.NET habits of <c>mlContext.Merging()</c>: the merge estimator and evaluation write their progress on
/// <c>MLContext.Log</c> through a registered host and channel, and a Microsoft.Data.Analysis DataFrame (one scalar
/// column per pixel, the label as text) stands in for an IDataView in Fit, Transform and Evaluate once its columns are
/// concatenated into the family's input vector — with the same outputs and metrics as the zoo's own view.
/// </summary>
[TestClass]
public sealed class MLNetHabitsTests
{
    private const int Rows = 40;

    [TestMethod]
    public void Fit_and_evaluate_write_their_progress_on_the_contexts_log()
    {
        var ml = new MLContext(seed: 0);
        var seen = new List<LoggingEventArgs>();
        ml.Log += (_, e) => { lock (seen) seen.Add(e); };
        using var family = ml.Merging().LoadFamily(Path.Combine(ZooPaths.Vision, "base.safetensors"), [("fashion", Path.Combine(ZooPaths.Vision, "fashion.safetensors"))]);
        var test = ml.Data.TakeRows(ml.Merging().LoadZooData(ZooPaths.Vision, "fashion", "test"), Rows);
        var estimator = ml.Merging().TaskArithmetic(family, new TaskArithmeticOptions { Task = "fashion", Seed = 4 })
            .Append(ml.Merging().FtClassifier(new FtClassifierOptions { ShotsPerClass = 0, Epochs = 1 }));
        using var model = estimator.Fit(test);
        var result = ml.Merging().Evaluate(model, family, test, options: new EvaluationOptions { KnnShots = [], Task = "fashion" });

        List<string> From(string source, ChannelMessageKind kind) =>
            [.. seen.Where(e => e.Kind == kind && e.Source.Contains(source, StringComparison.Ordinal)).Select(e => e.Message)];
        var merge = From("MLNetMerge.MergeEstimator", ChannelMessageKind.Info);
        string all = string.Join(" | ", seen.Select(e => $"{e.Kind} {e.Source}: {e.Message}"));
        Assert.IsTrue(merge.Any(m => m.Contains("merging 1 tasks (fashion) with task_arithmetic, seed 4")), all);
        Assert.IsTrue(merge.Any(m => m.Contains("merged ") && m.Contains(" tensors")), all);
        Assert.IsTrue(merge.Any(m => m.Contains($"fitting ft_classifier on {Rows} rows of 1 tasks")), all);
        Assert.IsTrue(merge.Any(m => m.Contains("fitted ft_classifier")), all);
        Assert.IsTrue(From("MLNetMerge.MergeEstimator", ChannelMessageKind.Trace).Count > 0, "progress reports arrive as trace messages: " + all);
        string accuracy = result["fashion", "current"].Accuracy.ToString("F4", CultureInfo.InvariantCulture);
        Assert.IsTrue(From("MLNetMerge.Evaluate", ChannelMessageKind.Info).Any(m => m.Contains($"fashion current: accuracy {accuracy}")), all);
    }

    [TestMethod]
    public void A_data_frame_stands_in_for_the_view_in_fit_transform_and_evaluate()
    {
        var ml = new MLContext(seed: 0);
        using var family = Conformance.ConformanceFamily.OpenPublic(ml);
        var zoo = ml.Data.TakeRows(ml.Merging().LoadZooData(ZooPaths.Vision, "fashion", "test"), Rows);
        var pixels = zoo.GetColumn<float[]>(MergeColumns.PixelValues).ToArray();                   // (N)(784)
        var keys = zoo.GetColumn<uint>("Label").ToArray();                                          // key = class + 1
        var classes = family.ClassNames("fashion");
        int width = pixels[0].Length;
        // The user's table: one float column per pixel and the class name as text.
        var frame = new DataFrame([
            .. Enumerable.Range(0, width).Select(j => (DataFrameColumn)new PrimitiveDataFrameColumn<float>("p" + j, pixels.Select(p => p[j]))),
            new StringDataFrameColumn("Label", keys.Select(k => classes[(int)k - 1])),
        ]);
        Assert.IsInstanceOfType<IDataView>(frame);

        var merge = ml.Merging().TaskArithmetic(family, scale: 0.3, task: "fashion");
        var fromFrame = ml.Transforms.Concatenate(MergeColumns.PixelValues, [.. Enumerable.Range(0, width).Select(j => "p" + j)])
            .Append(ml.Merging().MapClassNamesToKeys(family, "fashion"))
            .Append(merge)
            .Fit(frame);
        using var fromZoo = merge.Fit(zoo);

        var scoreFrame = fromFrame.Transform(frame).GetColumn<float[]>(MergeColumns.Score).ToArray();
        var scoreZoo = fromZoo.Transform(zoo).GetColumn<float[]>(MergeColumns.Score).ToArray();
        Assert.AreEqual(Rows, scoreFrame.Length);
        for (int i = 0; i < Rows; i++) CollectionAssert.AreEqual(scoreZoo[i], scoreFrame[i], $"row {i}: the same probabilities");
        var labelFrame = fromFrame.Transform(frame).GetColumn<uint>("Label").ToArray();
        CollectionAssert.AreEqual(keys, labelFrame, "text labels keyed in the task's class order");

        var options = new EvaluationOptions { KnnShots = [], Task = "fashion" };
        var a = ml.Merging().Evaluate(fromFrame, family, frame, options: options)["fashion", "current"].Runs.Single();
        var b = ml.Merging().Evaluate(fromZoo, family, zoo, options: options)["fashion", "current"].Runs.Single();
        Assert.AreEqual(b.MicroAccuracy, a.MicroAccuracy, 0.0);
        Assert.AreEqual(b.LogLoss, a.LogLoss, 0.0);
        Assert.IsTrue(a.MicroAccuracy > 0.3, $"the merge classifies fashion well above chance (10 classes): {a.MicroAccuracy}");
        (fromFrame as IDisposable)?.Dispose();
    }
}
