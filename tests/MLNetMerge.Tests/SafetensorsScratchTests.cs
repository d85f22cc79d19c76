using MLNetMerge.Checkpoints;
using MLNetMerge.Tensors;

namespace MLNetMerge.Tests;

/// <summary>A float32 tensor's place in a file being written, used as scratch before its final write (EMR's kept u).</summary>
[TestClass]
public sealed class SafetensorsScratchTests
{
    private string _dir = "";

    [TestInitialize]
    public void Init()
    {
        _dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-scratch-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TestCleanup]
    public void Cleanup()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static readonly TensorEntry[] Entries = [new("a", DType.F32, [3]), new("h", DType.F16, [2])];

    [TestMethod]
    public void ScratchIsReadBackThenOverwrittenByTheTensor()
    {
        string path = Path.Combine(_dir, "t.safetensors");
        using (var w = new SafetensorsWriter(path, Entries))
        {
            Assert.IsTrue(w.WriteScratch("a", [1.5f, -2f, float.Epsilon]));
            var back = new float[3];
            w.ReadScratch("a", back);
            CollectionAssert.AreEqual(new[] { 1.5f, -2f, float.Epsilon }, back);
            Assert.IsFalse(w.WriteScratch("h", [1f, 2f]), "float16 cannot hold float32 scratch");
            w.WriteFloat32("a", [4f, 5f, 6f]);
            Assert.ThrowsExactly<InvalidOperationException>(() => w.WriteScratch("a", [0f, 0f, 0f]), "scratch after the tensor's write");
            w.WriteFloat32("h", [1f, 2f]);
            w.Complete();
        }
        using var r = SafetensorsReader.Open(path);
        r.TryGetTensor("a", out var a);
        var values = new float[3];
        r.ReadFloat32(a, values);
        CollectionAssert.AreEqual(new[] { 4f, 5f, 6f }, values);
    }

    [TestMethod]
    public void ScratchDoesNotCountAsWritten()
    {
        using var w = new SafetensorsWriter(Path.Combine(_dir, "u.safetensors"), Entries);
        Assert.IsTrue(w.WriteScratch("a", [1f, 2f, 3f]));
        w.WriteFloat32("h", [1f, 2f]);
        var e = Assert.ThrowsExactly<InvalidOperationException>(w.Complete);
        StringAssert.Contains(e.Message, "'a'");
        Assert.ThrowsExactly<ArgumentException>(() => w.WriteScratch("a", [1f]), "wrong length");
        Assert.ThrowsExactly<ArgumentException>(() => w.WriteScratch("missing", [1f]), "not in the layout");
    }

    [TestMethod]
    public void WrittenTensorsAreReadBackAndRewritten()
    {
        string path = Path.Combine(_dir, "r.safetensors");
        using (var w = new SafetensorsWriter(path, Entries))
        {
            Assert.ThrowsExactly<InvalidOperationException>(() => w.ReadFloat32("a", 0, new float[1]), "not written yet");
            Assert.ThrowsExactly<InvalidOperationException>(() => w.RewriteFloat32("h", 0, [1f]), "not written yet");
            w.WriteFloat32("a", [4f, 5f, 6f]);
            w.WriteFloat32("h", [1.5f, 2.25f]);
            var back = new float[2];
            w.ReadFloat32("a", 1, back);
            CollectionAssert.AreEqual(new[] { 5f, 6f }, back);
            w.RewriteFloat32("a", 2, [7f]);
            w.RewriteFloat32("h", 0, [0.1f]); // stored as float16: 0.0999755859375
            w.ReadFloat32("h", 0, back);
            CollectionAssert.AreEqual(new[] { (float)(Half)0.1f, 2.25f }, back);
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => w.ReadFloat32("a", 2, back), "past the tensor's end");
            w.Complete();
        }
        using var r = SafetensorsReader.Open(path);
        r.TryGetTensor("a", out var a);
        var values = new float[3];
        r.ReadFloat32(a, values);
        CollectionAssert.AreEqual(new[] { 4f, 5f, 7f }, values);
    }

    [TestMethod]
    [DataRow("F32")]
    [DataRow("BF16")]
    public void DirectorySinkPatchesElementsAcrossWindowsAndLeavesTheRest(string dtype)
    {
        // 200,000 elements: patches in three 65,536-element windows, from two calls on disjoint ranges at once.
        const int n = 200_000;
        var type = Enum.Parse<DType>(dtype);
        var values = Enumerable.Range(0, n).Select(i => (i % 61) / 4f).ToArray(); // at most 6 significant bits: exact in bfloat16
        using (var sink = new MLNetMerge.Merging.DirectoryMergeSink(_dir, new Dictionary<string, string>()))
        {
            sink.Begin(new MLNetMerge.Merging.MergeLayout([new TensorEntry("w", type, [n])], new Dictionary<string, IReadOnlyList<TensorEntry>>(), [], []));
            sink.WriteModel("w", values);
            Parallel.Invoke(
                () => sink.PatchModel("w", [3, 65_535, 65_536, 70_000], [-1f, -2f, -3f, -4f]),
                () => sink.PatchModel("w", [131_071, 131_072, 199_999], [-5f, -6f, -7f]));
            sink.Complete(new MLNetMerge.Merging.MergeSummary(MLNetMerge.Merging.MergeMethods.Find("ties").Method, null!, [], new Dictionary<string, string>(), n));
        }
        var expected = (float[])values.Clone();
        foreach (var (i, v) in new (int, float)[] { (3, -1), (65_535, -2), (65_536, -3), (70_000, -4), (131_071, -5), (131_072, -6), (199_999, -7) }) expected[i] = v;
        using var r = SafetensorsReader.Open(Path.Combine(_dir, "model.safetensors"));
        r.TryGetTensor("w", out var t);
        var stored = new float[n];
        r.ReadFloat32(t, stored);
        CollectionAssert.AreEqual(expected, stored);
    }
}
