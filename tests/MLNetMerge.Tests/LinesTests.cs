using MLNetMerge.Merging;
using MLNetMerge.Merging.Methods;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

/// <summary>LiNeS (docs/methods/lines.md): hand-worked merges of tiny families with blocks and tensors outside them.</summary>
[TestClass]
public sealed class LinesTests
{
    /// <summary>Three blocks and a final norm, two tasks: Σ τ per tensor is given in the comments.</summary>
    private static TinyFamily ThreeBlocks() => new TinyFamily("t1", "t2")
        .WithTaskVectors("blocks.0.w", [2], [1f, 1f], [2f, 0f], [0f, 4f])     // Σ τ = [2, 4]
        .WithTaskVectors("blocks.1.w", [2], [0f, 0f], [1f, 1f], [1f, -1f])    // Σ τ = [2, 0]
        .WithTaskVectors("blocks.2.w", [2], [0f, 0f], [4f, 0f], [0f, 4f])     // Σ τ = [4, 4]
        .WithTaskVectors("final_norm.w", [2], [1f, 1f], [2f, 2f], [2f, 2f]); // Σ τ = [4, 4]

    [TestMethod]
    public void TaskArithmeticScalesByBlockDepthFromOneOverT()
    {
        // α = 1/T = 0.5; β = 0.5 over L = 3 blocks: λ = 0.5, 0.75, 1.0 for blocks 0, 1, 2; the norm outside them takes α.
        var merged = Run(ThreeBlocks(), "lines").Tensors;
        AssertClose([2f, 3f], merged["blocks.0.w"], 0, "block 0: [1, 1] + 0.5·[2, 4]");
        AssertClose([1.5f, 0f], merged["blocks.1.w"], 0, "block 1: 0.75·[2, 0]");
        AssertClose([4f, 4f], merged["blocks.2.w"], 0, "block 2: 1.0·[4, 4]");
        AssertClose([3f, 3f], merged["final_norm.w"], 0, "outside the blocks: [1, 1] + 0.5·[4, 4]");
    }

    [TestMethod]
    public void AGivenAlphaReplacesTheNormRatio()
    {
        // α = 0.25, β = 1: λ = 0.25, 0.75, 1.25; the norm 0.25.
        var merged = Run(ThreeBlocks(), "lines", P(("alpha", 0.25), ("beta", 1.0))).Tensors;
        AssertClose([1.5f, 2f], merged["blocks.0.w"], 0, "block 0");
        AssertClose([1.5f, 0f], merged["blocks.1.w"], 0, "block 1");
        AssertClose([5f, 5f], merged["blocks.2.w"], 0, "block 2");
        AssertClose([2f, 2f], merged["final_norm.w"], 0, "outside the blocks");
    }

    [TestMethod]
    public void WeightsOtherThanOneSetAlphaFromTheNormRatio()
    {
        // w = (0.5, 0.5): τm = [3, 4] in block 0 (Σ τ = [6, 8]), nothing in block 1. α = (‖Σ τ‖ / ‖τm‖) / T = (10 / 5) / 2 = 1;
        // β = 1 over L = 2: λ = 1 in block 0, 2 in block 1 (whose τm is 0).
        var f = new TinyFamily("t1", "t2")
            .WithTaskVectors("blocks.0.w", [2], [1f, 1f], [6f, 0f], [0f, 8f])
            .WithTaskVectors("blocks.1.w", [2], [1f, 1f], [0f, 0f], [0f, 0f]);
        var merged = Run(f, "lines", P(("beta", 1.0)), [P(("weight", 0.5)), P(("weight", 0.5))]).Tensors;
        AssertClose([4f, 5f], merged["blocks.0.w"], 0, "block 0: [1, 1] + 1·[3, 4]");
        AssertClose([1f, 1f], merged["blocks.1.w"], 0, "block 1");
    }

    [TestMethod]
    public void TiesVectorSetsAlphaFromItsNorm()
    {
        // keep = 1 (no trim). Block 0: τ1 = [1, 3], τ2 = [1, −1]: Σ = [2, 2], signs +, +; disjoint mean [1, 3] (τ2's −1 disagrees).
        // Block 1: τ1 = τ2 = [2, 2]: Σ = [4, 4], τm = [2, 2]. ‖Σ τ‖² = 4 + 4 + 16 + 16 = 40, ‖τm‖² = 1 + 9 + 4 + 4 = 18,
        // α = √(40/18) / 2 = √5 / 3; β = 0.3 over L = 2: λ = α in block 0, α + 0.3 in block 1.
        var f = new TinyFamily("t1", "t2")
            .WithTaskVectors("blocks.0.w", [2], [1f, 1f], [1f, 3f], [1f, -1f])
            .WithTaskVectors("blocks.1.w", [2], [1f, 1f], [2f, 2f], [2f, 2f]);
        var merged = Run(f, "lines", P(("merge", "ties"), ("keep", 1.0), ("beta", 0.3))).Tensors;
        double alpha = Math.Sqrt(5) / 3;
        AssertClose([(float)(1 + alpha), (float)(1 + 3 * alpha)], merged["blocks.0.w"], 1e-6, "block 0");
        AssertClose([(float)(1 + 2 * (alpha + 0.3)), (float)(1 + 2 * (alpha + 0.3))], merged["blocks.1.w"], 1e-6, "block 1");
    }

