using Microsoft.ML;

namespace MLNetMerge.Tests.Api;

/// <summary>The trust-region stage in an ML.NET pipeline: the estimator path reads no label column for stages.</summary>
[TestClass]
public sealed class TrustRegionStageTests
{
    [TestMethod]
    public void PredictedLabels_FitInAPipeline_AndValidationLabelsNeedLabeledInputs()
    {
        var ml = new MLContext(seed: 0);
        using var family = ml.Merging().LoadZooFamily(ZooPaths.Vision);
        var test = ml.Merging().LoadZooData(ZooPaths.Vision, "test");
        var model = ml.Merging().TaskArithmetic(family).Append(ml.Merging().TrustRegion(new TrustRegionOptions { Samples = 4 })).Fit(test);
        Assert.IsNotNull(model.Transform(test).Schema.GetColumnOrNull(MergeColumns.ForTask(MergeColumns.Score, "fashion")));
        var e = Assert.ThrowsExactly<AlignmentDataException>(() => ml.Merging().TaskArithmetic(family)
            .Append(ml.Merging().TrustRegion(new TrustRegionOptions { Samples = 4, Labels = TrustRegionLabels.Validation })).Fit(test));
        StringAssert.Contains(e.Message, "labels: validation");
    }
}
