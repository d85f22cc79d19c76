using System.Runtime.InteropServices;
using Google.Protobuf;
using MLNetMerge.Checkpoints;
using MLNetMerge.Checkpoints.Onnx;
using MLNetMerge.Checkpoints.Onnx.Protobuf;
using MLNetMerge.Tensors;

namespace MLNetMerge.Tests.Onnx;

[TestClass]
public sealed class OnnxCheckpointReaderTests
{
    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx", name);

    internal static float[] Read(ICheckpointReader r, string name)
    {
        Assert.IsTrue(r.TryGetTensor(name, out var t), name);
        var v = new float[t.ElementCount];
        r.ReadFloat32(t, v);
        return v;
    }

    [TestMethod]
    public void TorchExportedInitializersMatchTheStateDict()
    {
        // tools/make_onnx_fixtures.py exported the model with torch.onnx.export and saved its state dict as safetensors.
        using var onnx = OnnxCheckpointReader.Open(Fixture("base.onnx"));
        using var st = SafetensorsReader.Open(Fixture("base.safetensors"));
        CollectionAssert.AreEqual(
            new[] { "fc1.weight", "fc1.bias", "norm.weight", "norm.bias", "fc2.weight", "fc2.bias", "classifier.weight", "classifier.bias" },
            onnx.Tensors.Select(t => t.Name).ToArray());
        foreach (var t in st.Tensors)
        {
            Assert.IsTrue(onnx.TryGetTensor(t.Name, out var o));
            Assert.AreEqual(DType.F32, o.DType);
            CollectionAssert.AreEqual(t.Shape, o.Shape, t.Name);
            Assert.AreEqual(-1L, o.Offset, "data inside the model has no file offset");
            CollectionAssert.AreEqual(Read(st, t.Name), Read(onnx, t.Name), t.Name);
        }
        Assert.AreEqual("8", onnx.Metadata["onnx.ir_version"]);
        Assert.AreEqual("ai.onnx:17", onnx.Metadata["onnx.opset"]);
        Assert.AreEqual("pytorch", onnx.Metadata["onnx.producer_name"]);
    }

    [TestMethod]
    public void TypedFieldsAreConvertedToLittleEndianBytes()
    {
        // typed_fields.onnx: w = arange(6)·0.5 − 1 in float_data, b in float_data, shape = [-1, 2] in int64_data,
        // h = float16 [1.5, -2.0] as uint16 bits in int32_data (0x3E00, 0xC000).
        using var r = OnnxCheckpointReader.Open(Fixture("typed_fields.onnx"));
        CollectionAssert.AreEqual(new[] { -1f, -0.5f, 0f, 0.5f, 1f, 1.5f }, Read(r, "w"));
        CollectionAssert.AreEqual(new[] { 3, 2 }, r.Tensors[0].Shape);
        CollectionAssert.AreEqual(new[] { 0.25f, -0.75f }, Read(r, "b"));
        Assert.IsTrue(r.TryGetTensor("shape", out var shape));
        Assert.AreEqual(DType.I64, shape.DType);
        var raw = new byte[16];
        r.ReadRaw(shape, raw);
        CollectionAssert.AreEqual(new long[] { -1, 2 }, MemoryMarshal.Cast<byte, long>(raw).ToArray());
        Assert.IsTrue(r.TryGetTensor("h", out var h));
        Assert.AreEqual(DType.F16, h.DType);
        var hb = new byte[4];
        r.ReadRaw(h, hb);
        CollectionAssert.AreEqual(new ushort[] { 0x3E00, 0xC000 }, MemoryMarshal.Cast<byte, ushort>(hb).ToArray());
        CollectionAssert.AreEqual(new[] { 1.5f, -2f }, Read(r, "h"));
    }

    [TestMethod]
    public void ExternalDataIsReadFromItsFile()
    {
        using var ext = OnnxCheckpointReader.Open(Fixture("external.onnx"));
        using var st = SafetensorsReader.Open(Fixture("task_a.safetensors"));
        foreach (var t in st.Tensors)
        {
            Assert.IsTrue(ext.TryGetTensor(t.Name, out var e));
            Assert.AreEqual(Path.GetFullPath(Fixture("external.onnx.data")), e.File);
            CollectionAssert.AreEqual(Read(st, t.Name), Read(ext, t.Name), t.Name);
        }
    }

