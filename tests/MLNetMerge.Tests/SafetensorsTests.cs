using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Tensors;

namespace MLNetMerge.Tests;

[TestClass]
public sealed class SafetensorsTests
{
    private string _dir = "";

    [TestInitialize]
    public void Init()
    {
        _dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-st-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TestCleanup]
    public void Cleanup()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A safetensors file from a header JSON string and data bytes (no padding).</summary>
    private string RawFile(string name, string json, byte[] data, ulong? declaredLength = null)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static readonly float[] F32Values = [1f, -2.5f, 3.25f, 0f, -0f, 1e-30f];
    private static readonly float[] F16Values = [0.5f, -2f, 65504f, 1f / 1024];     // exact in float16
    private static readonly float[] Bf16Values = [1f, -0.5f, 3.140625f, 256f];       // exact in bfloat16

    private string WriteMixed(string name, IReadOnlyDictionary<string, string>? metadata = null)
    {
        string path = Path.Combine(_dir, name);
        using var w = new SafetensorsWriter(path, [
            new TensorEntry("a.f32", DType.F32, [2, 3]),
            new TensorEntry("b.f16", DType.F16, [4]),
            new TensorEntry("c.bf16", DType.BF16, [2, 2]),
            new TensorEntry("d.i64", DType.I64, [3]),
        ], metadata);
        w.WriteFloat32("a.f32", F32Values);
        w.WriteFloat32("b.f16", F16Values);
        w.WriteFloat32("c.bf16", Bf16Values);
        w.WriteRaw("d.i64", MemoryMarshal.AsBytes<long>([7L, -1L, long.MaxValue]).ToArray());
        w.Complete();
        return path;
    }

    private static float[] ReadAll(ICheckpointReader r, string name)
    {
        Assert.IsTrue(r.TryGetTensor(name, out var info), name);
        var v = new float[info.ElementCount];
        r.ReadFloat32(info, v);
        return v;
    }

    [TestMethod]
    public void RoundTripF32F16Bf16WithMetadata()
    {
        string path = WriteMixed("mixed.safetensors", new Dictionary<string, string> { ["format"] = "pt", ["note"] = "héllo \"quoted\"" });
        using var r = SafetensorsReader.Open(path);
        CollectionAssert.AreEqual(F32Values, ReadAll(r, "a.f32"));
        CollectionAssert.AreEqual(F16Values, ReadAll(r, "b.f16"));
        CollectionAssert.AreEqual(Bf16Values, ReadAll(r, "c.bf16"));
        Assert.IsTrue(r.TryGetTensor("a.f32", out var a));
        CollectionAssert.AreEqual(new[] { 2, 3 }, a.Shape);
        Assert.AreEqual(DType.F32, a.DType);
        Assert.IsTrue(r.TryGetTensor("d.i64", out var d));
        var raw = new byte[24];
        r.ReadRaw(d, raw);
        CollectionAssert.AreEqual(new[] { 7L, -1L, long.MaxValue }, MemoryMarshal.Cast<byte, long>(raw).ToArray());
        Assert.AreEqual("pt", r.Metadata["format"]);
        Assert.AreEqual("héllo \"quoted\"", r.Metadata["note"]);
        // float16 1.0 is 0x3C00; 0.5 is 0x3800 — check the stored bits of b[0].
        Assert.IsTrue(r.TryGetTensor("b.f16", out var b));
        var fb = new byte[8];
        r.ReadRaw(b, fb);
        Assert.AreEqual((ushort)0x3800, BinaryPrimitives.ReadUInt16LittleEndian(fb));
    }

    [TestMethod]
    public void MemoryMappedReadsGiveTheSameValues()
    {
        string path = WriteMixed("mapped.safetensors");
        using var r = SafetensorsReader.Open(path, new SafetensorsReaderOptions { MemoryMap = true });
        CollectionAssert.AreEqual(F32Values, ReadAll(r, "a.f32"));
        CollectionAssert.AreEqual(Bf16Values, ReadAll(r, "c.bf16"));
    }

