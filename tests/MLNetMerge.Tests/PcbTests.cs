using MLNetMerge.Merging;
using MLNetMerge.Merging.Methods;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

/// <summary>PCB merging (docs/methods/pcb.md): hand-worked selections on one tensor of four elements, and the run's invariants.</summary>
[TestClass]
public sealed class PcbTests
{
    [TestMethod]
    public void EachTaskKeepsItsTopScoredElementAtWeightOne()
    {
        // θ0 = 0, T = 2, clip 0 (the bounds are min and max |τ|), keep 0.5 of d = 4: the threshold is each task's 2nd largest
        // score, so only the largest gets a weight, (top − q)/(top − q) = 1. Σ τ = [0.6, −0.5, 0.4, 0.3].
        // Task 1: |τ| = [0.5, 0.1, 0.2, 0] in [0, 0.5], s² = [1, 0.04, 0.16, 0];
        //   p = exp(2 s²)·tanh(τ ⊙ Σ) = [e²·tanh 0.3, e^0.08·tanh 0.05, e^0.32·tanh 0.08, 0] ≈ [2.152, 0.054, 0.110, 0]: element 0.
        // Task 2: |τ| = [0.1, 0.4, 0.2, 0.3] in [0.1, 0.4], s² = [0, 1, 1/9, 4/9];
        //   p ≈ [tanh 0.06, e²·tanh 0.2, e^(2/9)·tanh 0.08, e^(8/9)·tanh 0.09] ≈ [0.060, 1.459, 0.100, 0.218]: element 1.
        // Merged: element 0 task 1's 0.5, element 1 task 2's −0.4, the rest no weight (0 / 1e-12 = 0).
        var f = new TinyFamily("t1", "t2").WithTaskVectors("w", [4], [0f, 0f, 0f, 0f], [0.5f, -0.1f, 0.2f, 0f], [0.1f, -0.4f, 0.2f, 0.3f]);
        var merged = Run(f, "pcb", P(("keep", 0.5), ("clip", 0.0), ("scale", 1.0))).Tensors["w"];
        CollectionAssert.AreEqual(new[] { 0.5f, -0.4f, 0f, 0f }, merged);
    }

    [TestMethod]
    public void TasksSelectingTheSameElementAverage()
    {
        // Σ τ = [0.9, 0.15, 0.3, 0.25]; clip 0; keep 0.5. Task 1: |τ| in [0.05, 0.5], p ≈ [e²·tanh 0.45, 0.015, 0.075, 0.013]
        // → element 0. Task 2: |τ| in [0.05, 0.4], p ≈ [e²·tanh 0.36, 0.008, 0.031, 0.072] → element 0. Both weights are 1:
        // element 0 is (0.5 + 0.4) / 2, scaled by λ = 0.3 onto θ0 = 1.
        var f = new TinyFamily("t1", "t2").WithTaskVectors("w", [4], [0f, 0f, 0f, 0f], [0.5f, 0.1f, 0.2f, 0.05f], [0.4f, 0.05f, 0.1f, 0.2f]);
        var merged = Run(f, "pcb", P(("keep", 0.5), ("clip", 0.0))).Tensors["w"];
        CollectionAssert.AreEqual(new[] { 0.3f * ((0.5f + 0.4f) / 2f), 0f, 0f, 0f }, merged);
    }

    [TestMethod]
    public void KeepZeroLeavesTheBase()
    {
        var theta0 = Random(64, 3);
        var f = new TinyFamily("t1", "t2", "t3").WithTaskVectors("w", [8, 8], theta0, Random(64, 4), Random(64, 5), Random(64, 6));
        CollectionAssert.AreEqual(theta0, Run(f, "pcb", P(("keep", 0.0))).Tensors["w"]);
    }

