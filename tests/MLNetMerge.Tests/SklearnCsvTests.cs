using System.IO.Compression;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using MLNetMerge.Data;

namespace MLNetMerge.Tests;

/// <summary>SklearnCsv on hand-made files in both of scikit-learn's layouts (header with class names; digits without).</summary>
[TestClass]
public sealed class SklearnCsvTests
{
    private static string _dir = "";

    [ClassInitialize]
    public static void Init(TestContext _)
    {
        _dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-csv-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [ClassCleanup]
    public static void Cleanup()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        if (name.EndsWith(".gz", StringComparison.Ordinal))
        {
            using var fs = File.Create(path);
            using var gz = new GZipStream(fs, CompressionLevel.Optimal);
            using var w = new StreamWriter(gz);
            w.Write(text);
        }
        else File.WriteAllText(path, text);
        return path;
    }

    [TestMethod]
    public void ReadsIrisStyleHeader()
    {
        var d = SklearnCsv.Read(Write("iris.csv", "3,2,setosa,versicolor,virginica\n5.1,3.5,0\n4.9,3.0,2\n6.2,2.9,1\n"));
        Assert.AreEqual("iris", d.Name);
        Assert.AreEqual(3, d.Count);
        CollectionAssert.AreEqual(new[] { 2 }, d.FeatureShape);
        CollectionAssert.AreEqual(new[] { 0, 2, 1 }, d.Labels);
        CollectionAssert.AreEqual(new[] { "setosa", "versicolor", "virginica" }, d.ClassNames.ToArray());
        Assert.AreEqual(2.9f, d.Features[5]);
    }

    [TestMethod]
    public void ReadsGzippedDigitsWithoutHeader()
    {
        var d = SklearnCsv.Read(Write("digits.csv.gz", "0,16,3\n1,2,0\n"));
        Assert.AreEqual(2, d.Count);
        CollectionAssert.AreEqual(new[] { 3, 0 }, d.Labels);
        Assert.AreEqual(4, d.ClassCount); // labels 0..3 → names "0".."3"
        Assert.AreEqual("3", d.ClassNames[3]);
        CollectionAssert.AreEqual(new[] { 0f, 16f, 1f, 2f }, d.Features);
    }

    [TestMethod]
    public void RejectsBadRows()
    {
        Assert.ThrowsExactly<CheckpointFormatException>(() => SklearnCsv.Read(Write("ragged.csv", "1,2,0\n1,2,3,0\n1,2,0\n")));
        Assert.ThrowsExactly<CheckpointFormatException>(() => SklearnCsv.Read(Write("nan.csv", "1,x,0\n1,2,0\n")));
        Assert.ThrowsExactly<CheckpointFormatException>(() => SklearnCsv.Read(Write("label.csv", "1,2,0.5\n1,2,0\n")));
        Assert.ThrowsExactly<CheckpointFormatException>(() => SklearnCsv.Read(Write("count.csv", "5,2,a,b\n1,2,0\n1,2,1\n")));
        Assert.ThrowsExactly<CheckpointFormatException>(() => SklearnCsv.Read(Write("empty.csv", "\n")));
    }
}
