using System.Runtime.InteropServices;
using MLNetMerge.Merging;
using MLNetMerge.Merging.Methods;
using MLNetMerge.Tensors;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

/// <summary>The executor's contract around the methods: copied tensors, heads, non-finite inputs, parameter checks.</summary>
[TestClass]
public sealed class MergeRunTests
{
    [TestMethod]
    public void EveryRegisteredMethodHasGoldenTests()
    {
        // The golden tests in this project cover exactly these; a new method must come with its own.
        CollectionAssert.AreEquivalent(new[]
        {
            "weight_average", "task_arithmetic", "ties", "dare", "magmax", "consensus", "tall", "emr", "cart", "slerp",
            "model_stock", "breadcrumbs", "della", "cart_indexing",
            "tsv_m", "iso_c", "iso_cts", "wudi",                   // SubspaceMethodsTests, Methods2ReferenceTests
            "nuslerp", "multislerp", "karcher", "sce",             // MergekitParityTests, Methods2ReferenceTests
            "lines",                                               // LinesTests, Methods2ReferenceTests (Fixtures/lines)
            "pcb",                                                 // PcbTests, Methods2ReferenceTests (Fixtures/pcb)
            "tatr",                                                // TatrTests, Methods2ReferenceTests (Fixtures/tatr)
            "nearswap", "arcee_fusion",                            // NearSwapArceeFusionTests, Methods2ReferenceTests (Fixtures/mergekit_extra)
        }, MergeMethods.All.Select(m => m.Name).ToArray());
    }

    private static TinyFamily WithHeadsAndBuffers() => new TinyFamily("t1", "t2")
        .WithTaskVectors("w", [4], [1f, 1f, 1f, 1f], [1f, 0f, 0f, 0f], [0f, 1f, 0f, 0f])
        .WithInt64("position_ids", [0, 1, 2, 3], [9, 9, 9, 9], [7, 7, 7, 7])
        .WithHead("t1", "classifier.weight", [2, 2], [1f, 2f, 3f, 4f])
        .WithHead("t2", "classifier.weight", [2, 2], [-1f, -2f, -3f, -4f])
        .WithHead("t2", "classifier.bias", [2], [0.5f, 0.25f]);

    [TestMethod]
    [DataRow("task_arithmetic")]
    [DataRow("ties")]
    [DataRow("emr")]
    [DataRow("tall")]
    public void IntegerTensorsAreCopiedFromTheBase(string method)
    {
        var m = Run(WithHeadsAndBuffers(), method);
        CollectionAssert.AreEqual(new long[] { 0, 1, 2, 3 }, MemoryMarshal.Cast<byte, long>(m.RawTensors["position_ids"]).ToArray());
        Assert.IsFalse(m.Tensors.ContainsKey("position_ids"));
        Assert.AreEqual(DType.I64, m.Layout.Single(e => e.Name == "position_ids").DType);
    }

