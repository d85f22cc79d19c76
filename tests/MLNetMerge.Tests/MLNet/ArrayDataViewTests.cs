using Microsoft.Data.Analysis;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetMerge.MLNet;

namespace MLNetMerge.Tests.MLNet;

/// <summary>
/// <see cref="ArrayDataView"/>: values come back as stored, keys are index + 1 with the class names as key values,
/// a cursor allocates nothing per row, bad shapes fail in one line, and a DataFrame holding the same data gives the
/// same trained model.
/// </summary>
[TestClass]
public sealed class ArrayDataViewTests
{
    private static readonly string[] Classes = ["cat", "dog", "fox"];

    private static ArrayDataView Small() => new ArrayDataViewBuilder()
        .AddFloatVector("Features", [1, 2, 3, 4, 5, 6], 2)          // (3, 2)
        .AddInt64Vector("Ids", [10, 11, 12, 20, 21, 22, 30, 31, 32], 3)
        .AddText("Text", ["a", "bb", "ccc"])
        .AddKey("Label", [2, 0, -1], Classes)
        .Build();

    private sealed class Row
    {
        [VectorType(2)] public float[] Features { get; set; } = [];
        [VectorType(3)] public long[] Ids { get; set; } = [];
        public string Text { get; set; } = "";
        [KeyType(3)] public uint Label { get; set; }
    }

    [TestMethod]
    public void ValuesRoundTrip_KeysAreIndexPlusOne()
    {
        var ml = new MLContext(seed: 0);
        var view = Small();
        Assert.AreEqual(3L, view.GetRowCount());
        var rows = ml.Data.CreateEnumerable<Row>(view, reuseRowObject: false).ToList();
        Assert.AreEqual(3, rows.Count);
        CollectionAssert.AreEqual(new float[] { 3, 4 }, rows[1].Features);
        CollectionAssert.AreEqual(new long[] { 30, 31, 32 }, rows[2].Ids);
        CollectionAssert.AreEqual(new[] { "a", "bb", "ccc" }, rows.Select(r => r.Text).ToArray());
        // class index 2 → key 3, 0 → 1, missing (−1) → 0
        CollectionAssert.AreEqual(new uint[] { 3, 1, 0 }, view.GetColumn<uint>("Label").ToArray());
    }

    [TestMethod]
    public void KeyValues_AreTheClassNames_AndMapKeyToValueGivesNames()
    {
        var ml = new MLContext(seed: 0);
        var view = Small();
        var keyType = (KeyDataViewType)view.Schema["Label"].Type;
        Assert.AreEqual(3UL, keyType.Count);
        VBuffer<ReadOnlyMemory<char>> names = default;
        view.Schema["Label"].GetKeyValues(ref names);
        CollectionAssert.AreEqual(Classes, names.DenseValues().Select(n => n.ToString()).ToArray());
        var mapped = ml.Transforms.Conversion.MapKeyToValue("Name", "Label").Fit(view).Transform(view);
        CollectionAssert.AreEqual(new[] { "fox", "cat", "" }, mapped.GetColumn<string>("Name").ToArray());
    }

    [TestMethod]
    public void Cursor_AllocatesNothingPerRow()
    {
        const int rows = 20_000, width = 784;
        var pixels = new float[rows * width];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = i % 251;
        var labels = Enumerable.Range(0, rows).Select(i => i % 3).ToArray();
        var texts = Enumerable.Range(0, rows).Select(i => "t" + (i % 7)).ToArray();
        var view = new ArrayDataViewBuilder().AddFloatVector("x", pixels, width).AddKey("y", labels, Classes).AddText("s", texts).Build();

        long Scan()
        {
            using var cursor = view.GetRowCursor(view.Schema);
            var gx = cursor.GetGetter<VBuffer<float>>(view.Schema["x"]);
            var gy = cursor.GetGetter<uint>(view.Schema["y"]);
            var gs = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["s"]);
            VBuffer<float> x = default;
            uint y = 0;
            ReadOnlyMemory<char> s = default;
            double sum = 0;
            long before = GC.GetAllocatedBytesForCurrentThread();
            while (cursor.MoveNext())
            {
                gx(ref x);
                gy(ref y);
                gs(ref s);
                sum += x.GetValues()[width - 1] + y + s.Length;
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.IsTrue(sum > 0);
            return allocated;
        }

        Scan(); // warm-up: JIT and the first VBuffer
        long bytes = Scan();
        Console.WriteLine($"{bytes} bytes allocated over {rows} rows ({(double)bytes / rows:F3} B/row)");
        Assert.IsTrue(bytes < 8 * 1024, $"{bytes} bytes for {rows} rows; expected (almost) none per row");
    }

