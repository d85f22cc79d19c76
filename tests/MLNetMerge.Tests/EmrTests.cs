using MLNetMerge.Merging;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

[TestClass]
public sealed class EmrTests
{
    private static readonly float[] BaseA = [0.5f, -0.5f, 1f, 2f];
    private static readonly float[] BaseB = [1f, -1f];

    // τt for tensor a [4] and b [2, 1]:
    //        a                       b
    //   τ1 = [ 1, −2,  0.5,  3]      [−1,  0]
    //   τ2 = [ 2,  1, −1,   −1]      [0.5, 0]
    //   τ3 = [−4,  0.5, −0.5, 2]     [0.5, 0]
    private static TinyFamily Family() => new TinyFamily("t1", "t2", "t3")
        .WithTaskVectors("a", [4], BaseA, [1f, -2f, 0.5f, 3f], [2f, 1f, -1f, -1f], [-4f, 0.5f, -0.5f, 2f])
        .WithTaskVectors("b", [2, 1], BaseB, [-1f, 0f], [0.5f, 0f], [0.5f, 0f]);

    // Elect: Σ τ = a [−1, −0.5, −1, 4], b [0, 0] → ε = a [−, −, −, +], b [−, −] (a zero sum elects −1).
    // Masks Mt = [τt·ε > 0]:  M1 = a [0, 1, 0, 1] b [1, 0];  M2 = a [0, 0, 1, 0] b [0, 0];  M3 = a [1, 0, 1, 1] b [0, 0].
    // |τuni| = max over agreeing tasks: a [4, 2, max(1, 0.5) = 1, max(3, 2) = 3], b [1, 0] → τuni = a [−4, −2, −1, 3], b [−1, 0].
    // Rescalers over the whole model: γt = Σ|τt| / Σ|Mt ⊙ τuni|
    //   γ1 = (6.5 + 1) / (2 + 3 + 1) = 7.5/6 = 1.25;  γ2 = (5 + 0.5) / 1 = 5.5;  γ3 = (7 + 0.5) / (4 + 1 + 3) = 0.9375.
    // θ̂t = θ0 + γt (Mt ⊙ τuni):
    //   θ̂1 = θ0 + a [0, −2.5, 0, 3.75]          b [−1.25, 0]
    //   θ̂2 = θ0 + a [0, 0, −5.5, 0]             b [0, 0]
    //   θ̂3 = θ0 + a [−3.75, 0, −0.9375, 2.8125] b [0, 0]
    // Packed masks (bit j of byte j/8, least significant first): a: M1 = 0b1010 = 10, M2 = 0b0100 = 4, M3 = 0b1101 = 13;
    //   b: M1 = 1, M2 = 0, M3 = 0.
    [TestMethod]
    public void ElectMaskRescale()
    {
        var m = Run(Family(), "emr");
        AssertClose(Plus(BaseA, -4, -2, -1, 3), m.Tensors["a"], 0, "unified a");
        AssertClose(Plus(BaseB, -1, 0), m.Tensors["b"], 0, "unified b");
        AssertClose([1.25f, 5.5f, 0.9375f], m.Modulators["rescalers"], 0, "rescalers");
        AssertClose(Plus(BaseA, 0, -2.5, 0, 3.75), m.TaskTensors["t1"]["a"], 0, "θ̂1 a");
        AssertClose(Plus(BaseB, -1.25, 0), m.TaskTensors["t1"]["b"], 0, "θ̂1 b");
        AssertClose(Plus(BaseA, 0, 0, -5.5, 0), m.TaskTensors["t2"]["a"], 0, "θ̂2 a");
        AssertClose(BaseB, m.TaskTensors["t2"]["b"], 0, "θ̂2 b");
        AssertClose(Plus(BaseA, -3.75, 0, -0.9375, 2.8125), m.TaskTensors["t3"]["a"], 0, "θ̂3 a");
        AssertClose(BaseB, m.TaskTensors["t3"]["b"], 0, "θ̂3 b");
        CollectionAssert.AreEqual(new byte[] { 10 }, m.ModulatorBytes["masks.t1.a"]);
        CollectionAssert.AreEqual(new byte[] { 4 }, m.ModulatorBytes["masks.t2.a"]);
        CollectionAssert.AreEqual(new byte[] { 13 }, m.ModulatorBytes["masks.t3.a"]);
        CollectionAssert.AreEqual(new byte[] { 1 }, m.ModulatorBytes["masks.t1.b"]);
        CollectionAssert.AreEqual(new byte[] { 0 }, m.ModulatorBytes["masks.t2.b"]);
        CollectionAssert.AreEqual(new byte[] { 0 }, m.ModulatorBytes["masks.t3.b"]);
        Assert.AreEqual("t1=1.25, t2=5.5, t3=0.9375", m.Summary.Notes["rescalers"]);
    }