    [TestMethod]
    [DataRow("task_arithmetic")]
    [DataRow("weight_average")]
    [DataRow("emr")]
    public void HeadsAreCopiedPerTaskAndNeverMerged(string method)
    {
        // Both tasks have a (2, 2) classifier.weight, so a merge would be possible; each must keep its own.
        var m = Run(WithHeadsAndBuffers(), method);
        CollectionAssert.AreEqual(new[] { 1f, 2f, 3f, 4f }, m.HeadFloat32("t1", "classifier.weight"));
        CollectionAssert.AreEqual(new[] { -1f, -2f, -3f, -4f }, m.HeadFloat32("t2", "classifier.weight"));
        CollectionAssert.AreEqual(new[] { 0.5f, 0.25f }, m.HeadFloat32("t2", "classifier.bias"));
        Assert.IsFalse(m.Heads["t1"].ContainsKey("classifier.bias"));
        Assert.IsFalse(m.Tensors.Keys.Any(k => k.StartsWith("classifier", StringComparison.Ordinal)));
        Assert.IsFalse(m.Layout.Any(e => e.Name.StartsWith("classifier", StringComparison.Ordinal)));
        foreach (var own in m.TaskTensors.Values) Assert.IsFalse(own.Keys.Any(k => k.StartsWith("classifier", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void OutputDTypeAppliesToMergedTensorsOnly()
    {
        using var f = WithHeadsAndBuffers().Build();
        var p = Parameters("task_arithmetic", 2);
        var m = MergeExecutor.RunInMemory(f, p.Method, p, new MergeExecutionOptions { OutputDType = DType.BF16 });
        Assert.AreEqual(DType.BF16, m.Layout.Single(e => e.Name == "w").DType);
        Assert.AreEqual(DType.I64, m.Layout.Single(e => e.Name == "position_ids").DType);
        Assert.AreEqual(DType.F32, m.HeadEntries["t1.classifier.weight"].DType);
    }

    [TestMethod]
    [DataRow("task_arithmetic")]
    [DataRow("emr")] // its fused sweep over raw θt reports the NaN; the executor then names it
    [DataRow("ties")]
    public void NaNInATaskNamesFileAndTensor(string method)
    {
        var f = new TinyFamily("t1", "t2").WithWeights("layers.0.w", [4], [0f, 0f, 0f, 0f], [1f, 1f, 1f, 1f], [1f, 1f, float.NaN, 1f]);
        var e = Assert.ThrowsExactly<NonFiniteTensorException>(() => Run(f, method));
        StringAssert.Contains(e.Message, "t2.safetensors");
        StringAssert.Contains(e.Message, "'layers.0.w'");
        StringAssert.Contains(e.Message, "element 2");
        Assert.AreEqual("t2.safetensors", e.File);
    }

    [TestMethod]
    public void InfinityInTheBaseNamesFileAndTensor()
    {
        var f = new TinyFamily("t1").WithWeights("bias", [2], [float.NegativeInfinity, 0f], [1f, 1f]);
        var e = Assert.ThrowsExactly<NonFiniteTensorException>(() => Run(f, "ties"));
        StringAssert.Contains(e.Message, "base.safetensors");
        StringAssert.Contains(e.Message, "'bias'");
    }

    [TestMethod]
    public void NonFiniteAcceptedWhenAllowed()
    {
        // TA with λ = 1: θ0 + τ1 + τ2 where τ2[2] = NaN − 0 → NaN stays confined to element 2.
        var f = new TinyFamily("t1", "t2").WithWeights("w", [4], [0f, 0f, 0f, 0f], [1f, 1f, 1f, 1f], [1f, 1f, float.NaN, 1f]);
        var m = Run(f, "task_arithmetic", P(("scale", 1.0)), options: new MergeExecutionOptions { AllowNonFinite = true, MaxThreads = 1 });
        AssertClose([2f, 2f, float.NaN, 2f], m.Tensors["w"], 0);
    }

    [TestMethod]
    public void UnknownParameterIsARecipeError()
    {
        var e = Assert.ThrowsExactly<RecipeException>(() => Parameters("ties", 1, P(("dropout", 0.5))));
        StringAssert.Contains(e.Message, "dropout");
        StringAssert.Contains(e.Message, "keep");
    }

    [TestMethod]
    public void ParameterValueChecks()
    {
        Assert.ThrowsExactly<RecipeException>(() => Parameters("ties", 1, P(("keep", 1.5))), "out of range");
        Assert.ThrowsExactly<RecipeException>(() => Parameters("ties", 1, P(("merge", "median"))), "unknown choice");
        Assert.ThrowsExactly<RecipeException>(() => Parameters("dare", 1, P(("rescale", "maybe"))), "bad flag");
        Assert.ThrowsExactly<RecipeException>(() => Parameters("ties", 1, null, P(("scale", 0.5))), "scale is not per model");
        Assert.ThrowsExactly<RecipeException>(() => Parameters("ties", 1, P(("keep", 0.5), ("density", 0.5))), "given twice via alias");
        Assert.ThrowsExactly<RecipeException>(() => MergeMethods.Find("average_of_everything"));
    }

    [TestMethod]
    public void PerModelValueWinsOverGlobal()
    {
        var p = Parameters("ties", 2, P(("keep", 0.3)), P(("keep", 0.8)), null);
        Assert.AreEqual(0.8, p.Number("keep", 0), 1e-12);
        Assert.AreEqual(0.3, p.Number("keep", 1), 1e-12);
        Assert.AreEqual(1.0, p.Number("weight", 1), 1e-12, "default");
    }

    [TestMethod]
    public void MaterializingAnUnknownTaskIsRefused()
    {
        using var f = WithHeadsAndBuffers().Build();
        var p = Parameters("task_arithmetic", 2);
        var e = Assert.ThrowsExactly<RecipeException>(() => MergeExecutor.Run(f, p.Method, p, new DiscardSink(),
            new MergeExecutionOptions { Materialize = ["t9"] }));
        StringAssert.Contains(e.Message, "t9");
    }

    [TestMethod]
    public void ThreadsDoNotChangeTies()
    {
        var f = new TinyFamily("t1", "t2", "t3");
        for (int k = 0; k < 5; k++)
        {
            int n = 1000 + 300 * k;
            f.WithWeights($"layers.{k}.w", [n], Random(n, (ulong)k), Random(n, (ulong)k + 10), Random(n, (ulong)k + 20), Random(n, (ulong)k + 30));
        }
        var one = Run(f, "ties", P(("keep", 0.3)), options: new MergeExecutionOptions { MaxThreads = 1 });
        var two = Run(f, "ties", P(("keep", 0.3)), options: new MergeExecutionOptions { MaxThreads = 2 });
        foreach (var (name, v) in one.Tensors) CollectionAssert.AreEqual(v, two.Tensors[name], name);
        Assert.AreEqual(one.Summary.Notes["trim_thresholds"], two.Summary.Notes["trim_thresholds"]);
    }

    /// <summary>Records progress reports synchronously (Progress&lt;T&gt; would post them to the thread pool).</summary>
    private sealed class Recorder : IProgress<MergeProgress>
    {
        public List<MergeProgress> Reports { get; } = new();
        public void Report(MergeProgress value) { lock (Reports) Reports.Add(value); }
    }

    [TestMethod]
    public void ProgressCoversEveryPassAndTheMerge()
    {
        // TIES with the global trim into memory (a sink that rewrites): one radix-select pass, then the merge, which is the
        // second (TiesMergePassTests); 3 tensors each, and no other pass.
        var f = new TinyFamily("t1", "t2")
            .WithWeights("a", [5], Random(5, 1), Random(5, 2), Random(5, 3))
            .WithWeights("b", [7], Random(7, 4), Random(7, 5), Random(7, 6))
            .WithWeights("c", [3], Random(3, 7), Random(3, 8), Random(3, 9));
        using var family = f.Build();
        var p = Parameters("ties", 2);
        var progress = new Recorder();
        MergeExecutor.RunInMemory(family, p.Method, p, new MergeExecutionOptions { MaxThreads = 2 }, progress);
        Assert.IsFalse(progress.Reports.Any(r => r.Stage.StartsWith("pass 2", StringComparison.Ordinal)));
        foreach (var stage in new[] { "pass 1/1", "merge" })
        {
            var reports = progress.Reports.Where(r => r.Stage == stage).ToList();
            Assert.IsTrue(reports.Count > 0, stage);
            Assert.AreEqual(3, reports.Max(r => r.Completed), stage);
            Assert.IsTrue(reports.All(r => r.Total == 3), stage);
        }
    }

    [TestMethod]
    public void MajoritySignTakesAPassOfItsOwnWhenTheSetAsideValuesWouldNotFit()
    {
        // With no room for the elements in a threshold's bucket (neither in the merge pass nor in the trim's second pass),
        // TIES counts the majority sign in a third pass: the same
        // merge (every tensor, the thresholds and the majority sign) from one pass more.
        var f = new TinyFamily("t1", "t2", "t3")
            .WithWeights("a", [64], Random(64, 1), Random(64, 2), Random(64, 3), Random(64, 4))
            .WithWeights("b", [9], Random(9, 5), Random(9, 6), Random(9, 7), Random(9, 8));
        using var family = f.Build();
        var p = Parameters("ties", 3);
        var usual = new Recorder();
        var expected = MergeExecutor.RunInMemory(family, p.Method, p, new MergeExecutionOptions { MaxThreads = 2 }, usual);
        MergedModel fallback;
        var third = new Recorder();
        GeneralizedTaskArithmeticRun.DeferredLimitOverride.Value = -1;
        try { fallback = MergeExecutor.RunInMemory(family, p.Method, p, new MergeExecutionOptions { MaxThreads = 2 }, third); }
        finally { GeneralizedTaskArithmeticRun.DeferredLimitOverride.Value = null; }
        Assert.IsFalse(usual.Reports.Any(r => r.Stage.StartsWith("pass 3", StringComparison.Ordinal)));
        Assert.IsTrue(third.Reports.Any(r => r.Stage == "pass 3/3"));
        foreach (var name in new[] { "a", "b" })
            CollectionAssert.AreEqual(expected.Tensors[name], fallback.Tensors[name], name);
        Assert.AreEqual(expected.Summary.Notes["trim_thresholds"], fallback.Summary.Notes["trim_thresholds"]);
        Assert.AreEqual(expected.Summary.Notes["majority_sign"], fallback.Summary.Notes["majority_sign"]);
    }

    [TestMethod]
    public void CancellationStopsTheRun()
    {
        using var family = WithHeadsAndBuffers().Build();
        var p = Parameters("task_arithmetic", 2);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsExactly<OperationCanceledException>(() => MergeExecutor.RunInMemory(family, p.Method, p, null, null, cancellationToken: cts.Token));
    }

    /// <summary>A sink that drops everything (for argument checks).</summary>
    private sealed class DiscardSink : IMergeSink, IModulatorWriter
    {
        public void Begin(MergeLayout layout) { }
        public void WriteModel(string name, ReadOnlySpan<float> values) { }
        public void WriteModelRaw(string name, ReadOnlySpan<byte> bytes) { }
        public void WriteHeadRaw(string task, string name, ReadOnlySpan<byte> bytes) { }
        public IModulatorWriter Modulators => this;
        public void WriteTask(string task, string name, ReadOnlySpan<float> values) { }
        public void WriteTaskRaw(string task, string name, ReadOnlySpan<byte> bytes) { }
        public void Complete(MergeSummary summary) { }
        public void WriteFloat32(string name, ReadOnlySpan<float> values) { }
        public void WriteBytes(string name, ReadOnlySpan<byte> values) { }
    }
}