    [TestMethod]
    public unsafe void F32SlicesAreHandedOutInPlace()
    {
        // TryMapFloat32 points into the file's mapping at element `start` of an F32 tensor; other dtypes are read instead
        // (null); a slice outside the tensor is refused; after disposal no address is handed out.
        string path = WriteMixed("inplace.safetensors");
        var r = SafetensorsReader.Open(path);
        Assert.IsTrue(r.TryGetTensor("a.f32", out var a));
        Assert.IsTrue(r.TryGetTensor("b.f16", out var b));
        Assert.IsTrue(r.TryGetTensor("c.bf16", out var c));
        float* p = r.TryMapFloat32(a, 2, 4);
        Assert.IsTrue(p != null, "F32 in place");
        CollectionAssert.AreEqual(F32Values[2..6], new ReadOnlySpan<float>(p, 4).ToArray());
        Assert.IsTrue(r.TryMapFloat32(b, 0, 4) == null, "F16 is read");
        Assert.IsTrue(r.TryMapFloat32(c, 1, 2) == null, "BF16 is read");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => { _ = (nint)r.TryMapFloat32(a, 3, 4); });
        r.Dispose();
        Assert.ThrowsExactly<ObjectDisposedException>(() => { _ = (nint)r.TryMapFloat32(a, 0, 1); });
    }

    [TestMethod]
    public void Bf16RoundsToNearestEven()
    {
        // float32 bits → expected bfloat16 bits (keep the top 16 bits, round the low 16 to nearest, ties to even):
        (uint In, ushort Out)[] cases =
        [
            (0x3F800000, 0x3F80), // 1.0 exact
            (0x3F808000, 0x3F80), // exactly halfway between 0x3F80 and 0x3F81: ties to the even 0x3F80
            (0x3F818000, 0x3F82), // halfway between 0x3F81 and 0x3F82: ties to the even 0x3F82
            (0x3F808001, 0x3F81), // just above halfway: up
            (0x3F807FFF, 0x3F80), // just below halfway: down
            (0xBF808000, 0xBF80), // negative halfway: ties to even, sign kept
            (0xBF818000, 0xBF82),
            (0x7F7FFFFF, 0x7F80), // largest float rounds up to +infinity
            (0x7F800000, 0x7F80), // +infinity stays
            (0x00000001, 0x0000), // smallest subnormal rounds to +0
            (0x0000FFFF, 0x0001), // subnormal above halfway rounds up
        ];
        var values = cases.Select(c => BitConverter.UInt32BitsToSingle(c.In)).ToArray();
        string path = Path.Combine(_dir, "bf16.safetensors");
        using (var w = new SafetensorsWriter(path, [new TensorEntry("x", DType.BF16, [values.Length])]))
        {
            w.WriteFloat32("x", values);
            w.Complete();
        }
        using var r = SafetensorsReader.Open(path);
        Assert.IsTrue(r.TryGetTensor("x", out var info));
        var raw = new byte[info.ByteLength];
        r.ReadRaw(info, raw);
        var got = MemoryMarshal.Cast<byte, ushort>(raw).ToArray();
        for (int i = 0; i < cases.Length; i++)
            Assert.AreEqual(cases[i].Out, got[i], $"0x{cases[i].In:X8} → 0x{got[i]:X4}, expected 0x{cases[i].Out:X4}");
        // Widening is exact: bits << 16.
        var back = ReadAll(r, "x");
        for (int i = 0; i < cases.Length; i++)
            Assert.AreEqual((uint)cases[i].Out << 16, BitConverter.SingleToUInt32Bits(back[i]), $"widen {i}");
    }

    [TestMethod]
    public void Bf16KeepsNaNQuiet()
    {
        // Signalling NaN 0x7F800001 would truncate to infinity; it must stay NaN (quiet bit 0x0040 set), sign kept.
        Assert.AreEqual((ushort)0x7FC0, DTypeConversion.Float32ToBf16(0x7F800001u));
        Assert.AreEqual((ushort)0xFFC0, DTypeConversion.Float32ToBf16(0xFF800001u));
        Assert.AreEqual((ushort)0x7FC0, DTypeConversion.Float32ToBf16(0x7FC00000u));
    }

    [TestMethod]
    [DataRow("x")]
    [DataRow("xy")]
    [DataRow("xyz")]
    [DataRow("wxyz1")]
    [DataRow("a_longer_name_7")]
    public void HeaderIsPaddedToEightBytes(string name)
    {
        string path = Path.Combine(_dir, "pad.safetensors");
        using (var w = new SafetensorsWriter(path, [new TensorEntry(name, DType.F32, [3])], new Dictionary<string, string> { ["k"] = "v" }))
        {
            w.WriteFloat32(name, [1f, 2f, 3f]);
            w.Complete();
        }
        var bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.AreEqual(0UL, n % 8, $"header length {n}");
        Assert.AreEqual(8 + (long)n + 12, bytes.Length);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        string json = header.TrimEnd(' ');
        Assert.IsTrue(json.EndsWith('}'), "padding is spaces after the JSON object");
        Assert.IsTrue(n - (ulong)Encoding.UTF8.GetByteCount(json) < 8, "at most 7 padding bytes");
        using var doc = JsonDocument.Parse(json);
        Assert.AreEqual("v", doc.RootElement.GetProperty("__metadata__").GetProperty("k").GetString());
        Assert.AreEqual(2f, BitConverter.ToSingle(bytes, 8 + (int)n + 4));
    }

    [TestMethod]
    public void ScalarAndEmptyTensors()
    {
        // Shape [] holds one element; shape [0, 3] holds none and takes no bytes between its neighbours.
        string path = Path.Combine(_dir, "odd.safetensors");
        using (var w = new SafetensorsWriter(path, [
            new TensorEntry("scalar", DType.F32, []),
            new TensorEntry("empty", DType.F16, [0, 3]),
            new TensorEntry("after", DType.BF16, [2]),
        ]))
        {
            w.WriteFloat32("scalar", [42.5f]);
            w.WriteFloat32("empty", []);
            w.WriteFloat32("after", [1f, -1f]);
            w.Complete();
        }
        using var r = SafetensorsReader.Open(path);
        CollectionAssert.AreEqual(new[] { 42.5f }, ReadAll(r, "scalar"));
        Assert.AreEqual(0, ReadAll(r, "empty").Length);
        CollectionAssert.AreEqual(new[] { 1f, -1f }, ReadAll(r, "after"));
        Assert.IsTrue(r.TryGetTensor("scalar", out var sc));
        Assert.AreEqual(0, sc.Shape.Length);
    }

    [TestMethod]
    public void DuplicateTensorNameIsRejected()
    {
        string path = RawFile("dup.safetensors",
            """{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", new byte[8]);
        AssertNames(Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsReader.Open(path)), path, "w");
    }

    [TestMethod]
    public void ShardedWriteAndReadThroughTheIndex()
    {
        // Five F32 tensors of 10 values (40 bytes) with a 100-byte limit: [t0, t1] (80; t2 would make 120), [t2, t3], [t4].
        var entries = Enumerable.Range(0, 5).Select(i => new TensorEntry($"t{i}", DType.F32, [2, 5])).ToList();
        using (var w = new ShardedSafetensorsWriter(_dir, "model", entries, new Dictionary<string, string> { ["format"] = "pt" }, maxShardBytes: 100))
        {
            CollectionAssert.AreEqual(new[]
            {
                "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors",
                "model.safetensors.index.json",
            }, w.Files.ToArray());
            for (int i = 4; i >= 0; i--) w.WriteFloat32($"t{i}", Merges.Random(10, (ulong)i));
            w.Complete();
        }
        using (var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_dir, "model.safetensors.index.json"))))
        {
            Assert.AreEqual(200, doc.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
            var map = doc.RootElement.GetProperty("weight_map");
            Assert.AreEqual("model-00001-of-00003.safetensors", map.GetProperty("t1").GetString());
            Assert.AreEqual("model-00002-of-00003.safetensors", map.GetProperty("t2").GetString());
            Assert.AreEqual("model-00003-of-00003.safetensors", map.GetProperty("t4").GetString());
        }
        using var r = CheckpointReader.Open(_dir);
        Assert.IsInstanceOfType<ShardedCheckpointReader>(r);
        Assert.AreEqual(5, r.Tensors.Count);
        for (int i = 0; i < 5; i++) CollectionAssert.AreEqual(Merges.Random(10, (ulong)i), ReadAll(r, $"t{i}"), $"t{i}");
        using var shard = SafetensorsReader.Open(Path.Combine(_dir, "model-00002-of-00003.safetensors"));
        CollectionAssert.AreEquivalent(new[] { "t2", "t3" }, shard.Tensors.Select(t => t.Name).ToArray());
    }

    [TestMethod]
    public void ShardIndexNamingAMissingTensorIsRejected()
    {
        var entries = Enumerable.Range(0, 3).Select(i => new TensorEntry($"t{i}", DType.F32, [4])).ToList();
        using (var w = new ShardedSafetensorsWriter(_dir, "model", entries, null, maxShardBytes: 16))
        {
            for (int i = 0; i < 3; i++) w.WriteFloat32($"t{i}", [1f, 2f, 3f, 4f]);
            w.Complete();
        }
        string index = Path.Combine(_dir, "model.safetensors.index.json");
        File.WriteAllText(index, File.ReadAllText(index).Replace("\"t2\": \"model-00003-of-00003.safetensors\"", "\"t2\": \"model-00001-of-00003.safetensors\""));
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => ShardedCheckpointReader.Open(index));
        StringAssert.Contains(e.Message, "t2");
        StringAssert.Contains(e.Message, "model-0000");

        // A name mapped twice, to two shards: the index is at fault, and the message says so (not "not in the shard").
        File.WriteAllText(index, File.ReadAllText(index).Replace("\"t2\": \"model-00001-of-00003.safetensors\"",
            "\"t2\": \"model-00003-of-00003.safetensors\", \"t2\": \"model-00001-of-00003.safetensors\""));
        e = Assert.ThrowsExactly<CheckpointFormatException>(() => ShardedCheckpointReader.Open(index));
        StringAssert.Contains(e.Message, "'t2': is mapped twice in the weight_map (the second time to 'model-00001-of-00003.safetensors')");
    }

    private static void AssertNames(CheckpointFormatException e, string path, string? tensor)
    {
        StringAssert.Contains(e.Message, path);
        Assert.AreEqual(path, e.File);
        if (tensor is not null)
        {
            StringAssert.Contains(e.Message, $"'{tensor}'");
            Assert.AreEqual(tensor, e.Tensor);
        }
    }

    [TestMethod]
    public void TruncatedDataNamesTheTensor()
    {
        string path = WriteMixed("trunc.safetensors");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^5]); // the last tensor (d.i64) loses its tail
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsReader.Open(path));
        AssertNames(e, path, "d.i64");
    }

    [TestMethod]
    public void TruncatedInsideTheHeader()
    {
        string path = WriteMixed("trunc-header.safetensors");
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..40]);
        AssertNames(Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsReader.Open(path)), path, null);
        File.WriteAllBytes(path, [1, 0, 0]);
        AssertNames(Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsReader.Open(path)), path, null);
    }

    [TestMethod]
    public void HeaderLengthBeyondTheFile()
    {
        string path = RawFile("long.safetensors", "{}", new byte[16], declaredLength: 1_000_000);
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsReader.Open(path));
        AssertNames(e, path, null);
        StringAssert.Contains(e.Message, "1000000");
    }

    [TestMethod]
    public void OverlappingOffsets()
    {
        string path = RawFile("overlap.safetensors",
            """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}""", new byte[24]);
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsReader.Open(path));
        AssertNames(e, path, "b");
        StringAssert.Contains(e.Message, "'a'");
    }

    [TestMethod]
    public void OutOfRangeOffsets()
    {
        string path = RawFile("range.safetensors", """{"a":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}""", new byte[16]);
        AssertNames(Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsReader.Open(path)), path, "a");
        path = RawFile("reversed.safetensors", """{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}""", new byte[16]);
        AssertNames(Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsReader.Open(path)), path, "a");
        path = RawFile("negative.safetensors", """{"a":{"dtype":"F32","shape":[4],"data_offsets":[-16,0]}}""", new byte[16]);
        AssertNames(Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsReader.Open(path)), path, "a");
    }

    [TestMethod]
    public void UnknownDType()
    {
        string path = RawFile("dtype.safetensors", """{"w":{"dtype":"F8_E9M9","shape":[4],"data_offsets":[0,4]}}""", new byte[4]);
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsReader.Open(path));
        AssertNames(e, path, "w");
        StringAssert.Contains(e.Message, "F8_E9M9");
    }

    [TestMethod]
    public void SizeNotMatchingShape()
    {
        string path = RawFile("size.safetensors", """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}""", new byte[12]);
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsReader.Open(path));
        AssertNames(e, path, "w");
        StringAssert.Contains(e.Message, "16");
    }

    [TestMethod]
    public void AShapeWhoseByteCountOverflows_IsRefused_NotTakenForZeroBytes()
    {
        // 2^62 F32 elements need 2^64 bytes, which wraps to 0 in 64-bit arithmetic: offsets [0, 0] must not pass.
        string path = RawFile("wrap.safetensors", """{"w":{"dtype":"F32","shape":[1073741824,1073741824,4],"data_offsets":[0,0]}}""", new byte[0]);
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsReader.Open(path));
        AssertNames(e, path, "w");
        StringAssert.Contains(e.Message, "needs more than 2^63 bytes");
    }

    [TestMethod]
    public void ATensorBeyondOneArray_IsRefusedByTheFamily_BeforeAnythingIsRead()
    {
        // 2^31 F32 elements (8 GiB, a sparse file): a valid checkpoint, but no merge can hold the tensor in one array.
        string Sparse(string name)
        {
            var header = Encoding.UTF8.GetBytes("""{"big.weight":{"dtype":"F32","shape":[2,1073741824],"data_offsets":[0,8589934592]}}""");
            string path = Path.Combine(_dir, name);
            using var f = File.Create(path);
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            f.Write(length);
            f.Write(header);
            f.SetLength(8 + header.Length + 8589934592L);
            return path;
        }
        using var reader = SafetensorsReader.Open(Sparse("base.safetensors"));
        Assert.AreEqual(1L << 31, reader.Tensors[0].ElementCount);
        using var task = SafetensorsReader.Open(Sparse("a.safetensors"));
        var e = Assert.ThrowsExactly<IncompatibleModelsException>(() => MLNetMerge.Encoders.ModelFamily.Create(reader, [new MLNetMerge.Encoders.TaskModel("a", task)], new HeadFilter("classifier.*")));
        StringAssert.Contains(e.Message, "big.weight");
        StringAssert.Contains(e.Message, "a tensor must fit in one .NET array");
    }

    [TestMethod]
    public void NotJson()
    {
        string path = RawFile("json.safetensors", "{\"w\": [1, 2,", new byte[0]);
        AssertNames(Assert.ThrowsExactly<CheckpointFormatException>(() => SafetensorsReader.Open(path)), path, null);
    }

    [TestMethod]
    public void RandomHeaderMutationsRaiseOnlyTheTypedError()
    {
        // 3000 seeded mutations of a valid file's header (byte flips, JSON-ish characters, digit runs, a changed length
        // prefix, truncation); opening and reading every tensor may succeed or throw CheckpointFormatException, nothing else.
        string valid = WriteMixed("valid.safetensors", new Dictionary<string, string> { ["format"] = "pt" });
        byte[] original = File.ReadAllBytes(valid);
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(original);
        byte[] alphabet = Encoding.ASCII.GetBytes("{}[]\",:0123456789-+eE. FIUB_x\\");
        var rng = new Random(20260522);
        string path = Path.Combine(_dir, "mutant.safetensors");
        int opened = 0, rejected = 0;
        var failures = new List<string>();
        for (int iter = 0; iter < 3000; iter++)
        {
            byte[] bytes = (byte[])original.Clone();
            int edits = 1 + rng.Next(4);
            var what = new StringBuilder();
            for (int k = 0; k < edits; k++)
            {
                int kind = rng.Next(10);
                int at = 8 + rng.Next(headerEnd - 8);
                if (kind < 4) { bytes[at] = alphabet[rng.Next(alphabet.Length)]; what.Append($"set[{at}]={(char)bytes[at]} "); }
                else if (kind < 6) { bytes[at] ^= (byte)(1 << rng.Next(8)); what.Append($"flip[{at}] "); }
                else if (kind < 8)
                {
                    // overwrite a run with digits (big offsets and shapes)
                    int len = 1 + rng.Next(12);
                    for (int j = 0; j < len && at + j < headerEnd; j++) bytes[at + j] = (byte)('0' + rng.Next(10));
                    what.Append($"digits[{at}..+{len}] ");
                }
                else if (kind < 9) { bytes[rng.Next(8)] = (byte)rng.Next(256); what.Append("length "); }
                else { int cut = rng.Next(bytes.Length); bytes = bytes[..cut]; what.Append($"cut {cut} "); break; }
            }
            File.WriteAllBytes(path, bytes);
            try
            {
                using var r = SafetensorsReader.Open(path);
                foreach (var t in r.Tensors)
                {
                    var raw = new byte[t.ByteLength];
                    r.ReadRaw(t, raw);
                    if (t.DType.IsFloatingPoint())
                    {
                        var v = new float[t.ElementCount];
                        r.ReadFloat32(t, v);
                    }
                }
                opened++;
            }
            catch (CheckpointFormatException e)
            {
                rejected++;
                if (!e.Message.Contains(path)) failures.Add($"iteration {iter} ({what}): message lacks the file: {e.Message}");
            }
            catch (Exception e)
            {
                failures.Add($"iteration {iter} ({what}): {e.GetType().Name}: {e.Message}");
            }
        }
        Assert.AreEqual(0, failures.Count, string.Join("\n", failures.Take(10)));
        Assert.IsTrue(opened > 0 && rejected > 1000, $"opened {opened}, rejected {rejected}");
    }
}