    [TestMethod]
    public void MeanRescalerFromPerTensorMeans()
    {
        // The authors' code: γt = Σn mean|τt,n| / Σn mean|Mt,n ⊙ τuni,n| (a has 4 elements, b 2):
        //   γ1 = (6.5/4 + 1/2) / (5/4 + 1/2) = 2.125/1.75 = 17/14;  γ2 = (5/4 + 0.5/2) / (1/4 + 0) = 6;  γ3 = (7/4 + 0.5/2) / (8/4 + 0) = 1.
        var m = Run(Family(), "emr", P(("rescaler", "mean")));
        AssertClose([17f / 14f, 6f, 1f], m.Modulators["rescalers"], 1e-6, "rescalers");
        AssertClose(Plus(BaseA, 0, -2 * 17.0 / 14, 0, 3 * 17.0 / 14), m.TaskTensors["t1"]["a"], 1e-6, "θ̂1 a");
        AssertClose(Plus(BaseA, 0, 0, -6, 0), m.TaskTensors["t2"]["a"], 0, "θ̂2 a");
    }

    [TestMethod]
    public void ElectOnlyAblation()
    {
        // mode: elect → every task runs with θ0 + τuni; no masks, no rescalers.
        var m = Run(Family(), "emr", P(("mode", "elect")));
        foreach (var t in new[] { "t1", "t2", "t3" })
        {
            AssertClose(Plus(BaseA, -4, -2, -1, 3), m.TaskTensors[t]["a"], 0, t);
            AssertClose(Plus(BaseB, -1, 0), m.TaskTensors[t]["b"], 0, t);
        }
        Assert.IsFalse(m.Modulators.ContainsKey("rescalers"));
        Assert.AreEqual(0, m.ModulatorBytes.Count);
    }

    [TestMethod]
    public void ElectMaskAblation()
    {
        // mode: elect_mask → θ0 + Mt ⊙ τuni (γ = 1).
        var m = Run(Family(), "emr", P(("mode", "elect_mask")));
        AssertClose(Plus(BaseA, 0, -2, 0, 3), m.TaskTensors["t1"]["a"], 0, "t1 a");
        AssertClose(Plus(BaseB, -1, 0), m.TaskTensors["t1"]["b"], 0, "t1 b");
        AssertClose(Plus(BaseA, 0, 0, -1, 0), m.TaskTensors["t2"]["a"], 0, "t2 a");
        AssertClose(Plus(BaseA, -4, 0, -1, 3), m.TaskTensors["t3"]["a"], 0, "t3 a");
        Assert.IsFalse(m.Modulators.ContainsKey("rescalers"));
        CollectionAssert.AreEqual(new byte[] { 13 }, m.ModulatorBytes["masks.t3.a"]);
    }

    [TestMethod]
    public void ElectRescaleAblation()
    {
        // mode: elect_rescale → θ0 + γ't τuni with γ't = Σ|τt| / Σ|τuni|, Σ|τuni| = 4 + 2 + 1 + 3 + 1 + 0 = 11:
        //   γ'1 = 7.5/11, γ'2 = 5.5/11 = 0.5, γ'3 = 7.5/11.
        var m = Run(Family(), "emr", P(("mode", "elect_rescale")));
        AssertClose([7.5f / 11f, 0.5f, 7.5f / 11f], m.Modulators["rescalers"], 1e-7, "rescalers");
        double g = 7.5 / 11;
        AssertClose(Plus(BaseA, -4 * g, -2 * g, -1 * g, 3 * g), m.TaskTensors["t1"]["a"], 1e-6, "t1 a");
        AssertClose(Plus(BaseA, -2, -1, -0.5, 1.5), m.TaskTensors["t2"]["a"], 0, "t2 a");
        AssertClose(Plus(BaseB, -0.5, 0), m.TaskTensors["t2"]["b"], 0, "t2 b");
        Assert.AreEqual(0, m.ModulatorBytes.Count);
    }

