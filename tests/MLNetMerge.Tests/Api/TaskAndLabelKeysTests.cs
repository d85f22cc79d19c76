using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetMerge.Data;

namespace MLNetMerge.Tests.Api;

/// <summary>
/// Task and label columns as ML.NET users make them (found by an ML.NET user's trial): a <c>Task</c> column turned
/// into a key by <c>MapValueToKey</c> still picks a one-task fit's rows (it was passed over, and every task's rows were
/// fitted as the one task's); a lower-case <c>task</c> column is refused rather than passed over; evaluating one task
/// of a view with a <c>Task</c> column reads that task's rows (every row was scored as the task); and a label key over
/// class names or integer labels, whose key order is the order the values were met in, is read by its key values.
/// </summary>
[TestClass]
public sealed class TaskAndLabelKeysTests
{
    private static MergeFamily Family(MLContext ml) => ml.Merging().LoadFamily(Path.Combine(ZooPaths.Vision, "base.safetensors"),
        [("digits", Path.Combine(ZooPaths.Vision, "digits.safetensors")), ("fashion", Path.Combine(ZooPaths.Vision, "fashion.safetensors"))]);

    private static IDataView Mixed(MLContext ml, string split = "validation") =>
        ml.Merging().LoadZooData(ZooPaths.Vision, split, ["digits", "fashion"], samplesPerTask: 7, seed: 3);

    private static float[] Pixels(Dictionary<string, TaskDataset> read, string task) => read[task].Features;

    [TestMethod]
    public void AKeyTaskColumnPicksTheTasksRows()
    {
        var ml = new MLContext(seed: 0);
        using var family = Family(ml);
        var text = Mixed(ml);
        var keyed = ml.Transforms.Conversion.MapValueToKey(MergeColumns.Task).Fit(text).Transform(text);
        Assert.IsInstanceOfType<KeyDataViewType>(keyed.Schema[MergeColumns.Task].Type);

        var one = DataViewReader.Read(keyed, family, "fashion", "Label");
        Assert.AreEqual(1, one.Count);
        Assert.AreEqual(7, one["fashion"].Labels!.Length);
        CollectionAssert.AreEqual(Pixels(DataViewReader.Read(text, family, "fashion", "Label"), "fashion"), Pixels(one, "fashion"));
        var all = DataViewReader.Read(keyed, family, null, "Label");
        CollectionAssert.AreEquivalent(new[] { "digits", "fashion" }, all.Keys.ToArray());
        CollectionAssert.AreEqual(Pixels(DataViewReader.Read(text, family, null, "Label"), "digits"), Pixels(all, "digits"));
    }

    [TestMethod]
    public void ATaskColumnInAnotherCaseIsRefused()
    {
        var ml = new MLContext(seed: 0);
        using var family = Family(ml);
        var view = Mixed(ml);
        var lower = ml.Transforms.DropColumns(MergeColumns.Task).Fit(ml.Transforms.CopyColumns("task", MergeColumns.Task).Fit(view).Transform(view))
            .Transform(ml.Transforms.CopyColumns("task", MergeColumns.Task).Fit(view).Transform(view));
        var e = Assert.ThrowsExactly<AlignmentDataException>(() => DataViewReader.Read(lower, family, "fashion", null));
        StringAssert.Contains(e.Message, "the data has a column 'task' but none named 'Task' (column names are case-sensitive)");
        // A key without names (a hash) cannot say a row's task.
        var hashed = ml.Transforms.Conversion.Hash(MergeColumns.Task, numberOfBits: 8).Fit(view).Transform(view);
        StringAssert.Contains(Assert.ThrowsExactly<AlignmentDataException>(() => DataViewReader.Read(hashed, family, "fashion", null)).Message,
            "column 'Task' is Key<UInt32, 0-255>; task names are text, or a key whose key values are the names.");
    }

    [TestMethod]
    public void EvaluatingOneTaskReadsItsRowsOfAMixedView()
    {
        var ml = new MLContext(seed: 0);
        using var family = Family(ml);
        using var model = ml.Merging().TaskArithmetic(family, new TaskArithmeticOptions { Task = "fashion", Seed = 1 }).Fit(Mixed(ml));
        var options = new EvaluationOptions { KnnShots = [], Task = "fashion" };
        var mixed = ml.Merging().Evaluate(model, family, Mixed(ml, "test"), options: options)["fashion", "current"];
        var alone = ml.Merging().Evaluate(model, family, ml.Merging().LoadZooData(ZooPaths.Vision, "test", ["fashion"], samplesPerTask: 7, seed: 3), options: options)["fashion", "current"];
        Assert.AreEqual(7.0, mixed.Runs[0].ConfusionMatrix.Counts.Sum(r => r.Sum()));
        Assert.AreEqual(alone.Accuracy, mixed.Accuracy);
        Assert.AreEqual(alone.Runs[0].LogLoss, mixed.Runs[0].LogLoss);
    }

    [TestMethod]
    public void LabelKeysAreReadByTheirKeyValues()
    {
        var ml = new MLContext(seed: 0);
        using var family = Family(ml);
        var test = ml.Data.TakeRows(ml.Merging().LoadZooData(ZooPaths.Vision, "fashion", "test"), 60);
        int[] truth = [.. test.GetColumn<uint>("Label").Select(k => (int)k - 1)];
        // Names → keys in the order met (the first row's class becomes key 1).
        var names = ml.Transforms.Conversion.MapKeyToValue("Label").Fit(test).Transform(test);
        var byNames = ml.Transforms.Conversion.MapValueToKey("Label").Fit(names).Transform(names);
        var nameKeys = byNames.GetColumn<uint>("Label").Select(k => (int)k - 1).ToArray();
        CollectionAssert.AreNotEqual(truth, nameKeys, "the reordered key must differ from the class index for this test to test anything");
        CollectionAssert.AreEqual(truth, DataViewReader.Read(byNames, family, "fashion", "Label")["fashion"].Labels);

        // Integer class indices → keys in the order met: the key values are the indices.
        var rows = test.GetColumn<float[]>(MergeColumns.PixelValues).Zip(truth, (p, l) => new Row { PixelValues = p, Label = l }).ToList();
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[MergeColumns.PixelValues].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].PixelValues.Length);
        var ints = ml.Data.LoadFromEnumerable(rows, schema);
        var byInts = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ints).Transform(ints);
        CollectionAssert.AreNotEqual(truth, byInts.GetColumn<uint>("Label").Select(k => (int)k - 1).ToArray());
        CollectionAssert.AreEqual(truth, DataViewReader.Read(byInts, family, "fashion", "Label")["fashion"].Labels);

        // Evaluate reads them the same way: the same accuracy as on the zoo's own key.
        using var model = ml.Merging().TaskArithmetic(family, new TaskArithmeticOptions { Task = "fashion", Seed = 1 }).Fit(test);
        var options = new EvaluationOptions { KnnShots = [], Task = "fashion" };
        double reference = ml.Merging().Evaluate(model, family, test, options: options)["fashion", "current"].Accuracy;
        Assert.AreEqual(reference, ml.Merging().Evaluate(model, family, byNames, options: options)["fashion", "current"].Accuracy);
        Assert.AreEqual(reference, ml.Merging().Evaluate(model, family, byInts, options: options)["fashion", "current"].Accuracy);
    }

    private sealed class Row
    {
        [ColumnName(MergeColumns.PixelValues)]
        public float[] PixelValues { get; set; } = [];

        public int Label { get; set; }
    }
}