    [TestMethod]
    public void ConsensusVectorSetsAlphaFromItsNorm()
    {
        // κ 0.4, k 2 (the defaults). Block 0: τ1 = [1, 2], τ2 = [1, −2]: Σ = [2, 0]; both masks hold on both elements
        // (1 ≥ 0.4·1; 2 ≥ 0.4·2), so c ⊙ Σ = [2, 0]. Block 1: τ1 = [3, 0], τ2 = [1, 0]: Σ = [4, 0]; element 0 has one mask
        // (1 < 0.4·3), so it is dropped; element 1 keeps its zero sum. ‖Σ τ‖² = 4 + 16 = 20, ‖τm‖² = 4, α = √5 / 2;
        // β = 0.5 over L = 2: block 0 gets α·[2, 0], block 1 nothing.
        var f = new TinyFamily("t1", "t2")
            .WithTaskVectors("blocks.0.w", [2], [1f, 1f], [1f, 2f], [1f, -2f])
            .WithTaskVectors("blocks.1.w", [2], [1f, 1f], [3f, 0f], [1f, 0f]);
        var merged = Run(f, "lines", P(("merge", "consensus"), ("beta", 0.5))).Tensors;
        double alpha = Math.Sqrt(5) / 2;
        AssertClose([(float)(1 + 2 * alpha), 1f], merged["blocks.0.w"], 1e-6, "block 0");
        AssertClose([1f, 1f], merged["blocks.1.w"], 0, "block 1");
    }

    [TestMethod]
    public void OneModelWithAlphaAndOneMinusAlphaIsTheSingleTaskEdit()
    {
        // The paper's single-task LiNeS: one fine-tuned model, α = 0.3, β = 0.7 over L = 3 blocks: λ = 0.3, 0.65, 1.0,
        // so the last block keeps the whole update; the norm outside the blocks keeps 0.3 of it.
        var f = new TinyFamily("t1")
            .WithTaskVectors("blocks.0.w", [2], [1f, 1f], [2f, -4f])
            .WithTaskVectors("blocks.1.w", [2], [0f, 0f], [2f, 4f])
            .WithTaskVectors("blocks.2.w", [2], [0f, 0f], [3f, 1f])
            .WithTaskVectors("final_norm.w", [2], [1f, 1f], [10f, -10f]);
        var merged = Run(f, "lines", P(("alpha", 0.3), ("beta", 0.7))).Tensors;
        AssertClose([1.6f, -0.2f], merged["blocks.0.w"], 1e-6, "block 0: [1, 1] + 0.3·[2, −4]");
        AssertClose([1.3f, 2.6f], merged["blocks.1.w"], 1e-6, "block 1: 0.65·[2, 4]");
        AssertClose([3f, 1f], merged["blocks.2.w"], 1e-6, "block 2: the whole update");
        AssertClose([4f, -2f], merged["final_norm.w"], 1e-6, "outside the blocks: [1, 1] + 0.3·[10, −10]");
    }

    [TestMethod]
    public void OneBlockOrNoneTakesAlphaEverywhere()
    {
        Assert.AreEqual(0.5, LinesRun.Scale(0.5, 0.7, 0, 1), "one block: L − 1 = 0");
        Assert.AreEqual(0.5, LinesRun.Scale(0.5, 0.7, -1, 12), "outside the blocks");
        Assert.AreEqual(0.5 + 0.7 * 3 / 11, LinesRun.Scale(0.5, 0.7, 3, 12), 1e-15, "block 3 of 12");
        Assert.AreEqual(1.2, LinesRun.Scale(0.5, 0.7, 11, 12), 1e-15, "the last block: α + β");
    }

