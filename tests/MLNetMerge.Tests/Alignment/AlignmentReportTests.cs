using MLNetMerge.Alignment;
using MLNetMerge.Evaluation;
using MLNetMerge.Recipes;

namespace MLNetMerge.Tests.Alignment;

/// <summary>The task-averaged figures of an alignment row (<see cref="RunReport"/>), on hand-worked one-example tasks.</summary>
[TestClass]
public sealed class AlignmentReportTests
{
    [TestMethod]
    public void AverageEce_IsTheMeanOverTasksOfEachTasksMeanOverSeeds()
    {
        // Task a, one example of class 0: seed 1 predicts [0.8, 0.2] (confidence 0.8, correct → ECE |1 − 0.8| = 0.2),
        // seed 2 predicts [0.3, 0.7] (confidence 0.7, wrong → ECE 0.7); task a's mean ECE 0.45.
        // Task b, one example of class 1: [0.6, 0.4] (confidence 0.6, wrong → ECE 0.6), both seeds.
        // Average over tasks: (0.45 + 0.6) / 2 = 0.525.
        static ClassificationScores M(float p0, float p1, int label) => ClassificationScores.Compute([p0, p1], [label], 2);
        var results = new Dictionary<string, ProtocolResult>
        {
            ["a"] = ProtocolResult.From("aligned", [M(0.8f, 0.2f, 0), M(0.3f, 0.7f, 0)]),
            ["b"] = ProtocolResult.From("aligned", [M(0.6f, 0.4f, 1), M(0.6f, 0.4f, 1)]),
        };
        Assert.AreEqual(0.525, RunReport.AverageEce(results, ["a", "b"]), 1e-6);
        // Accuracy per seed: seed 1 (1 + 0) / 2 = 0.5, seed 2 (0 + 0) / 2 = 0 → population std 0.25.
        Assert.AreEqual(0.25, RunReport.AverageStd(results, ["a", "b"]), 1e-12);
    }
}
