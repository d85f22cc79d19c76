using System.Runtime.InteropServices;
using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Tensors;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

/// <summary>
/// Streaming element-wise merges in slices (range reads, slice writes) must give the same bytes as merging whole
/// tensors, name the right element of a non-finite input, and leave whole-tensor methods alone.
/// </summary>
[TestClass]
public sealed class SlicedMergeTests
{
    // Lengths chosen to leave partial last slices (1000 = 15·64 + 40, 37 < 64) and one exact multiple (4096).
    private static TinyFamily Family(DType dtype = DType.F32)
    {
        var f = new TinyFamily("a", "b", "c");
        int seed = 1;
        foreach (var (name, shape) in new[] { ("blocks.0.w", new[] { 40, 25 }), ("blocks.0.b", new[] { 37 }), ("blocks.1.w", new[] { 64, 64 }) })
        {
            int n = shape.Aggregate(1, (a, d) => a * d);
            f.WithTaskVectors(name, shape, dtype, Random(n, (ulong)seed++), Random(n, (ulong)seed++, 0.1f), Random(n, (ulong)seed++, 0.1f), Random(n, (ulong)seed++, 0.1f));
        }
        return f;
    }

    [TestMethod]
    public void AWorkerThatCannotRentItsBuffersFailsTheMergeInsteadOfTheProcess()
    {
        // Slices larger than one array can hold: each of the two workers fails to rent, on a thread of its own; the
        // exception must reach the caller (before, it ended the process).
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            Run(Family(), "task_arithmetic", options: new MergeExecutionOptions { MaxThreads = 2, SliceElements = int.MaxValue }));
    }

    [TestMethod]
    [DataRow("task_arithmetic", 1)]
    [DataRow("task_arithmetic", 2)]
    [DataRow("ties", 2)]
    [DataRow("weight_average", 1)]
    [DataRow("magmax", 2)]
    [DataRow("consensus", 1)]
    [DataRow("dare", 2)]
    [DataRow("breadcrumbs", 1)]
    [DataRow("pcb", 2)]
    [DataRow("tatr", 1)]
    public void SlicedAndWholeTensorMergesGiveTheSameBits(string method, int threads)
    {
        var whole = Run(Family(), method, options: new MergeExecutionOptions { MaxThreads = threads, SliceElements = 0, Seed = 7 });
        var sliced = Run(Family(), method, options: new MergeExecutionOptions { MaxThreads = threads, SliceElements = 64, Seed = 7 });
        Assert.HasCount(3, whole.Tensors);
        foreach (var (name, expected) in whole.Tensors)
            CollectionAssert.AreEqual(MemoryMarshal.AsBytes(expected.AsSpan()).ToArray(), MemoryMarshal.AsBytes(sliced.Tensors[name].AsSpan()).ToArray(), $"{method} {name}");
    }

    [TestMethod]
    public void OnlyElementwiseRunsAreSliced()
    {
        var plan = MergePlan.Of(Family().Build(), 0);
        bool Elementwise(string method, Dictionary<string, ParameterValue>? p = null)
        {
            var parameters = Parameters(method, 3, p);
            return parameters.Method.Begin(plan, parameters).IsElementwise;
        }
        Assert.IsTrue(Elementwise("task_arithmetic"));
        Assert.IsTrue(Elementwise("ties"));                        // global trim + sign election: per element once thresholds are known
        Assert.IsFalse(Elementwise("ties", P(("trim", "tensor")))); // a per-tensor top-k needs the whole tensor
        Assert.IsFalse(Elementwise("dare"));                       // the drop mask is keyed by element position
        Assert.IsFalse(Elementwise("emr"));
        Assert.IsFalse(Elementwise("cart"));
        Assert.IsFalse(Elementwise("slerp"));
    }

    [TestMethod]
    public void SlicedDirectoryMergeWritesTheSameFileAsWholeTensors()
    {
        string root = Path.Combine(Path.GetTempPath(), "mlnm-slices-" + Guid.NewGuid().ToString("N"));
        try
        {
            byte[] Merge(int slice, DType output)
            {
                string dir = Path.Combine(root, $"{slice}-{output}");
                Directory.CreateDirectory(dir);
                using var family = Family(DType.BF16).Build();
                var parameters = Parameters("ties", 3);
                using (var sink = new DirectoryMergeSink(dir, new Dictionary<string, string>()))
                    MergeExecutor.Run(family, parameters.Method, parameters, sink, new MergeExecutionOptions { MaxThreads = 2, SliceElements = slice, OutputDType = output });
                return File.ReadAllBytes(Path.Combine(dir, "model.safetensors"));
            }
            foreach (var dtype in new[] { DType.F32, DType.BF16 })
                CollectionAssert.AreEqual(Merge(0, dtype), Merge(100, dtype), dtype.ToString());
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    public void NonFiniteInputInALaterSliceNamesTheTensorAndTheElement()
    {
        var theta = Random(100, 3);
        var bad = (float[])theta.Clone();
        bad[70] = float.PositiveInfinity;
        var f = new TinyFamily("a", "b").WithWeights("w", [100], theta, theta, bad);
        var e = Assert.ThrowsExactly<NonFiniteTensorException>(() => Run(f, "task_arithmetic", options: new MergeExecutionOptions { MaxThreads = 1, SliceElements = 32 }));
        StringAssert.Contains(e.Message, "'w'");
        StringAssert.Contains(e.Message, "element 70");
    }

    [TestMethod]
    [DataRow("task_arithmetic")] // the fused sweep reads θ0 and θt by address
    [DataRow("ties")]            // τt = θt − θ0 formed from the mapping
    [DataRow("weight_average")]
    public void SlicedMergesOfFilesReadInPlaceGiveTheBitsOfCopiedInputs(string method)
    {
        // From safetensors files the F32 tensors are read in place (the mapping) and the BF16 one through copies; the
        // in-memory family copies everything. Same bits, and a non-finite θt in a later slice of a file is still named.
        string dir = Path.Combine(Path.GetTempPath(), "mlnm-inplace-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var f = Family().WithTaskVectors("blocks.2.h", [3, 50], DType.BF16, Random(150, 90), Random(150, 91, 0.1f), Random(150, 92, 0.1f), Random(150, 93, 0.1f));
            f.Save(dir);
            var options = new MergeExecutionOptions { MaxThreads = 2, SliceElements = 64, Seed = 7 };
            var copied = Run(f, method, options: options);
            MergedModel mapped;
            using (var files = Encoders.ModelFamily.Load(Path.Combine(dir, "base.safetensors"), f.TaskNames.Select(t => (t, Path.Combine(dir, t + ".safetensors")))))
                mapped = Run(files, method, options: options);
            Assert.HasCount(4, copied.Tensors);
            foreach (var (name, expected) in copied.Tensors)
                CollectionAssert.AreEqual(MemoryMarshal.AsBytes(expected.AsSpan()).ToArray(), MemoryMarshal.AsBytes(mapped.Tensors[name].AsSpan()).ToArray(), $"{method} {name}");

            var theta = Random(200, 3);
            var bad = (float[])theta.Clone();
            bad[150] = float.NaN;
            new TinyFamily("a", "b").WithWeights("w", [200], theta, theta, bad).Save(dir);
            using var poisoned = Encoders.ModelFamily.Load(Path.Combine(dir, "base.safetensors"), [("a", Path.Combine(dir, "a.safetensors")), ("b", Path.Combine(dir, "b.safetensors"))]);
            var e = Assert.ThrowsExactly<NonFiniteTensorException>(() => Run(poisoned, method, options: new MergeExecutionOptions { MaxThreads = 1, SliceElements = 64 }));
            StringAssert.Contains(e.Message, "b.safetensors");
            StringAssert.Contains(e.Message, "'w'");
            StringAssert.Contains(e.Message, "element 150");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void RangeReadsEqualTheSameSliceOfAFullRead()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnm-range-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var values = Random(1000, 11);
            foreach (var dtype in new[] { DType.F32, DType.BF16, DType.F16 })
            {
                var ckpt = new InMemoryCheckpoint("x");
                ckpt.Add("w", [40, 25], values, dtype);
                string path = Path.Combine(dir, $"{dtype}.safetensors");
                ckpt.Save(path);
                using var reader = SafetensorsReader.Open(path);
                reader.TryGetTensor("w", out var info);
                var full = new float[1000];
                reader.ReadFloat32(info, full);
                foreach (ICheckpointReader r in new ICheckpointReader[] { reader, ckpt })
                {
                    Assert.IsTrue(r.SupportsRangeReads);
                    var part = new float[123];
                    r.ReadFloat32(info, 877, part);
                    CollectionAssert.AreEqual(full.AsSpan(877, 123).ToArray(), part, $"{dtype} {r.GetType().Name}");
                    Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => r.ReadFloat32(info, 878, new float[123]));
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void SliceWritesInAnyOrderCompleteATensorAndGapsAreCaught()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnm-wslice-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var values = Random(10, 5);
            var entries = new[] { new TensorEntry("w", DType.F32, [10]) };
            string whole = Path.Combine(dir, "whole.safetensors"), sliced = Path.Combine(dir, "sliced.safetensors");
            using (var w = new SafetensorsWriter(whole, entries)) { w.WriteFloat32("w", values); w.Complete(); }
            using (var w = new SafetensorsWriter(sliced, entries))
            {
                w.WriteFloat32("w", 6, values.AsSpan(6, 4));
                w.WriteFloat32("w", 0, values.AsSpan(0, 6));
                w.Complete();
            }
            CollectionAssert.AreEqual(File.ReadAllBytes(whole), File.ReadAllBytes(sliced));
            using var gap = new SafetensorsWriter(Path.Combine(dir, "gap.safetensors"), entries);
            gap.WriteFloat32("w", 0, values.AsSpan(0, 6));
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => gap.WriteFloat32("w", 6, values.AsSpan(0, 5)));
            Assert.ThrowsExactly<InvalidOperationException>(gap.Complete);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
