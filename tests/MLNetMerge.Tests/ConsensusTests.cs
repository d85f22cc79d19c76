using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

[TestClass]
public sealed class ConsensusTests
{
    private static readonly float[] Theta0 = [1f, 2f, 3f, 4f];

    // τ1 = [1, 2, 0.5, −1], τ2 = [1, −2, 0.25, 2], τ3 = [−0.5, 0.5, 4, 1]; τMTL = Σ τ = [1.5, 0.5, 4.75, 2].
    // Task masks mt = [|τt| ≥ κ |τMTL − τt|] with κ = 0.4:
    //   e0: t1 1 ≥ 0.4·0.5 = 0.2 ✓   t2 1 ≥ 0.2 ✓          t3 0.5 ≥ 0.4·2 = 0.8 ✗     → 2 votes
    //   e1: t1 2 ≥ 0.4·1.5 = 0.6 ✓   t2 2 ≥ 0.4·2.5 = 1 ✓  t3 0.5 ≥ 0.4·0 = 0 ✓       → 3 votes
    //   e2: t1 0.5 ≥ 0.4·4.25 = 1.7 ✗ t2 0.25 ≥ 1.8 ✗      t3 4 ≥ 0.4·0.75 = 0.3 ✓    → 1 vote
    //   e3: t1 1 ≥ 0.4·3 = 1.2 ✗     t2 2 ≥ 0.4·0 = 0 ✓    t3 1 ≥ 0.4·1 = 0.4 ✓       → 2 votes
    //   m1 = [1, 1, 0, 0], m2 = [1, 1, 0, 1], m3 = [0, 1, 1, 1].
    private static TinyFamily Family() => new TinyFamily("t1", "t2", "t3")
        .WithTaskVectors("w", [2, 2], Theta0, [1f, 2f, 0.5f, -1f], [1f, -2f, 0.25f, 2f], [-0.5f, 0.5f, 4f, 1f]);

    [TestMethod]
    public void ConsensusKeepsElementsWithAtLeastKVotes()
    {
        // k = 2: c = [1, 1, 0, 1]; λ = 0.3: θ = θ0 + 0.3·[1.5, 0.5, 0, 2] = θ0 + [0.45, 0.15, 0, 0.6].
        var m = Run(Family(), "consensus");
        AssertClose(Plus(Theta0, 0.45, 0.15, 0, 0.6), m.Tensors["w"], 1e-6);
    }

    [TestMethod]
    public void ConsensusWithKThree()
    {
        // k = 3: only e1 has 3 votes → θ0 + λ·[0, 0.5, 0, 0] with λ = 1.
        var m = Run(Family(), "consensus", P(("k", 3), ("scale", 1.0)));
        AssertClose(Plus(Theta0, 0, 0.5, 0, 0), m.Tensors["w"], 0);
    }

    [TestMethod]
    public void ConsensusWithKOneAndKappaZeroIsTaskArithmetic()
    {
        // κ = 0: every mask is 1 (|τ| ≥ 0), so k = 1 keeps everything: θ0 + λ Σ τ.
        var m = Run(Family(), "consensus", P(("k", 1), ("kappa", 0.0), ("scale", 1.0)));
        AssertClose(Plus(Theta0, 1.5, 0.5, 4.75, 2), m.Tensors["w"], 0);
    }

    [TestMethod]
    public void TallMasksPerTask()
    {
        // Per task θ̂t = θ0 + λ (mt ⊙ τMTL), λ = 0.3; unified θ0 + λ τMTL.
        //   θ̂1 = θ0 + 0.3·[1.5, 0.5, 0, 0];  θ̂2 = θ0 + 0.3·[1.5, 0.5, 0, 2];  θ̂3 = θ0 + 0.3·[0, 0.5, 4.75, 2].
        // Packed masks: m1 = 0b0011 = 3, m2 = 0b1011 = 11, m3 = 0b1110 = 14.
        var m = Run(Family(), "tall");
        AssertClose(Plus(Theta0, 0.45, 0.15, 1.425, 0.6), m.Tensors["w"], 1e-6, "unified");
        AssertClose(Plus(Theta0, 0.45, 0.15, 0, 0), m.TaskTensors["t1"]["w"], 1e-6, "θ̂1");
        AssertClose(Plus(Theta0, 0.45, 0.15, 0, 0.6), m.TaskTensors["t2"]["w"], 1e-6, "θ̂2");
        AssertClose(Plus(Theta0, 0, 0.15, 1.425, 0.6), m.TaskTensors["t3"]["w"], 1e-6, "θ̂3");
        CollectionAssert.AreEqual(new byte[] { 3 }, m.ModulatorBytes["masks.t1.w"]);
        CollectionAssert.AreEqual(new byte[] { 11 }, m.ModulatorBytes["masks.t2.w"]);
        CollectionAssert.AreEqual(new byte[] { 14 }, m.ModulatorBytes["masks.t3.w"]);
    }

    [TestMethod]
    public void TallMasksSpanSeveralBytes()
    {
        // 10 elements → 2 bytes per mask. Task 1 has τ = 1 on even elements and 0 elsewhere, task 2 the reverse,
        // so τMTL = 1 everywhere; m1 = [|τ1| ≥ 0.4·|1 − τ1|] = even elements (1 ≥ 0) plus nothing at odd (0 ≥ 0.4 ✗).
        // m1 bits 0, 2, 4, 6 | 8 → bytes [0b01010101 = 85, 0b01 = 1]; m2 bits 1, 3, 5, 7 | 9 → [170, 2].
        var even = Enumerable.Range(0, 10).Select(i => i % 2 == 0 ? 1f : 0f).ToArray();
        var odd = even.Select(v => 1f - v).ToArray();
        var f = new TinyFamily("t1", "t2").WithTaskVectors("w", [10], new float[10], even, odd);
        var m = Run(f, "tall", P(("scale", 1.0)));
        CollectionAssert.AreEqual(new byte[] { 85, 1 }, m.ModulatorBytes["masks.t1.w"]);
        CollectionAssert.AreEqual(new byte[] { 170, 2 }, m.ModulatorBytes["masks.t2.w"]);
        AssertClose(even, m.TaskTensors["t1"]["w"], 0, "θ̂1 = τMTL on its mask");
    }
}