    /// <summary>
    /// The fuzz campaign's ONNX crasher (fuzz/crashes/onnx/30c6aafd8e939e37) and its first 53 bytes, the reduced case: a
    /// graph that claims more bytes than the file has, holding a node whose string length is 2³¹ − 1. Google.Protobuf
    /// 3.30's bounds arithmetic let it escape as <see cref="ArgumentOutOfRangeException"/>, so the reader printed a stack
    /// trace; the pinned 3.36.2 reports a parse error, which both readers of ONNX bytes turn into their typed one-line error.
    /// </summary>
    [TestMethod]
    public void LengthFieldNearIntMaxInsideAnOverlongMessage_IsATypedError()
    {
        byte[] crasher = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "fuzz", "crashes", "onnx", "30c6aafd8e939e37"));
        byte[] reduced = Convert.FromHexString(
            "080812126D616B655F6F6E6E785F666978745F7265733ADC010A120A01780A01771202787722064D610001756C0AFFFFFFFF771211");
        Assert.ThrowsExactly<InvalidProtocolBufferException>(() => ModelProto.Parser.ParseFrom(reduced));
        Assert.ThrowsExactly<InvalidProtocolBufferException>(() => ModelProto.Parser.ParseFrom(new CodedInputStream(new MemoryStream(crasher))));
        string dir = Directory.CreateTempSubdirectory("onnx-fuzz-").FullName;
        try
        {
            string path = Path.Combine(dir, "m.onnx");
            File.WriteAllBytes(path, crasher);
            var e = Assert.ThrowsExactly<CheckpointFormatException>(() => OnnxCheckpointReader.Open(path));
            Assert.AreEqual(path, e.File);
            StringAssert.Contains(e.Message, "is not a valid ONNX protobuf (truncated or malformed)");
            Assert.IsFalse(e.Message.Contains('\n'), e.Message);
            var a = Assert.ThrowsExactly<ArgumentException>(() => MLNetMerge.MLNet.OnnxSignature.Read(reduced));
            StringAssert.Contains(a.Message, "the 53 bytes given are not an ONNX model");
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void MissingExternalDataNamesTheFileAndTheTensor()
    {
        string dir = Directory.CreateTempSubdirectory("onnx-ext-").FullName;
        try
        {
            File.Copy(Fixture("external.onnx"), Path.Combine(dir, "external.onnx"));
            var e = Assert.ThrowsExactly<CheckpointFormatException>(() => OnnxCheckpointReader.Open(Path.Combine(dir, "external.onnx")));
            Assert.AreEqual("fc1.weight", e.Tensor);
            StringAssert.Contains(e.Message, "external.onnx.data");
            StringAssert.Contains(e.Message, "missing");

            // A data file cut short is refused at open, naming the first tensor that runs past its end.
            var data = File.ReadAllBytes(Fixture("external.onnx.data"));
            File.WriteAllBytes(Path.Combine(dir, "external.onnx.data"), data[..(data.Length - 1)]);
            var e2 = Assert.ThrowsExactly<CheckpointFormatException>(() => OnnxCheckpointReader.Open(Path.Combine(dir, "external.onnx")));
            Assert.AreEqual("classifier.bias", e2.Tensor);
            StringAssert.Contains(e2.Message, "truncated");
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void ExternalLocationOutsideTheModelDirectoryIsRefused()
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixture("external.onnx")));
        model.Graph.Initializer[0].ExternalData[0].Value = "../external.onnx.data";
        string dir = Directory.CreateTempSubdirectory("onnx-ext-").FullName;
        try
        {
            string path = Path.Combine(dir, "m.onnx");
            File.WriteAllBytes(path, model.ToByteArray());
            var e = Assert.ThrowsExactly<CheckpointFormatException>(() => OnnxCheckpointReader.Open(path));
            StringAssert.Contains(e.Message, "inside the model's directory");
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void EveryTruncationIsATypedError()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("base.onnx"));
        string dir = Directory.CreateTempSubdirectory("onnx-trunc-").FullName;
        try
        {
            string path = Path.Combine(dir, "t.onnx");
            for (int n = 0; n < bytes.Length; n++)
            {
                File.WriteAllBytes(path, bytes[..n]);
                var e = Assert.ThrowsExactly<CheckpointFormatException>(() => OnnxCheckpointReader.Open(path).Dispose(), $"prefix of {n} bytes");
                Assert.AreEqual(path, e.File);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void MutatedFilesOpenOrFailWithATypedError()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("base.onnx"));
        string dir = Directory.CreateTempSubdirectory("onnx-fuzz-").FullName;
        var rng = new Random(1234);
        int refused = 0;
        try
        {
            string path = Path.Combine(dir, "m.onnx");
            for (int i = 0; i < 500; i++)
            {
                var copy = (byte[])bytes.Clone();
                for (int k = 0; k < 1 + i % 4; k++) copy[rng.Next(copy.Length)] = (byte)rng.Next(256);
                File.WriteAllBytes(path, copy);
                try
                {
                    using var r = OnnxCheckpointReader.Open(path);
                    foreach (var t in r.Tensors) r.ReadRaw(t, new byte[t.ByteLength]);
                }
                catch (CheckpointFormatException) { refused++; }
            }
        }
        finally { Directory.Delete(dir, true); }
        Assert.IsGreaterThan(0, refused);
    }

    [TestMethod]
    public void ASafetensorsFileIsNotAnOnnxModel()
    {
        string dir = Directory.CreateTempSubdirectory("onnx-bad-").FullName;
        try
        {
            string path = Path.Combine(dir, "x.onnx");
            File.Copy(Fixture("base.safetensors"), path);
            Assert.ThrowsExactly<CheckpointFormatException>(() => OnnxCheckpointReader.Open(path));
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void RegisteredFormatOpensThroughCheckpointReader()
    {
        using var r = CheckpointReader.Open(Fixture("task_b.onnx"));
        Assert.IsInstanceOfType<OnnxCheckpointReader>(r);
        Assert.AreEqual(8, r.Tensors.Count);
    }
}