    [TestMethod]
    public void MasksAndRescalersOverTaskArithmetic()
    {
        // merge: ta, λ = 1: τm = Σ τ = a [−1, −0.5, −1, 4], b [0, 0]; masks [τt·τm > 0]:
        //   M1 = a [0, 1, 0, 1] b [0, 0];  M2 = a [0, 0, 1, 0];  M3 = a [1, 0, 1, 1].
        // γ1 = 7.5 / (0.5 + 4) = 5/3;  γ2 = 5.5 / 1 = 5.5;  γ3 = 7.5 / (1 + 1 + 4) = 1.25.
        var m = Run(Family(), "emr", P(("merge", "ta"), ("scale", 1.0)));
        AssertClose(Plus(BaseA, -1, -0.5, -1, 4), m.Tensors["a"], 0, "unified a");
        AssertClose([5f / 3f, 5.5f, 1.25f], m.Modulators["rescalers"], 1e-6, "rescalers");
        AssertClose(Plus(BaseA, 0, -0.5 * 5 / 3, 0, 4.0 * 5 / 3), m.TaskTensors["t1"]["a"], 1e-6, "θ̂1 a");
        AssertClose(BaseB, m.TaskTensors["t1"]["b"], 0, "θ̂1 b");
        AssertClose(Plus(BaseA, 0, 0, -5.5, 0), m.TaskTensors["t2"]["a"], 0, "θ̂2 a");
        AssertClose(Plus(BaseA, -1.25, 0, -1.25, 5), m.TaskTensors["t3"]["a"], 0, "θ̂3 a");
        CollectionAssert.AreEqual(new byte[] { 10 }, m.ModulatorBytes["masks.t1.a"]);
        CollectionAssert.AreEqual(new byte[] { 0 }, m.ModulatorBytes["masks.t1.b"]);
    }

    [TestMethod]
    public void MasksAndRescalersOverTaskArithmeticDefaultScale()
    {
        // merge: ta without scale → λ = 0.3: unified θ0 + 0.3 Σ τ. The rescalers absorb λ (γt = Σ|τt| / (0.3·Σ|Mt ⊙ Στ|)),
        // so each task's θ̂t is the same as with λ = 1 above.
        var m = Run(Family(), "emr", P(("merge", "ta")));
        AssertClose(Plus(BaseA, -0.3, -0.15, -0.3, 1.2), m.Tensors["a"], 1e-6, "unified a");
        AssertClose([5f / 3f / 0.3f, 5.5f / 0.3f, 1.25f / 0.3f], m.Modulators["rescalers"], 1e-5, "rescalers");
        AssertClose(Plus(BaseA, 0, -0.5 * 5 / 3, 0, 4.0 * 5 / 3), m.TaskTensors["t1"]["a"], 1e-5, "θ̂1 a");
        AssertClose(Plus(BaseA, -1.25, 0, -1.25, 5), m.TaskTensors["t3"]["a"], 1e-5, "θ̂3 a");
    }

    [TestMethod]
    public void OneModelReproducesTheFineTunedModel()
    {
        // T = 1: ε = sign(τ1), M1 = [τ1 ≠ 0], τuni = τ1, γ1 = Σ|τ1| / Σ|τ1| = 1 → θ̂1 = θ0 + τ1 = θ1.
        var theta0 = Random(40, 1);
        var theta1 = Random(40, 2);
        var bias0 = Random(6, 3);
        var bias1 = Random(6, 4);
        var f = new TinyFamily("only").WithWeights("layers.0.w", [8, 5], theta0, theta1).WithWeights("bias", [6], bias0, bias1);
        var m = Run(f, "emr");
        AssertClose(theta1, m.TaskTensors["only"]["layers.0.w"], 1e-6, "w");
        AssertClose(bias1, m.TaskTensors["only"]["bias"], 1e-6, "bias");
        AssertClose([1f], m.Modulators["rescalers"], 1e-6, "γ");
    }

    [TestMethod]
    public void ZeroTaskVectorGetsRescalerOne()
    {
        // τ2 = 0: Σ|M2 ⊙ τuni| = 0 → γ2 = 1 and θ̂2 = θ0.
        var f = new TinyFamily("t1", "t2").WithTaskVectors("w", [2], [1f, 2f], [1f, -1f], [0f, 0f]);
        var m = Run(f, "emr");
        AssertClose([1f, 1f], m.Modulators["rescalers"], 0);
        AssertClose([1f, 2f], m.TaskTensors["t2"]["w"], 0);
        AssertClose([2f, 1f], m.TaskTensors["t1"]["w"], 0);
    }

