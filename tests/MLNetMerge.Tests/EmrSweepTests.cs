using System.Runtime.Intrinsics;
using MLNetMerge.Encoders;
using MLNetMerge.Merging;
using MLNetMerge.Merging.Methods;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

/// <summary>
/// EMR's one-sweep kernel against the separate kernels it replaces (the election as a reference here), the mask-driven task weights against their formula,
/// and the run that counts the rescalers in the merge pass against the run that gives them a pass of their own.
/// </summary>
[TestClass]
public sealed class EmrSweepTests
{
    /// <summary>T task vectors of n elements with exact ties, ±0 and cancelling pairs mixed into random values.</summary>
    private static float[][] Tasks(int T, int n, int seed)
    {
        var rng = new Random(seed);
        var tasks = new float[T][];
        for (int t = 0; t < T; t++)
        {
            tasks[t] = new float[n];
            for (int i = 0; i < n; i++)
                tasks[t][i] = (i % 11) switch
                {
                    0 => 0f,
                    1 => -0f,
                    2 => t % 2 == 0 ? 0.25f : -0.25f, // cancelling pairs: the sum is 0 (or ±0.25), u elects −1 on ties
                    3 => 0.5f,                        // equal magnitudes agreeing
                    _ => (float)(rng.NextDouble() - 0.5),
                };
        }
        return tasks;
    }

