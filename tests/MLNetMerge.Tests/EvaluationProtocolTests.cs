using MLNetMerge.Tensors;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using MLNetMerge.Data;
using MLNetMerge.Evaluation;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests;

/// <summary>Current and KNN protocols on hand-made embeddings, and normalised accuracy.</summary>
[TestClass]
public sealed class EvaluationProtocolTests
{
    private static TaskDataset Labeled(int[] labels, int classes) =>
        new("t", new float[labels.Length], [1], labels, Enumerable.Range(0, classes).Select(c => $"c{c}").ToArray());

    private static readonly TaskHead Identity2 = new([1, 0, 0, 1], [0, 0], 2, 2);

    [TestMethod]
    public void CurrentUsesTheTaskHead()
    {
        // f = (2, 0) → logits (2, 0) → p0 = 1/(1 + e^−2) = 0.880797, predicted 0 ✓; f = (0, 1) → predicted 1 ✗ (label 0).
        var r = new CurrentProtocol().Evaluate([2, 0, 0, 1], Labeled([0, 0], 2), Identity2, null, null);
        Assert.AreEqual(0.5, r.Accuracy, 1e-12);
        Assert.AreEqual(0.0, r.AccuracyStd);
        Assert.AreEqual(1, r.Runs.Count);
        Assert.AreEqual(-(Math.Log(0.880797) + Math.Log(1 / (1 + Math.E))) / 2, r.Runs[0].LogLoss, 1e-5);
    }

    [TestMethod]
    public void KnnPredictsSmallestMeanDistanceNotNearestAnchor()
    {
        // Anchors: class 0 at (0,0) and (10,0); class 1 at (3,0) and (3,1). Query (1,0): nearest anchor is class 0 (d = 1),
        // but mean distances are class 0: (1 + 9)/2 = 5, class 1: (2 + √5)/2 = 2.118034 → class 1.
        float[] pool = [0, 0, 10, 0, 3, 0, 3, 1];
        var scores = new float[2];
        KnnProtocol.MeanDistanceScores(scores, [1, 0], pool, [0, 1, 2, 3], 1, 2, 2, 2);
        Assert.IsTrue(scores[1] > scores[0]);
        // softmax(−5, −2.118034): p1 = 1/(1 + e^(−2.881966)) = 0.947034
        Assert.AreEqual(1 / (1 + Math.Exp(-(5 - (2 + Math.Sqrt(5)) / 2))), scores[1], 1e-6);
    }

    [TestMethod]
    public void KnnAccuracyOverSeeds()
    {
        // Pool: two anchors per class, so every seed draws them all: class 0 (0,0),(0,2); class 1 (4,0),(4,2).
        // Query (1,1): means √2 = 1.414214 vs √10 = 3.162278 → 0; query (3,0): (3 + √13)/2 = 3.302776 vs (1 + √5)/2 = 1.618034 → 1.
        var pool = Labeled([0, 0, 1, 1], 2);
        var r = new KnnProtocol(shots: 2, seeds: 3).Evaluate([1, 1, 3, 0], Labeled([0, 1], 2), Identity2, [0, 0, 0, 2, 4, 0, 4, 2], pool);
        Assert.AreEqual("knn2", r.Protocol);
        Assert.AreEqual(3, r.Runs.Count);
        Assert.AreEqual(1.0, r.Accuracy, 1e-12);
        Assert.AreEqual(0.0, r.AccuracyStd, 1e-12);
        Assert.AreEqual(Math.Log(1 + Math.Exp(-(Math.Sqrt(10) - Math.Sqrt(2)))), r.Runs[0].PerClassLogLoss[0], 1e-5);
    }

    [TestMethod]
    public void KnnSeedsDrawDifferentAnchorsDeterministically()
    {
        // 1-D pool: class 0 at 0, 1, 2, 3, 4, 5; class 1 at 10. One shot; query 4.9 (label 0) is right only when the class-0 anchor
        // is closer than 10 − 4.9 = 5.1, i.e. always; query 7 (label 0) is right only when the anchor is ≥ 4 (|7 − a| < 3).
        var pool = Labeled([0, 0, 0, 0, 0, 0, 1], 2);
        float[] poolEmb = [0, 1, 2, 3, 4, 5, 10];
        var knn = new KnnProtocol(shots: 1, seeds: 8);
        var test = new TaskDataset("t", new float[2], [1], [0, 0], ["a", "b"]);
        var a = knn.Evaluate([4.9f, 7f], test, new TaskHead([1], [0], 1, 1), poolEmb, pool);
        var b = knn.Evaluate([4.9f, 7f], test, new TaskHead([1], [0], 1, 1), poolEmb, pool);
        Assert.AreEqual(a.Accuracy, b.Accuracy);
        var expected = Enumerable.Range(0, 8).Select(s => FewShotSampler.Sample([0, 0, 0, 0, 0, 0, 1], 2, 1, RandomStreams.Key(0, "knn.anchors", s, "t"))[0] >= 4 ? 1.0 : 0.5).Average();
        Assert.AreEqual(expected, a.Accuracy, 1e-12);
    }

    [TestMethod]
    public void NormalizedAccuracyIsMeanRatio()
    {
        // (0.6/0.8 + 0.9/0.9)/2 = (0.75 + 1)/2 = 0.875
        Assert.AreEqual(0.875, ModelEvaluation.NormalizedAccuracy([0.6, 0.9], [0.8, 0.9]), 1e-12);
        Assert.ThrowsExactly<ArgumentException>(() => ModelEvaluation.NormalizedAccuracy([0.6], [0.8, 0.9]));
    }
}
