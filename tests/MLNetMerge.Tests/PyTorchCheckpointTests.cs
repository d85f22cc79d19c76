using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Checkpoints.PyTorch;
using MLNetMerge.Tensors;

namespace MLNetMerge.Tests;

/// <summary>
/// PyTorchCheckpointReader against checkpoints written by torch.save (Debian python3-torch 1.13) with
/// tools/make_torch_fixtures.py; each X.pt has X.json with the names, dtypes, shapes, offsets and values torch reports.
/// </summary>
[TestClass]
public sealed class PyTorchCheckpointTests
{
    private const string Marker = "MLNETMERGE_PICKLE_EXECUTED";

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "torch", name);

    private sealed record Expected(string Name, string DType, int[] Shape, long? Offset, bool Contiguous, double[] Values);

    private static (List<Expected> Tensors, Dictionary<string, string> Metadata) LoadExpected(string fixture)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Fixture(Path.ChangeExtension(fixture, ".json"))));
        var tensors = doc.RootElement.GetProperty("tensors").EnumerateArray().Select(t => new Expected(
            t.GetProperty("name").GetString()!,
            t.GetProperty("dtype").GetString()!,
            t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray(),
            t.GetProperty("offset").ValueKind == JsonValueKind.Null ? null : t.GetProperty("offset").GetInt64(),
            t.GetProperty("contiguous").GetBoolean(),
            t.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray())).ToList();
        var metadata = doc.RootElement.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        return (tensors, metadata);
    }

    /// <summary>Decodes ReadRaw's little-endian bytes element by element into doubles (exact for every dtype the fixtures use).</summary>
    private static double[] DecodeRaw(ReadOnlySpan<byte> raw, DType type)
    {
        int es = type.SizeOf();
        var values = new double[raw.Length / es];
        for (int i = 0; i < values.Length; i++)
        {
            var e = raw.Slice(i * es, es);
            values[i] = type switch
            {
                DType.F32 => BinaryPrimitives.ReadSingleLittleEndian(e),
                DType.F16 => (double)BinaryPrimitives.ReadHalfLittleEndian(e),
                DType.BF16 => BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(e) << 16),
                DType.F64 => BinaryPrimitives.ReadDoubleLittleEndian(e),
                _ => DTypeConversion.ReadInteger(e, type),
            };
        }
        return values;
    }

    [TestMethod]
    [DataRow("dtypes.pt")]
    [DataRow("views.pt")]
    [DataRow("nested.pt")]
    [DataRow("module.pt")]
    [DataRow("zip64.pt")]
    [DataRow("legacy.pt")]
    [DataRow("legacy_module.pt")]
    public void FixtureLoadsExactlyTheTensorsTorchSaved(string fixture)
    {
        var (expected, metadata) = LoadExpected(fixture);
        using var reader = PyTorchCheckpointReader.Open(Fixture(fixture));

        CollectionAssert.AreEqual(expected.Select(e => e.Name).ToList(), reader.Tensors.Select(t => t.Name).ToList());
        CollectionAssert.AreEquivalent(metadata, reader.Metadata.ToDictionary());
        foreach (var e in expected)
        {
            Assert.IsTrue(reader.TryGetTensor(e.Name, out var t));
            Assert.AreEqual(e.DType, t.DType.ToString(), e.Name);
            CollectionAssert.AreEqual(e.Shape, t.Shape, e.Name);
            Assert.AreEqual(Fixture(fixture), t.File);
            Assert.AreEqual(e.Values.Length * t.DType.SizeOf(), t.ByteLength, e.Name);
            Assert.AreEqual(e.Contiguous, reader.IsContiguous(t), e.Name);
            if (e.Offset is long offset) Assert.AreEqual(offset, t.Offset, e.Name);

            // ReadRaw: the stored little-endian bytes, row-major, decoded exactly.
            byte[] raw = new byte[t.ByteLength];
            reader.ReadRaw(t, raw);
            CollectionAssert.AreEqual(e.Values, DecodeRaw(raw, t.DType), e.Name);

            // ReadFloat32: every floating-point dtype widened (f64 rounded) to float32.
            if (t.DType.IsFloatingPoint())
            {
                float[] f = new float[t.ElementCount];
                reader.ReadFloat32(t, f);
                CollectionAssert.AreEqual(e.Values.Select(v => (float)v).ToArray(), f, e.Name);
            }
            else
            {
                Assert.ThrowsExactly<CheckpointFormatException>(() => reader.ReadFloat32(t, new float[t.ElementCount]));
            }
        }
    }

    [TestMethod]
    public void DtypesFixtureHoldsTheHandWrittenValues()
    {
        using var reader = PyTorchCheckpointReader.Open(Fixture("dtypes.pt"));
        Assert.AreEqual(7, reader.Tensors.Count);
        // f64 [0.1, -2.5, 1e-300]: ReadRaw keeps the doubles, ReadFloat32 rounds 0.1 to 0.100000001f and 1e-300 to 0.
        reader.TryGetTensor("f64", out var f64);
        byte[] raw = new byte[24];
        reader.ReadRaw(f64, raw);
        CollectionAssert.AreEqual(new[] { 0.1, -2.5, 1e-300 }, MemoryMarshal.Cast<byte, double>(raw).ToArray());
        float[] f = new float[3];
        reader.ReadFloat32(f64, f);
        CollectionAssert.AreEqual(new[] { 0.1f, -2.5f, 0f }, f);
        // bf16 [[1, -3.5], [1.5e10, 0.01171875]]: 1.5e10 is not a bf16 value; torch rounds it to 1.5032385536e10 (0x5060).
        reader.TryGetTensor("bf16", out var bf16);
        float[] b = new float[4];
        reader.ReadFloat32(bf16, b);
        CollectionAssert.AreEqual(new[] { 1f, -3.5f, 15032385536f, 0.01171875f }, b);
        // scalar 2.75: shape [], one element of 4 bytes.
        reader.TryGetTensor("scalar", out var scalar);
        Assert.AreEqual(0, scalar.Shape.Length);
        float[] s = new float[1];
        reader.ReadFloat32(scalar, s);
        Assert.AreEqual(2.75f, s[0]);
        // i64 holds 3000000000, which needs more than 32 bits; bool [True, False, True] is one byte each.
        reader.TryGetTensor("i64", out var i64);
        byte[] ints = new byte[32];
        reader.ReadRaw(i64, ints);
        CollectionAssert.AreEqual(new long[] { 1, -2, 3000000000, 4 }, MemoryMarshal.Cast<byte, long>(ints).ToArray());
        reader.TryGetTensor("mask", out var mask);
        byte[] m = new byte[3];
        reader.ReadRaw(mask, m);
        CollectionAssert.AreEqual(new byte[] { 1, 0, 1 }, m);
    }

    [TestMethod]
    public void ViewsOfOneStorageReadTheirOwnElements()
    {
        // views.pt: flat[i] = 0.5·i − 3 for i in 0..23, one storage; m = flat[12:24].view(3, 4), so m[r, c] = 3 + 2r + 0.5c.
        using var reader = PyTorchCheckpointReader.Open(Fixture("views.pt"));
        reader.TryGetTensor("head", out var head);           // flat[0:4]
        reader.TryGetTensor("middle", out var middle);       // flat[6:12].view(2, 3)
        reader.TryGetTensor("transposed", out var tr);       // m.t(): shape (4, 3), strides (1, 4)
        reader.TryGetTensor("column", out var column);       // m[:, 1]: shape (3,), stride 4, storage offset 13

        Assert.AreEqual(6 * 4, middle.Offset - head.Offset);
        Assert.AreEqual(12 * 4, tr.Offset - head.Offset);
        Assert.AreEqual(13 * 4, column.Offset - head.Offset);
        Assert.IsTrue(reader.IsContiguous(middle));
        Assert.IsFalse(reader.IsContiguous(tr));
        Assert.IsFalse(reader.IsContiguous(column));

        float[] h = new float[4], mid = new float[6], t = new float[12], c = new float[3];
        reader.ReadFloat32(head, h);
        reader.ReadFloat32(middle, mid);
        reader.ReadFloat32(tr, t);
        reader.ReadFloat32(column, c);
        CollectionAssert.AreEqual(new[] { -3f, -2.5f, -2f, -1.5f }, h);
        CollectionAssert.AreEqual(new[] { 0f, 0.5f, 1f, 1.5f, 2f, 2.5f }, mid);
        // t[c, r] = m[r, c] = 3 + 2r + 0.5c, row-major over (c, r)
        CollectionAssert.AreEqual(new[] { 3f, 5f, 7f, 3.5f, 5.5f, 7.5f, 4f, 6f, 8f, 4.5f, 6.5f, 8.5f }, t);
        CollectionAssert.AreEqual(new[] { 3.5f, 5.5f, 7.5f }, c);
    }

    [TestMethod]
    public void PickledModuleYieldsItsStateDictNames()
    {
        // torch.save(nn.Sequential(Linear(4,3), LayerNorm(3), Scale(3), Sequential(ReLU(), Linear(3,2,bias=False))));
        // Scale has parameter gain, buffers running and steps, and the non-persistent buffer scratch (not in state_dict).
        using var reader = PyTorchCheckpointReader.Open(Fixture("module.pt"));
        CollectionAssert.AreEqual(
            new[] { "0.weight", "0.bias", "1.weight", "1.bias", "2.gain", "2.running", "2.steps", "3.1.weight" },
            reader.Tensors.Select(t => t.Name).ToArray());
        Assert.IsFalse(reader.TryGetTensor("2.scratch", out _));
        // LayerNorm starts at weight 1, bias 0; running = arange(3); steps = tensor(5) as an int64 scalar.
        float[] v = new float[3];
        reader.TryGetTensor("1.weight", out var lnWeight);
        reader.ReadFloat32(lnWeight, v);
        CollectionAssert.AreEqual(new[] { 1f, 1f, 1f }, v);
        reader.TryGetTensor("2.running", out var running);
        reader.ReadFloat32(running, v);
        CollectionAssert.AreEqual(new[] { 0f, 1f, 2f }, v);
        reader.TryGetTensor("2.steps", out var steps);
        Assert.AreEqual(DType.I64, steps.DType);
        Assert.AreEqual(0, steps.Shape.Length);
        byte[] raw = new byte[8];
        reader.ReadRaw(steps, raw);
        Assert.AreEqual(5L, BitConverter.ToInt64(raw));
        reader.TryGetTensor("3.1.weight", out var last);
        CollectionAssert.AreEqual(new[] { 2, 3 }, last.Shape);
    }

    [TestMethod]
    [DataRow("malicious_system.pt", "posix.system")]
    [DataRow("malicious_eval.pt", "builtins.eval")]
    public void MaliciousPickleIsRefusedNamingTheGlobalAndNothingRuns(string fixture, string global)
    {
        string path = Fixture(fixture);
        var error = Assert.ThrowsExactly<CheckpointFormatException>(() => PyTorchCheckpointReader.Open(path));
        Assert.AreEqual(path, error.File);
        StringAssert.Contains(error.Message, path);
        StringAssert.Contains(error.Message, $"'{global}'");
        StringAssert.Contains(error.Message, "archive/data.pkl byte ");
        Assert.IsFalse(File.Exists(Marker), "the payload ran in the working directory");
        Assert.IsFalse(File.Exists(Path.Combine(AppContext.BaseDirectory, Marker)), "the payload ran");
    }

    [TestMethod]
    public void UnknownOpcodeIsRefusedWithItsBytePosition()
    {
        // data.pkl = PROTO 2, EMPTY_DICT, BINPUT 0, then 0xff at byte 5.
        string path = Fixture("bad_opcode.pt");
        var error = Assert.ThrowsExactly<CheckpointFormatException>(() => PyTorchCheckpointReader.Open(path));
        StringAssert.Contains(error.Message, path);
        StringAssert.Contains(error.Message, "archive/data.pkl byte 5");
        StringAssert.Contains(error.Message, "0xff");
    }

    [TestMethod]
    public void ViewOutsideItsStorageIsRefused()
    {
        // Storage of 4 floats; the view starts at element 3 with size (2,), so it would need element 4.
        string path = Fixture("bad_storage_offset.pt");
        var error = Assert.ThrowsExactly<CheckpointFormatException>(() => PyTorchCheckpointReader.Open(path));
        Assert.AreEqual(path, error.File);
        Assert.AreEqual("w", error.Tensor);
        StringAssert.Contains(error.Message, "reaches element 5 of storage '0', which holds 4 elements");
    }

    [TestMethod]
    public void BadTensorRebuildIsRefusedNamingTheTensor()
    {
        // archive/data.pkl = {'enc.w': a view of storage '0' with stride -1}: the reader's error names file and tensor.
        string path = Path.Combine(Path.GetTempPath(), $"mlnetmerge-bad-stride-{Guid.NewGuid():N}.pt");
        try
        {
            using (var zip = new System.IO.Compression.ZipArchive(File.Create(path), System.IO.Compression.ZipArchiveMode.Create))
            {
                void Entry(string name, byte[] bytes)
                {
                    using var s = zip.CreateEntry(name, System.IO.Compression.CompressionLevel.NoCompression).Open();
                    s.Write(bytes);
                }
                Entry("archive/data.pkl", RestrictedUnpicklerTests.StateDictWithOneView(-1));
                Entry("archive/data/0", new byte[16]);
                Entry("archive/version", "3\n"u8.ToArray());
            }
            var error = Assert.ThrowsExactly<CheckpointFormatException>(() => PyTorchCheckpointReader.Open(path));
            Assert.AreEqual(path, error.File);
            Assert.AreEqual("enc.w", error.Tensor);
            StringAssert.Contains(error.Message, "negative stride -1");
        }
        finally { File.Delete(path); }
    }

    [TestMethod]
    [DataRow("big_endian.pt", "byteorder is 'big'")]
    [DataRow("deflated.pt", "compression method 8")]
    public void UnsupportedVariantsAreRefusedClearly(string fixture, string expected)
    {
        string path = Fixture(fixture);
        var error = Assert.ThrowsExactly<CheckpointFormatException>(() => PyTorchCheckpointReader.Open(path));
        StringAssert.Contains(error.Message, path);
        StringAssert.Contains(error.Message, expected);
    }

    [TestMethod]
    public void LegacyFormatReadsLikeTheZipFormat()
    {
        // legacy_module.pt and module.pt pickle the same nn.Sequential; the legacy pickle names module classes by
        // ('module', cls, file, source) persistent ids and stores each storage after an int64 element count.
        using var legacy = PyTorchCheckpointReader.Open(Fixture("legacy_module.pt"));
        using var zip = PyTorchCheckpointReader.Open(Fixture("module.pt"));
        CollectionAssert.AreEqual(zip.Tensors.Select(t => t.Name).ToList(), legacy.Tensors.Select(t => t.Name).ToList());
        foreach (var t in legacy.Tensors)
        {
            zip.TryGetTensor(t.Name, out var z);
            Assert.AreEqual(z.DType, t.DType);
            byte[] a = new byte[t.ByteLength], b = new byte[z.ByteLength];
            legacy.ReadRaw(t, a);
            zip.ReadRaw(z, b);
            CollectionAssert.AreEqual(b, a, t.Name);
        }
        // legacy.pt: slice = flat[6:12].view(2, 3) and transposed = flat[12:24].view(3, 4).t() share one storage.
        using var views = PyTorchCheckpointReader.Open(Fixture("legacy.pt"));
        views.TryGetTensor("slice", out var slice);
        views.TryGetTensor("transposed", out var tr);
        Assert.AreEqual(6 * 4, tr.Offset - slice.Offset);
        Assert.IsFalse(views.IsContiguous(tr));
        Assert.AreEqual("3", views.Metadata["epoch"]);
    }

    [TestMethod]
    [DataRow("dtypes.pt")]
    [DataRow("legacy.pt")]
    public void TruncatedFilesAreRefusedNamingTheFile(string fixture)
    {
        byte[] whole = File.ReadAllBytes(Fixture(fixture));
        foreach (int keep in new[] { 0, 3, 10, 20, whole.Length / 2, whole.Length - 23, whole.Length - 1 })
        {
            string path = TempFile(whole.AsSpan(0, keep));
            try
            {
                var error = Assert.ThrowsExactly<CheckpointFormatException>(() => PyTorchCheckpointReader.Open(path));
                StringAssert.Contains(error.Message, path, $"truncated to {keep} bytes");
            }
            finally { File.Delete(path); }
        }
    }

    [TestMethod]
    public void DamagedZipsAreRefusedNamingTheFile()
    {
        byte[] whole = File.ReadAllBytes(Fixture("dtypes.pt"));
        int centralDirectory = IndexOf(whole, [0x50, 0x4b, 0x01, 0x02]);
        int pickleByte = IndexOf(whole, "_rebuild_tensor_v2"u8.ToArray());
        var damaged = new List<(byte[] Bytes, string Expected)>
        {
            (Patched(whole, centralDirectory, 0x00), "bad signature"),          // central directory signature
            (Patched(whole, pickleByte, (byte)'X'), "CRC-32"),                    // data.pkl content
            ("PK\u0003\u0004 this is not really a zip archive at all"u8.ToArray(), "end-of-central-directory"),
            ("{\"not\": \"a checkpoint\"}"u8.ToArray(), "is not a PyTorch checkpoint"),
        };
        foreach (var (bytes, expected) in damaged)
        {
            string path = TempFile(bytes);
            try
            {
                var error = Assert.ThrowsExactly<CheckpointFormatException>(() => PyTorchCheckpointReader.Open(path));
                StringAssert.Contains(error.Message, path);
                StringAssert.Contains(error.Message, expected);
            }
            finally { File.Delete(path); }
        }
    }

    [TestMethod]
    public void ConcurrentReadsAgreeWithTheExpectedValues()
    {
        var (expected, _) = LoadExpected("views.pt");
        using var reader = PyTorchCheckpointReader.Open(Fixture("views.pt"));
        int mismatches = 0;
        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var e = expected[i % expected.Count];
            reader.TryGetTensor(e.Name, out var t);
            float[] f = new float[t.ElementCount];
            reader.ReadFloat32(t, f);
            if (!f.SequenceEqual(e.Values.Select(v => (float)v))) Interlocked.Increment(ref mismatches);
        });
        Assert.AreEqual(0, mismatches);
    }

    [TestMethod]
    public void Zip64ContainerIsAlignedAndReadLikeTheOriginal()
    {
        // zip64.pt re-packs dtypes.pt under "archive/" with ZIP64 sizes, offsets and end records, data aligned to 64 bytes.
        using var zip64 = PyTorchCheckpointReader.Open(Fixture("zip64.pt"));
        using var original = PyTorchCheckpointReader.Open(Fixture("dtypes.pt"));
        foreach (var t in zip64.Tensors)
        {
            Assert.AreEqual(0, t.Offset % 64, t.Name);
            original.TryGetTensor(t.Name, out var o);
            byte[] a = new byte[t.ByteLength], b = new byte[o.ByteLength];
            zip64.ReadRaw(t, a);
            original.ReadRaw(o, b);
            CollectionAssert.AreEqual(b, a, t.Name);
        }
    }

    [TestMethod]
    public void Crc32MatchesTheStandardCheckValue()
    {
        // CRC-32/ISO-HDLC check value of the ASCII digits "123456789".
        Assert.AreEqual(0xCBF43926u, Crc32.Compute("123456789"u8));
    }

    private static string TempFile(ReadOnlySpan<byte> bytes)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlnetmerge-torch-{Guid.NewGuid():N}.pt");
        File.WriteAllBytes(path, bytes.ToArray());
        return path;
    }

    private static byte[] Patched(byte[] source, int at, byte value)
    {
        byte[] copy = (byte[])source.Clone();
        copy[at] = value;
        return copy;
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        int at = haystack.AsSpan().IndexOf(needle);
        Assert.IsTrue(at >= 0);
        return at;
    }
}
