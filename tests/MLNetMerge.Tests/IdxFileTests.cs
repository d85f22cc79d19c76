using System.IO.Compression;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using MLNetMerge.Data;

namespace MLNetMerge.Tests;

/// <summary>IdxFile on hand-made tiny files: plain and gzipped, labels and images, and malformed headers.</summary>
[TestClass]
public sealed class IdxFileTests
{
    private static string _dir = "";

    [ClassInitialize]
    public static void Init(TestContext _)
    {
        _dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-idx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    // Labels [2, 0, 1]: magic 00 00 08 01, count 3 (big-endian), then the bytes.
    private static readonly byte[] Labels = [0, 0, 8, 1, 0, 0, 0, 3, 2, 0, 1];

    // Two 2×3 images: magic 00 00 08 03, dims 2, 2, 3, then 12 pixels 0, 10, …, 110 (255 for the last to test the unsigned range).
    private static byte[] Images()
    {
        var b = new List<byte> { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3 };
        for (int i = 0; i < 11; i++) b.Add((byte)(10 * i));
        b.Add(255);
        return b.ToArray();
    }

    private static string Write(string name, byte[] bytes, bool gzip = false)
    {
        string path = Path.Combine(_dir, name);
        if (!gzip) { File.WriteAllBytes(path, bytes); return path; }
        using var fs = File.Create(path);
        using var gz = new GZipStream(fs, CompressionLevel.Optimal);
        gz.Write(bytes);
        return path;
    }

    [TestMethod]
    public void ReadsLabelVector()
    {
        var a = IdxFile.Read(Write("labels.idx", Labels));
        CollectionAssert.AreEqual(new[] { 3 }, a.Shape);
        CollectionAssert.AreEqual(new byte[] { 2, 0, 1 }, a.Data);
        Assert.AreEqual(3, a.Count);
        Assert.AreEqual(1, a.ItemLength);
    }

    [TestMethod]
    public void ReadsGzippedImages()
    {
        var a = IdxFile.Read(Write("images.idx.gz", Images(), gzip: true));
        CollectionAssert.AreEqual(new[] { 2, 2, 3 }, a.Shape);
        Assert.AreEqual(2, a.Count);
        Assert.AreEqual(6, a.ItemLength);
        Assert.AreEqual((byte)60, a.Data[6]);   // first pixel of the second image
        Assert.AreEqual((byte)255, a.Data[11]);  // unsigned: 255, not −1
    }

    [TestMethod]
    public void PlainAndGzippedAgree()
    {
        var plain = IdxFile.Read(Write("p.idx", Images()));
        var gz = IdxFile.Read(Write("g.idx.gz", Images(), gzip: true));
        CollectionAssert.AreEqual(plain.Data, gz.Data);
    }

    [TestMethod]
    public void RejectsWrongMagic()
    {
        var bad = (byte[])Labels.Clone();
        bad[2] = 0x0D; // float type
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => IdxFile.Read(Write("magic.idx", bad)));
        StringAssert.Contains(e.Message, "0x00000d01");
        StringAssert.Contains(e.Message, "magic.idx");
    }

    [TestMethod]
    public void RejectsTruncatedAndTrailingData()
    {
        Assert.ThrowsExactly<CheckpointFormatException>(() => IdxFile.Read(Write("short.idx", Labels[..10])));
        Assert.ThrowsExactly<CheckpointFormatException>(() => IdxFile.Read(Write("long.idx", [.. Labels, 7])));
        Assert.ThrowsExactly<CheckpointFormatException>(() => IdxFile.Read(Write("header.idx", Images()[..10])));
        Assert.ThrowsExactly<CheckpointFormatException>(() => IdxFile.Read(Write("tiny.idx", [0, 0])));
    }

    [TestMethod]
    public void RejectsZeroDimensionAndBrokenGzip()
    {
        Assert.ThrowsExactly<CheckpointFormatException>(() => IdxFile.Read(Write("zero.idx", [0, 0, 8, 1, 0, 0, 0, 0])));
        Assert.ThrowsExactly<CheckpointFormatException>(() => IdxFile.Read(Write("broken.gz", [0x1f, 0x8b, 1, 2, 3, 4, 5])));
    }
}
