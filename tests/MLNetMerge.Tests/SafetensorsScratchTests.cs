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
}
