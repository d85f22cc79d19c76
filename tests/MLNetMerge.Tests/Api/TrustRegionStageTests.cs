using Microsoft.ML;
using MLNetMerge.Alignment;
using MLNetMerge.Data;

namespace MLNetMerge.Tests.Api;

/// <summary>The trust-region stage in an ML.NET pipeline: predicted labels from unlabeled rows, or the view's label column
/// (<see cref="AlignmentOptions.LabelColumnName"/>) with <see cref="TrustRegionLabels.Validation"/>.</summary>
[TestClass]
public sealed class TrustRegionStageTests
{
    private static MergeEstimator Estimator(MLContext ml, MergeFamily family, TrustRegionOptions stage) =>
        ml.Merging().TaskArithmetic(family, new TaskArithmeticOptions { Seed = 3 }).Append(ml.Merging().TrustRegion(stage));

    private static float[][] State(AlignedModel model) => [.. model.State.Select(t => t.Values.ToArray())];

    private static bool Same(float[][] a, float[][] b) => a.Length == b.Length && a.Zip(b).All(p => p.First.SequenceEqual(p.Second));

    [TestMethod]
    public void PredictedLabels_FitInAPipelineOnUnlabeledRows()
    {
        var ml = new MLContext(seed: 0);
        using var family = ml.Merging().LoadZooFamily(ZooPaths.Vision);
        var test = ml.Merging().LoadZooData(ZooPaths.Vision, "test");
        var unlabeled = ml.Transforms.DropColumns("Label").Fit(test).Transform(test);
        var model = Estimator(ml, family, new TrustRegionOptions { Samples = 64 }).Fit(unlabeled);
        Assert.IsNotNull(model.Transform(test).Schema.GetColumnOrNull(MergeColumns.ForTask(MergeColumns.Score, "fashion")));
    }

    [TestMethod]
    public void ValidationLabels_AreTheViewsLabelColumn_TheEnginesFitOnTheSameLabeledRows()
    {
        var ml = new MLContext(seed: 0);
        using var family = ml.Merging().LoadZooFamily(ZooPaths.Vision);
        var view = ml.Merging().LoadZooData(ZooPaths.Vision, "validation");     // Label: the class name (text), Task
        var options = new TrustRegionOptions { Samples = 64, Labels = TrustRegionLabels.Validation };
        var estimator = Estimator(ml, family, options);
        var (merged, aligned) = estimator.FitModels(view);

        // The engine, given each task's stored validation split with its labels, fits the same bits.
        var manifest = ZooManifest.Load(ZooPaths.Vision);
        var data = manifest.Tasks.ToDictionary(t => t.Name, t => ZooManifest.LoadSplit(ZooPaths.Vision, t, t.Validation), StringComparer.Ordinal);
        var engine = estimator.Stage!.Create(3).Fit(merged, new MergeInputs(family.Family, data));
        Assert.IsTrue(Same(State(engine), State(aligned!)), "the pipeline's labeled fit differs from the engine's");

        // The labels matter: predicted labels give other weights.
        var predicted = Estimator(ml, family, new TrustRegionOptions { Samples = 64 }).FitModels(view).Aligned!;
        Assert.IsFalse(Same(State(predicted), State(aligned!)), "validation and predicted labels gave the same weights");

        // Another label column, named by the options: the same fit.
        var renamed = ml.Transforms.CopyColumns("Gold", "Label").Append(ml.Transforms.DropColumns("Label")).Fit(view).Transform(view);
        var gold = Estimator(ml, family, new TrustRegionOptions { Samples = 64, Labels = TrustRegionLabels.Validation, LabelColumnName = "Gold" }).FitModels(renamed).Aligned!;
        Assert.IsTrue(Same(State(gold), State(aligned!)));

        // No label column: a typed error naming the column and the setting.
        var e = Assert.ThrowsExactly<AlignmentDataException>(() => estimator.Fit(renamed));
        StringAssert.Contains(e.Message, "'Label'");
        StringAssert.Contains(e.Message, nameof(AlignmentOptions.LabelColumnName));
    }
}