    [TestMethod]
    public void SquaredNormKeepsFloat64Accuracy()
    {
        // 4M values in [0.5, 1.5): the float64 sum of float32 chunk sums stays within 1e-7 of the exact float64 sum;
        // one float32 accumulation over the whole span (TensorPrimitives.SumOfSquares) is off by more.
        var x = Random(1 << 22, 7).Select(v => 1f + v / 2).ToArray();
        double exact = x.Sum(v => (double)v * v);
        double relative = Math.Abs(LinesRun.SquaredNorm(x) - exact) / exact;
        double whole = Math.Abs(System.Numerics.Tensors.TensorPrimitives.SumOfSquares<float>(x) - exact) / exact;
        Assert.IsTrue(relative < 1e-7, $"chunked: {relative:G3}");
        Assert.IsTrue(whole > relative, $"one float32 sum: {whole:G3} against chunked {relative:G3}");
    }

    [TestMethod]
    public void NonFiniteInputsStayLocalUnderAllowNonFinite()
    {
        // TIES (keep 1) with a NaN in t2 at block 1's first element: that element is NaN (the allow_nonfinite rule), and the
        // norms leave it out, so α is the one of the family without it: Σ τ = [2, 2 | ·, 4], τm = [1, 3 | ·, 2] over the
        // finite positions → α = √(4 + 4 + 16) / √(1 + 9 + 4) / 2 = √(24/14) / 2; block 1's other element is
        // 1 + (α + 0.3)·2 (its own τm 2 from [2, 2]).
        var f = new TinyFamily("t1", "t2")
            .WithTaskVectors("blocks.0.w", [2], [1f, 1f], [1f, 3f], [1f, -1f])
            .WithTaskVectors("blocks.1.w", [2], [1f, 1f], [2f, 2f], [float.NaN, 2f]);
        using var family = f.Build();
        var p = Parameters("lines", 2, P(("merge", "ties"), ("keep", 1.0), ("beta", 0.3)));
        var merged = MergeExecutor.RunInMemory(family, p.Method, p, new MergeExecutionOptions { AllowNonFinite = true, MaxThreads = 1 }).Tensors;
        double alpha = Math.Sqrt(24.0 / 14.0) / 2;
        AssertClose([(float)(1 + alpha), (float)(1 + 3 * alpha)], merged["blocks.0.w"], 1e-6, "block 0");
        Assert.IsTrue(float.IsNaN(merged["blocks.1.w"][0]), "the NaN input's element");
        Assert.AreEqual((float)(1 + 2 * (alpha + 0.3)), merged["blocks.1.w"][1], 1e-6, "block 1's finite element");
    }

    [TestMethod]
    public void SquaredNormLeavesNonFiniteElementsOut()
    {
        var x = Enumerable.Repeat(2f, 3000).ToArray();
        x[1500] = float.NaN;
        x[10] = float.PositiveInfinity;
        Assert.AreEqual(4.0 * 2998, LinesRun.SquaredNorm(x));
    }

    /// <summary>Three tasks, two blocks of 300 random values each and a final norm outside them.</summary>
    private static TinyFamily RandomThreeTasks()
    {
        var f = new TinyFamily("t1", "t2", "t3");
        string[] names = ["blocks.0.w", "blocks.1.w", "final_norm.w"];
        for (int n = 0; n < names.Length; n++)
            f = f.WithTaskVectors(names[n], [300], Random(300, (ulong)(10 + n)),
                Random(300, (ulong)(20 + n), 0.1f), Random(300, (ulong)(30 + n), 0.1f), Random(300, (ulong)(40 + n), 0.1f));
        return f;
    }

    [TestMethod]
    [DataRow("ties", "keep", 0.3)]
    [DataRow("consensus", "kappa", 0.3)]
    public void WithBetaZeroAndAGivenAlphaItIsItsMergeAtThatScale(string merge, string knob, double value)
    {
        // β = 0, α = λ: every tensor gets λ, so LiNeS over TIES or consensus writes the bits of that method at scale λ
        // (the same combination and the same θ0 + λ·τm); the norm pass is skipped.
        var f = RandomThreeTasks();
        var lines = Run(f, "lines", P(("merge", merge), ("beta", 0.0), ("alpha", 0.7), (knob, value))).Tensors;
        var plain = Run(f, merge, P(("scale", 0.7), (knob, value))).Tensors;
        foreach (var name in plain.Keys)
            CollectionAssert.AreEqual(plain[name].ToArray(), lines[name].ToArray(), $"{merge}: {name}");
    }

    [TestMethod]
    public void WithBetaZeroAndAGivenAlphaItIsTaskArithmeticAtThatScale()
    {
        // Task arithmetic's fused sweep rounds θ0 + λ·Σ wt τt in another order than θ0 + λ·(Σ wt τt), so: within float32 rounding.
        var f = RandomThreeTasks();
        var lines = Run(f, "lines", P(("beta", 0.0), ("alpha", 0.7))).Tensors;
        var plain = Run(f, "task_arithmetic", P(("scale", 0.7))).Tensors;
        foreach (var name in plain.Keys) AssertClose(plain[name], lines[name], 1e-6, name);
    }
}
