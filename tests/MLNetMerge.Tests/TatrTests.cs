using MLNetMerge.Merging;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

/// <summary>TATR (docs/methods/tatr.md): hand-worked trust regions on tiny families, and the run's invariants.</summary>
[TestClass]
public sealed class TatrTests
{
    [TestMethod]
    public void ElementsAtOrAboveTheConflictQuantileStayAtTheBase()
    {
        // Two tasks: Ω = 2 |τ1| |τ2| = [2, 4, 0, 12]. quantile 0.5 of N = 4: the ascending 2nd (0-based) of [0, 2, 4, 12], q = 4;
        // Ω < 4 keeps elements 0 and 2. Σ τ = [2, 1, 5, 5] → [2, 0, 5, 0] at λ 1 on θ0 = 0.
        var f = new TinyFamily("t1", "t2").WithTaskVectors("w", [4], [0f, 0f, 0f, 0f], [1f, 2f, 0f, 3f], [1f, -1f, 5f, 2f]);
        var merged = Run(f, "tatr", P(("quantile", 0.5), ("scale", 1.0))).Tensors["w"];
        CollectionAssert.AreEqual(new[] { 2f, 0f, 5f, 0f }, merged);
    }

    [TestMethod]
    public void ConflictSumsEveryOrderedPairOfTasks()
    {
        // Three tasks. Element 0: |τ| = (1, 2, 3), Ω = 2 (1·2 + 1·3 + 2·3) = 22. Element 1: |τ| = (0, 0, 1), Ω = 0. Element 2:
        // |τ| = (1, 1, 4.5), Ω = 2 (1 + 4.5 + 4.5) = 20. quantile 2/3 of N = 3 → ascending index 2 → q = 22: elements 1 and 2
        // (Ω < 22) get θ0 + 0.3 Σ τ, element 0 stays θ0 = 1. With q at the next value down (quantile 0.5 → index 1, q = 20)
        // only element 1 moves.
        var f = new TinyFamily("a", "b", "c").WithTaskVectors("w", [3], [1f, 1f, 1f], [1f, 0f, 1f], [2f, 0f, -1f], [3f, 1f, 4.5f]);
        var wide = Run(f, "tatr", P(("quantile", 2.0 / 3))).Tensors["w"];
        CollectionAssert.AreEqual(new[] { 1f, 1f + 0.3f * 1f, 1f + 0.3f * 4.5f }, wide);
        var narrow = Run(f, "tatr", P(("threshold_quantile", 0.5))).Tensors["w"];
        CollectionAssert.AreEqual(new[] { 1f, 1f + 0.3f * 1f, 1f }, narrow);
    }

    [TestMethod]
    public void OneTaskHasNoConflictAndNoTrustRegion()
    {
        // Ω = 0 everywhere, q = 0, and nothing is below it: the authors' formula leaves θ0 (docs/methods/tatr.md).
        var theta0 = Random(16, 1);
        var f = new TinyFamily("only").WithTaskVectors("w", [16], theta0, Random(16, 2));
        CollectionAssert.AreEqual(theta0, Run(f, "tatr").Tensors["w"]);
    }

    [TestMethod]
    public void ThreadsDoNotChangeTheBits()
    {
        var f = new TinyFamily("a", "b", "c");
        for (int k = 0; k < 5; k++)
            f.WithTaskVectors($"blocks.{k}.w", [80, 64], Random(5120, (ulong)(7 * k)), Random(5120, (ulong)(7 * k + 1), 0.1f),
                Random(5120, (ulong)(7 * k + 2), 0.1f), Random(5120, (ulong)(7 * k + 3), 0.1f));
        var one = Run(f, "tatr", P(("quantile", 0.8)), options: new MergeExecutionOptions { MaxThreads = 1 }).Tensors;
        var two = Run(f, "tatr", P(("quantile", 0.8)), options: new MergeExecutionOptions { MaxThreads = 2 }).Tensors;
        foreach (var (name, values) in one) CollectionAssert.AreEqual(values, two[name], name);
    }

    [TestMethod]
    public void NonFiniteElementStaysNonFiniteAndCountsAsZero() => AssertNonFiniteCountsAsZero("tatr", P(("quantile", 0.6)), 9);
}