    /// <summary>
    /// The reference election, one 8-lane block at a time with the IEEE maximum: <c>ε = sign(Σt τt[i])</c> (+1 where
    /// &gt; 0, else −1); <c>out[i] = ε · max_{t: τt[i]·ε &gt; 0} |τt[i]|</c> (0 when none agree).
    /// </summary>
    private static void ElectMaxMagnitude(float[][] tasks, int T, int n, Span<float> output)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var zero = Vector256<float>.Zero;
            var one = Vector256<float>.One;
            for (; i <= n - 8; i += 8)
            {
                var s = zero;
                for (int t = 0; t < T; t++) s += Vector256.LoadUnsafe(ref tasks[t][0], (nuint)i);
                var eps = Vector256.ConditionalSelect(Vector256.GreaterThan(s, zero), one, -one);
                var mag = zero;
                for (int t = 0; t < T; t++)
                {
                    var v = Vector256.LoadUnsafe(ref tasks[t][0], (nuint)i);
                    var agree = Vector256.GreaterThan(v * eps, zero);
                    mag = Vector256.Max(mag, Vector256.ConditionalSelect(agree, Vector256.Abs(v), zero));
                }
                (eps * mag).StoreUnsafe(ref output[0], (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float s = 0;
            for (int t = 0; t < T; t++) s += tasks[t][i];
            float eps = s > 0 ? 1f : -1f;
            float mag = 0;
            for (int t = 0; t < T; t++)
            {
                float v = tasks[t][i];
                if (v * eps > 0 && MathF.Abs(v) > mag) mag = MathF.Abs(v);
            }
            output[i] = eps * mag;
        }
    }

    private static void AssertSameBits(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, what);
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(actual[i]), $"{what}[{i}]: {expected[i]} vs {actual[i]}");
    }

    [TestMethod]
    [DataRow(1, 8)]
    [DataRow(3, 1203)] // two chunks of 512, a partial chunk and a 3-element tail
    [DataRow(8, 4096)]
    [DataRow(5, 7)]    // tail only
    public void SweepGivesTheValuesOfTheSeparateKernels(int T, int n)
    {
        var tasks = Tasks(T, n, 7 * T + n);
        var theta0 = Tasks(1, n, 99)[0];
        var expectedU = new float[n];
        ElectMaxMagnitude(tasks, T, n, expectedU);

        var u = new float[n];
        var output = new float[n];
        var sums = new double[2 * T + 1];
        var bits = Enumerable.Range(0, T).Select(_ => Enumerable.Repeat((byte)0xA5, MaskBits.ByteCount(n)).ToArray()).ToArray();
        EmrKernels.Sweep(tasks, T, raw: false, theta0, u, output, sums, bits, n);

        AssertSameBits(expectedU, u, "u");
        AssertSameBits(expectedU.Select((x, i) => x + theta0[i]).ToArray(), output, "θ0 + u");
        for (int t = 0; t < T; t++)
        {
            Assert.AreEqual(TaskVectorKernels.AbsSum(tasks[t]), sums[t], 0, $"Σ|τ{t}|");
            Assert.AreEqual(TaskVectorKernels.AgreeingAbsSum(tasks[t], expectedU), sums[T + t], 0, $"Σ agreeing |u| of task {t}");
            var packed = new byte[MaskBits.ByteCount(n)];
            TaskVectorKernels.PackAgreement(tasks[t], expectedU, packed);
            CollectionAssert.AreEqual(packed, bits[t], $"mask of task {t}");
        }
        Assert.AreEqual(TaskVectorKernels.AbsSum(expectedU), sums[2 * T], 0, "Σ|u|");

        // Without masks the values are the same.
        var sums2 = new double[2 * T + 1];
        EmrKernels.Sweep(tasks, T, raw: false, theta0, u, output, sums2, null, n);
        CollectionAssert.AreEqual(sums, sums2);
    }

    [TestMethod]
    [DataRow(3, 1203)]
    [DataRow(8, 4096)]
    [DataRow(2, 5)]
    public void RawSweepFormsTheTaskVectorsItself(int T, int n)
    {
        // θt in, τt = θt − θ0 formed chunk by chunk: the same bits as the sweep over τt made beforehand.
        var thetas = Tasks(T, n, 3 * T + n);
        var theta0 = Tasks(1, n, 77)[0];
        var taus = thetas.Select(x => x.Select((v, i) => v - theta0[i]).ToArray()).ToArray();
        var (u1, o1, s1, m1) = (new float[n], new float[n], new double[2 * T + 1], Masks(T, n));
        var (u2, o2, s2, m2) = (new float[n], new float[n], new double[2 * T + 1], Masks(T, n));
        Assert.IsTrue(EmrKernels.Sweep(taus, T, raw: false, theta0, u1, o1, s1, m1, n));
        Assert.IsTrue(EmrKernels.Sweep(thetas, T, raw: true, theta0, u2, o2, s2, m2, n));
        AssertSameBits(u1, u2, "u");
        AssertSameBits(o1, o2, "θ0 + u");
        CollectionAssert.AreEqual(s1, s2, "sums");
        for (int t = 0; t < T; t++) CollectionAssert.AreEqual(m1[t], m2[t], $"mask {t}");

        // An input that makes a τt infinite or NaN is reported (in a vector block, then in the tail).
        thetas[T - 1][Math.Min(600, n - 1)] = float.PositiveInfinity;
        Assert.IsFalse(EmrKernels.Sweep(thetas, T, raw: true, theta0, u2, o2, s2, m2, n));
        thetas[T - 1][Math.Min(600, n - 1)] = 0f;
        theta0[n - 1] = float.NaN;
        Assert.IsFalse(EmrKernels.Sweep(thetas, T, raw: true, theta0, u2, o2, s2, m2, n));
    }

    private static byte[][] Masks(int T, int n) => Enumerable.Range(0, T).Select(_ => new byte[MaskBits.ByteCount(n)]).ToArray();

    [TestMethod]
    public void SweepElectsNonFiniteValuesAsTheSeparateKernelDoes()
    {
        // Under allow_nonfinite a NaN τ reaches the election: in a vector block and in the tail, agreeing with ε or not.
        const int T = 3, n = 1030;
        var tasks = Tasks(T, n, 5);
        tasks[1][100] = float.NaN;
        tasks[0][101] = float.NaN;
        tasks[2][101] = -float.NaN;
        tasks[2][600] = float.PositiveInfinity;
        var expectedU = new float[n];
        ElectMaxMagnitude(tasks, T, n, expectedU);
        var u = new float[n];
        var sums = new double[2 * T + 1];
        EmrKernels.Sweep(tasks, T, raw: false, new float[n], u, new float[n], sums, null, n);
        AssertSameBits(expectedU, u, "u");
        // A NaN makes the sum NaN, so ε = −1, and NaN·ε > 0 is false: a NaN is never elected; an infinity is.
        Assert.IsTrue(float.IsFinite(u[100]) && float.IsFinite(u[101]), "NaN never elected");
        Assert.AreEqual(float.PositiveInfinity, u[600], "∞ elected");
        Assert.AreEqual(TaskVectorKernels.AbsSum(expectedU), sums[2 * T], "Σ|u| (NaN)");
    }

    [TestMethod]
    public void MaterializeFromAPackedMaskIsTheMaskedFormula()
    {
        // θ̂ = θ0 + γ·u where τ·u > 0, θ0 elsewhere; unmasked: θ0 + γ·u everywhere. n = 37: four vector blocks and a tail.
        const int n = 37;
        var theta0 = Tasks(1, n, 1)[0];
        var u = Tasks(1, n, 2)[0];
        var tau = Tasks(1, n, 3)[0];
        const float gamma = 1.375f;
        var bits = new byte[MaskBits.ByteCount(n)];
        TaskVectorKernels.PackAgreement(tau, u, bits);
        var masked = new float[n];
        EmrKernels.Materialize(theta0, u, bits, gamma, masked);
        var all = new float[n];
        EmrKernels.Materialize(theta0, u, null, gamma, all);
        for (int i = 0; i < n; i++)
        {
            float kept = theta0[i] + gamma * u[i];
            Assert.AreEqual(tau[i] * u[i] > 0 ? kept : theta0[i], masked[i], 0, $"masked [{i}]");
            Assert.AreEqual(kept, all[i], 0, $"unmasked [{i}]");
        }
    }

    private sealed class Recorder : IProgress<MergeProgress>
    {
        public List<string> Stages { get; } = [];
        public void Report(MergeProgress value) { lock (Stages) if (!Stages.Contains(value.Stage)) Stages.Add(value.Stage); }
    }

    [TestMethod]
    [DataRow("full", "sum", 1030, "emr")]
    [DataRow("full", "mean", 1030, "emr")]
    [DataRow("elect_rescale", "sum", 1030, "emr")]
    [DataRow("full", "sum", 2 * TensorRangeReader.RangeElements + 1003, "emr")] // three ranges, the last with a 3-element tail
    [DataRow("elect_rescale", "mean", TensorRangeReader.RangeElements + 8, "emr")]
    [DataRow("full", "sum", 1030, "ta")]   // masks and rescalers over task arithmetic's merged vector
    [DataRow("full", "mean", 1030, "ties")] // … and over TIES's, after its own two passes
    [DataRow("elect_rescale", "sum", 1030, "ties")]
    public void RescalersCountedInTheMergePassGiveTheMergeOfAPassOfTheirOwn(string mode, string rescaler, int n, string merge)
    {
        // The usual run reads the checkpoints once, range by range (merge, then θ0 alone for the tasks); with no room to
        // keep u it counts the rescalers in a pass over whole tensors first. Every tensor, mask, rescaler and task's
        // weights must be the same bits.
        var a = Tasks(3, n, 11);
        var b = Tasks(3, 9, 12);
        var f = new TinyFamily("t1", "t2", "t3")
            .WithTaskVectors("a", [n], Tasks(1, n, 13)[0], a)
            .WithTaskVectors("b", [3, 3], Tasks(1, 9, 14)[0], b);
        using var family = f.Build();
        var p = Parameters("emr", 3, P(("mode", mode), ("rescaler", rescaler), ("merge", merge)));
        var once = new Recorder();
        var expected = MergeExecutor.RunInMemory(family, p.Method, p, new MergeExecutionOptions { MaxThreads = 2 }, once);
        var twice = new Recorder();
        MergedModel fallback;
        EmrRun.RetainLimitOverride.Value = -1;
        try { fallback = MergeExecutor.RunInMemory(family, p.Method, p, new MergeExecutionOptions { MaxThreads = 2 }, twice); }
        finally { EmrRun.RetainLimitOverride.Value = null; }

        int inner = merge == "ties" ? 2 : 0; // TIES's own passes come first either way
        CollectionAssert.AreEqual(Enumerable.Range(1, inner).Select(k => $"pass {k}/{inner}").Concat(["merge", "materialize"]).ToArray(), once.Stages);
        CollectionAssert.AreEqual(Enumerable.Range(1, inner + 1).Select(k => $"pass {k}/{inner + 1}").Append("merge").ToArray(), twice.Stages);
        foreach (var name in new[] { "a", "b" })
        {
            AssertSameBits(expected.Tensors[name], fallback.Tensors[name], name);
            foreach (var task in new[] { "t1", "t2", "t3" })
            {
                AssertSameBits(expected.TaskTensors[task][name], fallback.TaskTensors[task][name], $"{task}.{name}");
                if (mode == "full") CollectionAssert.AreEqual(expected.ModulatorBytes[$"masks.{task}.{name}"], fallback.ModulatorBytes[$"masks.{task}.{name}"]);
            }
        }
        AssertSameBits(expected.Modulators["rescalers"], fallback.Modulators["rescalers"], "rescalers");
        Assert.AreNotEqual(1f, expected.Modulators["rescalers"][0], "rescalers were computed");
    }

    [TestMethod]
    public void NonFiniteInputsKeepThePassOfTheirOwnAndReachEveryTask()
    {
        // Under allow_nonfinite the tasks are written in the merge pass (the rule of allow_nonfinite needs every θt of
        // the element), so a NaN in one fine-tuned model is NaN in every task's weights at that element; it counts as
        // τ = 0 in the rescaler sums, so γ2 stays finite and t2's other elements too (a NaN γ2 spread over all of them).
        var f = new TinyFamily("t1", "t2")
            .WithWeights("w", [4], [0f, 0f, 0f, 0f], [1f, -1f, 2f, 1f], [1f, 1f, float.NaN, -2f]);
        var progress = new Recorder();
        using var family = f.Build();
        var p = Parameters("emr", 2);
        var m = MergeExecutor.RunInMemory(family, p.Method, p, new MergeExecutionOptions { AllowNonFinite = true, MaxThreads = 1 }, progress);
        CollectionAssert.AreEqual(new[] { "pass 1/1", "merge" }, progress.Stages);
        foreach (var task in new[] { "t1", "t2" }) Assert.IsTrue(float.IsNaN(m.TaskTensors[task]["w"][2]), task);
        foreach (var task in new[] { "t1", "t2" })
            Assert.IsTrue(m.TaskTensors[task]["w"].Where((_, i) => i != 2).All(float.IsFinite), task + " elsewhere");
        Assert.IsTrue(float.IsFinite(m.Modulators["rescalers"][1]), "γ2");
        Assert.IsTrue(float.IsFinite(m.Modulators["rescalers"][0]), "γ1");
    }

    [TestMethod]
    public void NonFiniteInputInALaterRangeIsKeptOrNamed()
    {
        // A tensor of three ranges with a NaN in task t2 at element 70,000 (the second range). Without materialized
        // tasks the merge reads ranges: under allow_nonfinite the model is NaN there and the same bits as the whole-tensor
        // run elsewhere; without it the error names the file, the tensor and the element.
        const int n = 2 * TensorRangeReader.RangeElements + 1003, at = 70_000;
        var thetas = Tasks(2, n, 21);
        thetas[1][at] = float.NaN;
        var f = new TinyFamily("t1", "t2").WithWeights("w", [n], Tasks(1, n, 22)[0], thetas);
        using var family = f.Build();
        var p = Parameters("emr", 2);
        var sink = new InMemoryMergeSink();
        MergeExecutor.Run(family, p.Method, p, sink, new MergeExecutionOptions { AllowNonFinite = true, MaxThreads = 1 });
        var ranged = sink.Result!;
        var whole = MergeExecutor.RunInMemory(family, p.Method, p, new MergeExecutionOptions { AllowNonFinite = true, MaxThreads = 1 });
        Assert.IsTrue(float.IsNaN(ranged.Tensors["w"][at]));
        AssertSameBits(whole.Tensors["w"], ranged.Tensors["w"], "model");
        CollectionAssert.AreEqual(whole.ModulatorBytes["masks.t1.w"], ranged.ModulatorBytes["masks.t1.w"]);
        AssertSameBits(whole.Modulators["rescalers"], ranged.Modulators["rescalers"], "rescalers");

        var e = Assert.ThrowsExactly<MLNetMerge.Errors.NonFiniteTensorException>(() =>
            MergeExecutor.Run(family, p.Method, p, new InMemoryMergeSink(), new MergeExecutionOptions { MaxThreads = 1 }));
        StringAssert.Contains(e.Message, "t2.safetensors");
        StringAssert.Contains(e.Message, "'w'");
        StringAssert.Contains(e.Message, $"element {at}");
    }

    [TestMethod]
    public void OneTaskWrittenAfterTheMergeReadsTheBaseInRangesWithTheSameBits()
    {
        // One materialized task: after the merge pass the run reads θ0 itself, range by range (three ranges here);
        // the same bits as the whole-tensor run that counts the rescalers in a pass of their own.
        const int n = 2 * TensorRangeReader.RangeElements + 1003;
        var f = new TinyFamily("t1", "t2", "t3").WithTaskVectors("w", [n], Tasks(1, n, 31)[0], Tasks(3, n, 32));
        using var family = f.Build();
        var p = Parameters("emr", 3);
        MergedModel Run(long? limit)
        {
            var sink = new InMemoryMergeSink { KeepTaskTensors = true };
            var progress = new Recorder();
            EmrRun.RetainLimitOverride.Value = limit;
            try { MergeExecutor.Run(family, p.Method, p, sink, new MergeExecutionOptions { MaxThreads = 2, Materialize = ["t2"] }, progress); }
            finally { EmrRun.RetainLimitOverride.Value = null; }
            CollectionAssert.AreEqual(limit is null ? new[] { "merge", "materialize" } : ["pass 1/1", "merge"], progress.Stages);
            return sink.Result!;
        }
        var ranged = Run(null);
        var whole = Run(-1);
        AssertSameBits(whole.TaskTensors["t2"]["w"], ranged.TaskTensors["t2"]["w"], "θ̂2");
        AssertSameBits(whole.Tensors["w"], ranged.Tensors["w"], "model");
        AssertSameBits(whole.Modulators["rescalers"], ranged.Modulators["rescalers"], "rescalers");
        Assert.IsFalse(ranged.TaskTensors.ContainsKey("t1"));
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)] // float16 outputs: the task's file cannot hold u, so it is kept in memory
    public void TasksWrittenToFilesAfterTheMergeKeepUInTheirOwnFile(bool float16)
    {
        // Written to a directory, the last task to materialize holds u in its own file until its tensors are written;
        // the files must hold what the in-memory run computes (u kept in memory), converted to the file's dtype.
        const int n = 2 * TensorRangeReader.RangeElements + 1003;
        var f = new TinyFamily("t1", "t2", "t3")
            .WithTaskVectors("w", [n], Tasks(1, n, 41)[0], Tasks(3, n, 42))
            .WithTaskVectors("b", [3, 3], Tasks(1, 9, 43)[0], Tasks(3, 9, 44));
        using var family = f.Build();
        var p = Parameters("emr", 3);
        var options = new MergeExecutionOptions { MaxThreads = 2, Materialize = ["t1", "t3"], OutputDType = float16 ? MLNetMerge.Tensors.DType.F16 : null };
        string dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-emr-scratch-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            using (var sink = new DirectoryMergeSink(dir, new Dictionary<string, string>()))
                MergeExecutor.Run(family, p.Method, p, sink, options);
            var memory = new InMemoryMergeSink { KeepTaskTensors = true };
            MergeExecutor.Run(family, p.Method, p, memory, options);
            foreach (var task in new[] { "t1", "t3" })
            {
                using var file = MLNetMerge.Checkpoints.SafetensorsReader.Open(Path.Combine(dir, "tasks", task + ".safetensors"));
                foreach (var name in new[] { "w", "b" })
                {
                    Assert.IsTrue(file.TryGetTensor(name, out var info), $"{task}.{name}");
                    var read = new float[info.ElementCount];
                    file.ReadFloat32(info, read);
                    var expected = memory.Result!.TaskTensors[task][name];
                    if (!float16) AssertSameBits(expected, read, $"{task}.{name}");
                    else AssertSameBits(expected.Select(v => (float)(Half)v).ToArray(), read, $"{task}.{name} (float16)");
                }
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void CheckpointsReadInPlaceGiveTheBitsOfCopiedRanges()
    {
        // From safetensors files the ranged sweep reads F32 tensors in place, from the files' mappings (TryMapFloat32),
        // and a BF16 tensor through copies; the in-memory family copies every range. Same bits everywhere: model, the
        // task written after the merge (θ0 again in place), masks, rescalers.
        const int n = 2 * TensorRangeReader.RangeElements + 1003;
        var f = new TinyFamily("t1", "t2", "t3")
            .WithTaskVectors("w", [n], Tasks(1, n, 51)[0], Tasks(3, n, 52))
            .WithTaskVectors("h", [4, 260], MLNetMerge.Tensors.DType.BF16, Tasks(1, 1040, 53)[0], Tasks(3, 1040, 54));
        var p = Parameters("emr", 3);
        var options = new MergeExecutionOptions { MaxThreads = 2, Materialize = ["t2"] };
        string dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-emr-mapped-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            f.Save(dir);
            MergedModel Run(ModelFamily family)
            {
                var sink = new InMemoryMergeSink { KeepTaskTensors = true };
                var progress = new Recorder();
                MergeExecutor.Run(family, p.Method, p, sink, options, progress);
                CollectionAssert.AreEqual(new[] { "merge", "materialize" }, progress.Stages, "one read, ranges");
                return sink.Result!;
            }
            MergedModel copied, mapped;
            using (var memory = f.Build()) copied = Run(memory);
            using (var files = ModelFamily.Load(Path.Combine(dir, "base.safetensors"), f.TaskNames.Select(t => (t, Path.Combine(dir, t + ".safetensors")))))
            {
                unsafe
                {
                    Assert.IsTrue(files.Base.TryGetTensor("w", out var w) && files.Base.TryMapFloat32(w, 5, 100) != null, "F32 is handed out in place");
                    Assert.IsTrue(files.Base.TryGetTensor("h", out var h) && files.Base.TryMapFloat32(h, 0, 8) == null, "BF16 is read");
                }
                mapped = Run(files);
            }
            foreach (var name in new[] { "w", "h" })
            {
                AssertSameBits(copied.Tensors[name], mapped.Tensors[name], name);
                AssertSameBits(copied.TaskTensors["t2"][name], mapped.TaskTensors["t2"][name], $"t2.{name}");
                foreach (var task in f.TaskNames)
                    CollectionAssert.AreEqual(copied.ModulatorBytes[$"masks.{task}.{name}"], mapped.ModulatorBytes[$"masks.{task}.{name}"], $"masks.{task}.{name}");
            }
            AssertSameBits(copied.Modulators["rescalers"], mapped.Modulators["rescalers"], "rescalers");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
