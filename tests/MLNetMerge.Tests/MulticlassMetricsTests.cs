using Microsoft.VisualStudio.TestTools.UnitTesting;
using MLNetMerge.Evaluation;

namespace MLNetMerge.Tests;

/// <summary>Multiclass and regression metrics against hand-worked values.</summary>
[TestClass]
public sealed class MulticlassMetricsTests
{
    // Four examples, three classes (confidences chosen away from the 1/15 bin edges):
    //   y=0 p=[0.70, 0.20, 0.10] → ŷ=0 ✓ conf 0.70 (bin 10)
    //   y=1 p=[0.50, 0.40, 0.10] → ŷ=0 ✗ conf 0.50 (bin 7)
    //   y=2 p=[0.19, 0.19, 0.62] → ŷ=2 ✓ conf 0.62 (bin 9)
    //   y=1 p=[0.09, 0.82, 0.09] → ŷ=1 ✓ conf 0.82 (bin 12)
    private static readonly float[] P = [0.70f, 0.20f, 0.10f, 0.50f, 0.40f, 0.10f, 0.19f, 0.19f, 0.62f, 0.09f, 0.82f, 0.09f];
    private static readonly int[] Y = [0, 1, 2, 1];

    [TestMethod]
    public void AccuracyConfusionAndF1()
    {
        var m = ClassificationScores.Compute(P, Y, 3, topK: 2);
        Assert.AreEqual(0.75, m.MicroAccuracy, 1e-12);                     // 3 of 4
        // confusion rows (truth): [1,0,0], [1,1,0], [0,0,1]; recall 1, 0.5, 1 → macro 2.5/3
        Assert.AreEqual(2.5 / 3, m.MacroAccuracy, 1e-12);
        Assert.AreEqual(1L, m.ConfusionMatrix.GetCount(1, 0));
        Assert.AreEqual(0L, m.ConfusionMatrix.GetCount(0, 1));
        Assert.AreEqual(0.5, m.ConfusionMatrix.PerClassPrecision[0], 1e-12); // column 0 has 2 predictions, 1 right
        // F1: class 0 2·0.5·1/1.5 = 2/3, class 1 2·1·0.5/1.5 = 2/3, class 2 1 → macro 7/9
        Assert.AreEqual(7.0 / 9, m.MacroF1, 1e-12);
        Assert.AreEqual(7.0 / 9, m.F1Score, 1e-12);
        // top-2: example 2's true class (0.40) has one higher score → inside the top 2; all hit
        Assert.AreEqual(1.0, m.TopKAccuracy, 1e-12);
        Assert.AreEqual(0.75, ClassificationScores.Compute(P, Y, 3, topK: 1).TopKAccuracy, 1e-12);
    }

    [TestMethod]
    public void LogLossAndReduction()
    {
        var m = ClassificationScores.Compute(P, Y, 3);
        // −ln 0.7 = 0.356675, −ln 0.4 = 0.916291, −ln 0.62 = 0.478036, −ln 0.82 = 0.198451 → mean 0.487363
        double ll = -(Math.Log(0.7f) + Math.Log(0.4f) + Math.Log(0.62f) + Math.Log(0.82f)) / 4;
        Assert.AreEqual(0.487363, m.LogLoss, 1e-5);
        Assert.AreEqual(ll, m.LogLoss, 1e-9);
        Assert.AreEqual(-Math.Log(0.7f), m.PerClassLogLoss[0], 1e-9);
        Assert.AreEqual(-(Math.Log(0.4f) + Math.Log(0.82f)) / 2, m.PerClassLogLoss[1], 1e-9);
        // prior: q = (1/4, 1/2, 1/4) → H = 0.5·ln4 + 0.5·ln2 = 1.039721; reduction = (1.039721 − 0.487363)/1.039721 = 0.531256
        Assert.AreEqual(0.531256, m.LogLossReduction, 1e-5);
    }

    [TestMethod]
    public void LogLossClampsZeroProbability()
    {
        var m = ClassificationScores.Compute([1f, 0f], [1], 2);
        Assert.AreEqual(-Math.Log(1e-15), m.LogLoss, 1e-9);                // 34.538776
    }

    [TestMethod]
    public void ExpectedCalibrationError()
    {
        // One example per bin: (|1−0.70| + |0−0.50| + |1−0.62| + |1−0.82|)/4 = 1.36/4 = 0.34
        Assert.AreEqual(0.34, ClassificationScores.Compute(P, Y, 3).ExpectedCalibrationError, 1e-6);
        // Two examples in bin 10 (confidences 0.70, 0.72), one right: |0.5 − 0.71| = 0.21
        var m = ClassificationScores.Compute([0.70f, 0.30f, 0.72f, 0.28f], [0, 1], 2);
        Assert.AreEqual(0.21, m.ExpectedCalibrationError, 1e-6);
    }

    [TestMethod]
    public void MatthewsMulticlassAndBinary()
    {
        // R_K: c = 3, s = 4, predicted counts (2,1,1), true (1,2,1): (3·4 − (2+2+1)) / √((16−6)(16−6)) = 7/10
        Assert.AreEqual(0.7, ClassificationScores.Compute(P, Y, 3).MatthewsCorrelation, 1e-12);
        // Binary: y = 1,1,0,0,1; ŷ = 1,1,1,0,0 → TP 2, FN 1, FP 1, TN 1: (2·1 − 1·1)/√(3·3·2·2) = 1/6; F1 of class 1 = 2/3
        float[] p = [0.2f, 0.8f, 0.3f, 0.7f, 0.4f, 0.6f, 0.9f, 0.1f, 0.55f, 0.45f];
        var m = ClassificationScores.Compute(p, [1, 1, 0, 0, 1], 2);
        Assert.AreEqual(1.0 / 6, m.MatthewsCorrelation, 1e-12);
        Assert.AreEqual(2.0 / 3, m.F1Score, 1e-12);
    }

    [TestMethod]
    public void PearsonAndSpearmanWithTies()
    {
        // x = 1,2,3,4; y = 2,4,5,9: Σdxdy = 11, Σdx² = 5, Σdy² = 26 → 11/√130 = 0.964764
        Assert.AreEqual(11 / Math.Sqrt(130), RegressionMetrics.Pearson([1, 2, 3, 4], [2, 4, 5, 9]), 1e-12);
        // ranks of 1,2,2,3 = 1, 2.5, 2.5, 4; of 1,3,2,4 = 1,3,2,4 → Σdxdy 4.5, Σdx² 4.5, Σdy² 5 → 4.5/√22.5 = 0.948683
        CollectionAssert.AreEqual(new[] { 1, 2.5, 2.5, 4 }, RegressionMetrics.Ranks([1, 2, 2, 3]));
        Assert.AreEqual(4.5 / Math.Sqrt(22.5), RegressionMetrics.Spearman([1, 2, 2, 3], [1, 3, 2, 4]), 1e-12);
        Assert.AreEqual((11 / Math.Sqrt(130) + 1) / 2, RegressionMetrics.PearsonSpearmanMean([1, 2, 3, 4], [2, 4, 5, 9]), 1e-12);
        Assert.IsTrue(double.IsNaN(RegressionMetrics.Pearson([1, 1, 1], [1, 2, 3])));
    }
}
