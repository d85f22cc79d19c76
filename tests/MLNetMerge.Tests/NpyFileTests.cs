using System.Text;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using MLNetMerge.Data;
using MLNetMerge.Tensors;

namespace MLNetMerge.Tests;

/// <summary>
/// NpyFile against fixtures written by NumPy 1.24 (tools/make_npy_fixtures.py; expected values in expected.json) and
/// against hand-made malformed files.
/// </summary>
[TestClass]
internal sealed class NpyFileTests
{
    private static readonly string FixtureDir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "npy");
    private static string _tempDir = "";

    [ClassInitialize]
    public static void Init(TestContext _)
    {
        _tempDir = Path.Combine(Path.GetTempPath(), "mlnetmerge-npy-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_tempDir);
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        if (Directory.Exists(_tempDir)) Directory.Delete(_tempDir, recursive: true);
    }

    private static string Fixture(string name) => Path.Combine(FixtureDir, name + ".npy");

    private static string Temp(string name) => Path.Combine(_tempDir, name);

    private static JsonElement Expected(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureDir, "expected.json")));
        return doc.RootElement.GetProperty(name).Clone();
    }

    private static int[] ExpectedShape(JsonElement e) => [.. e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32())];

    [TestMethod]
    [DataRow("f4_2d", DType.F32)]
    [DataRow("f4_scalar", DType.F32)]
    [DataRow("f8_1d", DType.F64)]
    [DataRow("f2_1d", DType.F16)]
    [DataRow("f4_v2", DType.F32)]
    [DataRow("f4_empty", DType.F32)]
    public void ReadFloat32_MatchesNumPyValues(string name, DType storedType)
    {
        var expected = Expected(name);
        var (data, shape) = NpyFile.ReadFloat32(Fixture(name));
        CollectionAssert.AreEqual(ExpectedShape(expected), shape);
        var values = expected.GetProperty("values").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
        // Every stored value is exactly representable in float32 after rounding, so equality is exact:
        // e.g. f8 0.1 -> (float)0.1 = 0.100000001490116; f2 65504 -> 65504; f4 -2/3 -> -0.6666667.
        CollectionAssert.AreEqual(values, data);
        Assert.AreEqual(storedType, NpyFile.Read(Fixture(name)).DType);
    }

    [TestMethod]
    public void Scalar_HasEmptyShapeAndOneElement()
    {
        var (data, shape) = NpyFile.ReadFloat32(Fixture("f4_scalar"));
        Assert.IsEmpty(shape);
        CollectionAssert.AreEqual(new[] { 3.25f }, data);
    }

    [TestMethod]
    [DataRow("i8_2d", DType.I64)]
    [DataRow("i4_1d", DType.I32)]
    [DataRow("u1_1d", DType.U8)]
    [DataRow("i8_v3", DType.I64)]
    public void ReadInt64_MatchesNumPyValues(string name, DType storedType)
    {
        var expected = Expected(name);
        var (data, shape) = NpyFile.ReadInt64(Fixture(name));
        CollectionAssert.AreEqual(ExpectedShape(expected), shape);
        var values = expected.GetProperty("values").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        CollectionAssert.AreEqual(values, data);
        Assert.AreEqual(storedType, NpyFile.Read(Fixture(name)).DType);
    }

    [TestMethod]
    public void Int64BeyondThirtyTwoBits_IsExact()
    {
        // i8_2d = [[1, -2, 3], [2**40, -(2**62), 0]]
        var (data, _) = NpyFile.ReadInt64(Fixture("i8_2d"));
        Assert.AreEqual(1099511627776L, data[3]);
        Assert.AreEqual(-4611686018427387904L, data[4]);
    }

    [TestMethod]
    public void Bool_ReadsAsZeroOneInBothForms()
    {
        // b1_1d = [True, False, True, True], descr '|b1'
        Assert.AreEqual(DType.Bool, NpyFile.Read(Fixture("b1_1d")).DType);
        CollectionAssert.AreEqual(new long[] { 1, 0, 1, 1 }, NpyFile.ReadInt64(Fixture("b1_1d")).Data);
        CollectionAssert.AreEqual(new float[] { 1, 0, 1, 1 }, NpyFile.ReadFloat32(Fixture("b1_1d")).Data);
    }

    [TestMethod]
    public void VersionTwoAndThreeHeaders_AreRead()
    {
        var v2 = NpyFile.Read(Fixture("f4_v2"));
        CollectionAssert.AreEqual(new[] { 2, 2 }, v2.Shape);
        CollectionAssert.AreEqual(new[] { 1f, 2f, 3f, 4.5f }, v2.ToFloat32());
        CollectionAssert.AreEqual(new long[] { 5, 6, 7 }, NpyFile.Read(Fixture("i8_v3")).ToInt64());
    }

    [TestMethod]
    [DataRow("f4_2d")]
    [DataRow("f4_scalar")]
    [DataRow("f4_empty")]
    public void WriteFloat32_IsByteIdenticalToNumPy(string name)
    {
        var (data, shape) = NpyFile.ReadFloat32(Fixture(name));
        string path = Temp(name + ".npy");
        NpyFile.Write(path, data, shape);
        CollectionAssert.AreEqual(File.ReadAllBytes(Fixture(name)), File.ReadAllBytes(path));
    }

    [TestMethod]
    public void WriteInt64_IsByteIdenticalToNumPy()
    {
        var (data, shape) = NpyFile.ReadInt64(Fixture("i8_2d"));
        string path = Temp("i8_2d.npy");
        NpyFile.Write(path, data, shape);
        CollectionAssert.AreEqual(File.ReadAllBytes(Fixture("i8_2d")), File.ReadAllBytes(path));
    }

    [TestMethod]
    public void WriteArray_KeepsItsTypeAndMatchesNumPy()
    {
        foreach (string name in new[] { "u1_1d", "b1_1d", "f2_1d", "f8_1d", "i4_1d" })
        {
            var array = NpyFile.Read(Fixture(name));
            string path = Temp(name + ".npy");
            NpyFile.Write(path, array);
            CollectionAssert.AreEqual(File.ReadAllBytes(Fixture(name)), File.ReadAllBytes(path), name);
        }
    }

    [TestMethod]
    public void RoundTrip_Float32AndInt64_ManyShapes()
    {
        int[][] shapes = [[], [1], [7], [3, 5], [2, 3, 4], [2, 1, 1, 3], [0], [4, 0, 2]];
        foreach (var shape in shapes)
        {
            int count = shape.Aggregate(1, (a, b) => a * b);
            var floats = Enumerable.Range(0, count).Select(i => (float)(i * 0.37 - 1.5)).ToArray();
            var longs = Enumerable.Range(0, count).Select(i => (long)i * 1_000_000_007L - 5).ToArray();
            string fp = Temp("rt_f.npy"), lp = Temp("rt_l.npy");
            NpyFile.Write(fp, floats, shape);
            NpyFile.Write(lp, longs, shape);
            var (f, fs) = NpyFile.ReadFloat32(fp);
            var (l, ls) = NpyFile.ReadInt64(lp);
            CollectionAssert.AreEqual(shape, fs);
            CollectionAssert.AreEqual(shape, ls);
            CollectionAssert.AreEqual(floats, f);
            CollectionAssert.AreEqual(longs, l);
            Assert.AreEqual(0L, (new FileInfo(fp).Length - (long)count * 4) % 64, "data starts at a multiple of 64");
        }
    }

    [TestMethod]
    public void ConvertedReads_CrossChunkBoundaries()
    {
        // conversion runs in chunks of 2^20 elements; 2^20 + 3 (f8) and 3 * 349526 = 2^20 + 2 (i4) elements span two chunks
        int n = (1 << 20) + 3;
        var doubles = new byte[n * 8];
        var ints = new byte[n * 4];
        for (int i = 0; i < n; i++)
        {
            BitConverter.TryWriteBytes(doubles.AsSpan(8 * i), i * 0.5 - 7.25);
            BitConverter.TryWriteBytes(ints.AsSpan(4 * i), i - 5);
        }
        NpyFile.Write(Temp("big_f8.npy"), new NpyArray(DType.F64, [n], doubles));
        NpyFile.Write(Temp("big_i4.npy"), new NpyArray(DType.I32, [n / 3, 3], ints[..((n / 3) * 3 * 4)]));
        var (f, shape) = NpyFile.ReadFloat32(Temp("big_f8.npy"));
        CollectionAssert.AreEqual(new[] { n }, shape);
        for (int i = 0; i < n; i++)
            if (f[i] != (float)(i * 0.5 - 7.25)) Assert.Fail($"element {i}: {f[i]}");
        var (l, lshape) = NpyFile.ReadInt64(Temp("big_i4.npy"));
        CollectionAssert.AreEqual(new[] { n / 3, 3 }, lshape);
        for (int i = 0; i < l.Length; i++)
            if (l[i] != i - 5) Assert.Fail($"element {i}: {l[i]}");
    }

    [TestMethod]
    public void Write_ReplacesExistingFileAndLeavesNoTemporaries()
    {
        string dir = Path.Combine(_tempDir, "atomic");
        string path = Path.Combine(dir, "x.npy");
        NpyFile.Write(path, new float[] { 1, 2, 3 }, [3]);
        NpyFile.Write(path, new float[] { 4, 5 }, [2]);
        CollectionAssert.AreEqual(new[] { 4f, 5f }, NpyFile.ReadFloat32(path).Data);
        CollectionAssert.AreEqual(new[] { "x.npy" }, Directory.GetFiles(dir).Select(Path.GetFileName).ToArray());
    }

    [TestMethod]
    public void Write_ShapeNotMatchingData_Throws()
    {
        Assert.ThrowsExactly<ArgumentException>(() => NpyFile.Write(Temp("bad.npy"), new float[] { 1, 2, 3 }, [2, 2]));
        Assert.ThrowsExactly<ArgumentException>(() => NpyFile.Write(Temp("bad.npy"), new long[] { 1 }, [-1]));
        Assert.IsFalse(File.Exists(Temp("bad.npy")));
    }

    [TestMethod]
    public void FortranOrder_IsRefusedNamingTheFile()
    {
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => NpyFile.ReadFloat32(Fixture("fortran")));
        StringAssert.Contains(e.Message, "fortran.npy");
        StringAssert.Contains(e.Message, "Fortran order");
    }

    [TestMethod]
    public void BigEndian_IsRefused()
    {
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => NpyFile.ReadFloat32(Fixture("big_endian")));
        StringAssert.Contains(e.Message, "big-endian");
        StringAssert.Contains(e.Message, "big_endian.npy");
    }

    [TestMethod]
    public void TruncatedData_IsRefused()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("f4_2d"));
        string path = Temp("truncated.npy");
        File.WriteAllBytes(path, bytes[..^4]); // 6 floats need 24 bytes; 20 remain
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => NpyFile.ReadFloat32(path));
        StringAssert.Contains(e.Message, "truncated.npy");
        StringAssert.Contains(e.Message, "needs 24 bytes, 20 present");
    }

    [TestMethod]
    public void TrailingBytes_AreRefused()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("f4_2d"));
        string path = Temp("trailing.npy");
        File.WriteAllBytes(path, [.. bytes, 0, 0, 0, 0]);
        Assert.ThrowsExactly<CheckpointFormatException>(() => NpyFile.ReadFloat32(path));
    }

    [TestMethod]
    public void ShapeProductNotMatchingBytes_IsRefused()
    {
        // (2, 3) -> (2, 4): the header now asks for 32 bytes while 24 follow.
        string path = Temp("shape.npy");
        File.WriteAllBytes(path, Patch(File.ReadAllBytes(Fixture("f4_2d")), "(2, 3)", "(2, 4)"));
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => NpyFile.ReadFloat32(path));
        StringAssert.Contains(e.Message, "needs 32 bytes, 24 present");
    }

    [TestMethod]
    [DataRow("False", "Fals3")]        // not a Python literal
    [DataRow("'shape'", "'shapz'")]    // wrong keys
    [DataRow("(2, 3)", "[2, 3]")]      // shape is a list, not a tuple
    [DataRow("'<f4'", "'<c8'")]        // unsupported dtype
    [DataRow("(2, 3)", "(2,-3)")]      // negative dimension
    [DataRow("(2, 3)", "(2.,3)")]      // not integers
    public void BadHeaderLiteral_IsRefused(string find, string replace)
    {
        string path = Temp("header.npy");
        File.WriteAllBytes(path, Patch(File.ReadAllBytes(Fixture("f4_2d")), find, replace));
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => NpyFile.Read(path));
        StringAssert.Contains(e.Message, "header.npy");
    }

    [TestMethod]
    public void BadMagicAndVersion_AreRefused()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("f4_2d"));
        string path = Temp("magic.npy");
        var noMagic = (byte[])bytes.Clone();
        noMagic[1] = (byte)'X';
        File.WriteAllBytes(path, noMagic);
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointFormatException>(() => NpyFile.Read(path)).Message, "magic");
        var badVersion = (byte[])bytes.Clone();
        badVersion[6] = 4;
        File.WriteAllBytes(path, badVersion);
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointFormatException>(() => NpyFile.Read(path)).Message, "version 4.0");
        File.WriteAllBytes(path, bytes[..40]); // header cut short
        Assert.ThrowsExactly<CheckpointFormatException>(() => NpyFile.Read(path));
    }

    [TestMethod]
    public void ReadInt64_OfFloatFile_IsRefused()
    {
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => NpyFile.ReadInt64(Fixture("f4_2d")));
        StringAssert.Contains(e.Message, "'<f4'");
    }

    /// <summary>Replaces <paramref name="find"/> by a string of the same length inside the header.</summary>
    private static byte[] Patch(byte[] bytes, string find, string replace)
    {
        Assert.AreEqual(find.Length, replace.Length);
        string latin = Encoding.Latin1.GetString(bytes);
        int at = latin.IndexOf(find, StringComparison.Ordinal);
        Assert.IsGreaterThanOrEqualTo(0, at);
        var patched = (byte[])bytes.Clone();
        Encoding.Latin1.GetBytes(replace, patched.AsSpan(at));
        return patched;
    }
}