    [TestMethod]
    public void ThreadsDoNotChangeTheBits()
    {
        // Several tensors large enough for the workers to split them; the selections are integer counts summed after each pass.
        var f = new TinyFamily("a", "b", "c", "d");
        for (int k = 0; k < 6; k++)
            f.WithTaskVectors($"blocks.{k}.w", [96, 64], Random(6144, (ulong)(10 * k)), Random(6144, (ulong)(10 * k + 1), 0.1f),
                Random(6144, (ulong)(10 * k + 2), 0.1f), Random(6144, (ulong)(10 * k + 3), 0.1f), Random(6144, (ulong)(10 * k + 4), 0.1f));
        var keep = P(("keep", 0.93)); // past the positive scores for some task: the negative route too
        var one = Run(f, "pcb", keep, options: new MergeExecutionOptions { MaxThreads = 1 }).Tensors;
        var two = Run(f, "pcb", keep, options: new MergeExecutionOptions { MaxThreads = 2 }).Tensors;
        foreach (var (name, values) in one) CollectionAssert.AreEqual(values, two[name], name);
    }

    [TestMethod]
    public void NonFiniteElementStaysNonFiniteAndCountsAsZero() => AssertNonFiniteCountsAsZero("pcb", P(("keep", 0.3)), 5);

    [TestMethod]
    public void TanhKeepsFloatPrecisionForTinyArguments()
    {
        // The products τt ⊙ Σ τ are mostly 1e-7 … 1e-3 on real families; the score cut ranks them, so tanh must keep its
        // relative precision there (TensorPrimitives.Tanh is off by 4.6 % at 1e-6). Log-spaced over 1e-30 … 20, both signs,
        // an odd length so the scalar tail runs too.
        var x = Enumerable.Range(0, 1001).Select(i => (float)(Math.Pow(10, -30 + 31.3 * i / 1000) * (i % 2 == 0 ? 1 : -1))).ToArray();
        var y = new float[x.Length];
        PcbKernels.Tanh(x, y);
        for (int i = 0; i < x.Length; i++)
        {
            double want = Math.Tanh(x[i]);
            Assert.IsTrue(Math.Abs(y[i] - want) <= 4e-7 * Math.Abs(want), $"tanh({x[i]:G9}) = {y[i]:G9}, want {want:G9}");
        }
    }

    [TestMethod]
    public void ScaleVariesOverLayers_GlobalSharesMayNot()
    {
        // λ is applied per tensor (a per-layer list: layer 0 takes 0.2, layer 1 takes 0.8); keep and clip are one share of
        // the whole model per task, so a list for them is refused rather than cut to one value.
        var f = new TinyFamily("a", "b", "c");
        for (int k = 0; k < 2; k++)
            f.WithTaskVectors($"layers.{k}.w", [4, 4], Random(16, (ulong)(20 + k)), Random(16, (ulong)(30 + k), 0.1f), Random(16, (ulong)(40 + k), 0.1f), Random(16, (ulong)(50 + k), 0.1f));
        var unit = Run(f, "pcb", P(("keep", 0.5), ("scale", 1.0))).Tensors;
        var listed = Run(f, "pcb", P(("keep", 0.5), ("scale", new[] { 0.2, 0.8 }))).Tensors;
        var theta0 = f.Build().Base;
        foreach (var (name, lambda) in new[] { ("layers.0.w", 0.2), ("layers.1.w", 0.8) })
        {
            var b = new float[16];
            theta0.TryGetTensor(name, out var info);
            theta0.ReadFloat32(info, b);
            AssertClose(b.Select((x, i) => (float)(x + lambda * (unit[name][i] - x))).ToArray(), listed[name], 1e-6, name);
        }
        var e = Assert.ThrowsExactly<RecipeException>(() => Run(f, "pcb", P(("keep", new[] { 0.2, 0.5 }))));
        StringAssert.Contains(e.Message, "'keep' of pcb varies over layers or tensors");
        e = Assert.ThrowsExactly<RecipeException>(() => Run(f, "tatr", P(("quantile", new[] { 0.9, 0.5 }))));
        StringAssert.Contains(e.Message, "'quantile' of tatr varies over layers or tensors");
    }
}