    [TestMethod]
    public void MasksAndRescalersOverTiesUseTheUntrimmedTaskVectors()
    {
        // τ1 = [4, 0.5, 2, 1], τ2 = [-3, 2, 1, 0.25], θ0 = 0, TIES keep 0.5 (N = 4, K = 2: threshold = 3rd largest |τ|):
        //   τ̂1 = [4, 0, 2, 1] (threshold 1), τ̂2 = [-3, 2, 1, 0] (threshold 1); Σ τ̂ = [1, 2, 3, 1], all signs +.
        //   disjoint mean: τm = [4, 2, (2+1)/2, 1] = [4, 2, 1.5, 1] (λ = 1).
        // Masks from the untrimmed τt: M1 = [τ1·τm > 0] = 1111 → 15; M2 = [−, +, +, +] = 1110 → 14
        // (trimmed masks would give 13 and 6).
        // γ1 = Σ|τ1| / Σ|M1 ⊙ τm| = 7.5 / 8.5; γ2 = 6.25 / (2 + 1.5 + 1) = 6.25 / 4.5.
        var f = new TinyFamily("t1", "t2").WithTaskVectors("a", [4], new float[4], [4f, 0.5f, 2f, 1f], [-3f, 2f, 1f, 0.25f]);
        var m = Run(f, "emr", P(("merge", "ties"), ("keep", 0.5)));
        AssertClose([4f, 2f, 1.5f, 1f], m.Tensors["a"], 1e-6);
        CollectionAssert.AreEqual(new byte[] { 15 }, m.ModulatorBytes["masks.t1.a"]);
        CollectionAssert.AreEqual(new byte[] { 14 }, m.ModulatorBytes["masks.t2.a"]);
        AssertClose([(float)(7.5 / 8.5), (float)(6.25 / 4.5)], m.Modulators["rescalers"], 1e-6);
        double g1 = 7.5 / 8.5;
        AssertClose([(float)(4 * g1), (float)(2 * g1), (float)(1.5 * g1), (float)g1], m.TaskTensors["t1"]["a"], 1e-6);
    }

    [TestMethod]
    [DataRow(float.PositiveInfinity)]
    [DataRow(float.NaN)]
    public void NonFiniteInputs_CountAsZeroInTheRescalers_AndStayNonFiniteOnlyWhereTheyWere(float bad)
    {
        // An infinite τ made every clean task's γ 0 (Σ|Mt ⊙ τuni| infinite) and a NaN one's γ NaN, spread over its model.
        // Under allow_nonfinite it counts as τ = 0 in the election, masks and sums: every γ and every other element are those
        // of the family with τ = 0 there in every task, and the element itself is non-finite in the merge and every task.
        const int index = 5;
        var theta0 = Random(64, 17);
        float[] t1 = Random(64, 18), t2 = Random(64, 19), t3 = Random(64, 20);
        var damaged = (float[])t2.Clone();
        damaged[index] = bad;
        float[] z1 = (float[])t1.Clone(), z2 = (float[])t2.Clone(), z3 = (float[])t3.Clone();
        z1[index] = z2[index] = z3[index] = 0;
        var options = new MergeExecutionOptions { MaxThreads = 1, AllowNonFinite = true, Materialize = ["a", "b", "c"] };
        var got = Run(new TinyFamily("a", "b", "c").WithTaskVectors("w", [64], theta0, t1, damaged, t3), "emr", options: options);
        var want = Run(new TinyFamily("a", "b", "c").WithTaskVectors("w", [64], theta0, z1, z2, z3), "emr", options: options);
        CollectionAssert.AreEqual(want.Modulators["rescalers"], got.Modulators["rescalers"]);
        Assert.IsTrue(got.Modulators["rescalers"].All(g => float.IsFinite(g) && g > 0));
        foreach (var (name, values) in new[] { ("merge", got.Tensors["w"]) }.Concat(new[] { "a", "b", "c" }.Select(t => (t, got.TaskTensors[t]["w"]))))
        {
            var expected = name == "merge" ? want.Tensors["w"] : want.TaskTensors[name]["w"];
            Assert.IsFalse(float.IsFinite(values[index]), $"{name}: element {index} is {values[index]}");
            for (int i = 0; i < 64; i++)
                if (i != index) Assert.AreEqual(expected[i], values[i], $"{name}: element {i}");
        }
    }
}