    [TestMethod]
    public void BadShapes_FailInOneLine()
    {
        var e1 = Assert.ThrowsExactly<ArgumentException>(() => new ArrayDataViewBuilder()
            .AddFloatVector("Features", new float[8], 4).AddText("Text", ["a", "b", "c"]).Build());
        StringAssert.Contains(e1.Message, "column 'Text' has 3 rows; column 'Features' has 2");
        var e2 = Assert.ThrowsExactly<ArgumentException>(() => new ArrayDataViewBuilder().AddFloatVector("Features", new float[7], 4));
        StringAssert.Contains(e2.Message, "7 values is not a whole number of rows of width 4");
        // The classic off-by-one: 1-based labels put the last class at K.
        var e3 = Assert.ThrowsExactly<ArgumentException>(() => new ArrayDataViewBuilder().AddKey("Label", [1, 2, 3], Classes));
        StringAssert.Contains(e3.Message, "row 2 has class index 3; expected 0..2");
        foreach (var e in new[] { e1, e2, e3 }) Assert.IsFalse(e.Message.Contains('\n'), e.Message);
    }

    [TestMethod]
    public void DataFrame_CanStandInForTheView_SameTrainedModel()
    {
        const int n = 60, width = 4;
        var rng = new Random(3);
        var x = new float[n * width];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = i % 3;
            for (int j = 0; j < width; j++) x[i * width + j] = (float)(rng.NextDouble() + (j == y[i] ? 1.5 : 0));
        }
        var ml = new MLContext(seed: 1);
        var arrays = new ArrayDataViewBuilder().AddFloatVector("Features", x, width).AddKey("Label", y, Classes).Build();

        // The same rows as a DataFrame: one scalar column per feature and the label as text, in an order that is not
        // the class order (so the key order must be fixed from the class names).
        var frame = new DataFrame(Enumerable.Range(0, width)
            .Select(j => (DataFrameColumn)new PrimitiveDataFrameColumn<float>("f" + j, Enumerable.Range(0, n).Select(i => x[i * width + j])))
            .Append(new StringDataFrameColumn("Name", y.Select(c => Classes[c]))));
        var keys = ml.Data.LoadFromEnumerable(Classes.Select(c => new { Key = c }));
        var prepare = ml.Transforms.Concatenate("Features", Enumerable.Range(0, width).Select(j => "f" + j).ToArray())
            .Append(ml.Transforms.Conversion.MapValueToKey("Label", "Name", keyData: keys));
        IDataView fromFrame = prepare.Fit(frame).Transform(frame);

        // Each side trains in a context with the same seed, single-threaded, so the draws match.
        MulticlassClassificationMetrics Train(IDataView data)
        {
            var ctx = new MLContext(seed: 7);
            var trainer = ctx.MulticlassClassification.Trainers.SdcaMaximumEntropy(
                new Microsoft.ML.Trainers.SdcaMaximumEntropyMulticlassTrainer.Options { NumberOfThreads = 1, MaximumNumberOfIterations = 20 });
            return ctx.MulticlassClassification.Evaluate(trainer.Fit(data).Transform(data));
        }
        var a = Train(arrays);
        var b = Train(fromFrame);
        Assert.AreEqual(a.MicroAccuracy, b.MicroAccuracy);
        Assert.AreEqual(a.LogLoss, b.LogLoss, 1e-12);
        Assert.IsTrue(a.MicroAccuracy > 0.9, $"micro accuracy {a.MicroAccuracy} on separable data");
    }
}
