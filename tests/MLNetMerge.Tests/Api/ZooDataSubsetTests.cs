using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetMerge.Data;
using MLNetMerge.Recipes;

namespace MLNetMerge.Tests.Api;

/// <summary>
/// <c>LoadZooData(zoo, split, tasks, samplesPerTask, seed)</c>: the rows a recipe's alignment stage was fitted on — the
/// named tasks in order, each a seeded draw made exactly as <c>align.data.samples</c> makes it — so that the training
/// code of a Model Builder-style zip can rebuild it (found by a zip consumer's trial: the generated comment pointed at
/// every task's rows, which a family of some tasks refuses, and at every row where the run had drawn 40).
/// </summary>
[TestClass]
public sealed class ZooDataSubsetTests
{
    [TestMethod]
    public void NamedTasksInOrder_EachTheRunnersSeededDraw()
    {
        var ml = new MLContext(seed: 0);
        var view = ml.Merging().LoadZooData(ZooPaths.Vision, "validation", ["digits", "fashion"], samplesPerTask: 7, seed: 3);
        CollectionAssert.AreEqual(Enumerable.Repeat("digits", 7).Concat(Enumerable.Repeat("fashion", 7)).ToArray(),
            view.GetColumn<string>(MergeColumns.Task).ToArray());
        var manifest = ZooManifest.Load(ZooPaths.Vision);
        float[] expected = [.. new[] { "digits", "fashion" }.SelectMany(t =>
        {
            var entry = manifest.Tasks.Single(x => x.Name == t);
            return AlignmentRows.Sample(ZooManifest.LoadSplit(ZooPaths.Vision, entry, entry.Validation), 7, 3).Features;
        })];
        CollectionAssert.AreEqual(expected, view.GetColumn<float[]>(MergeColumns.PixelValues).SelectMany(r => r).ToArray());
        // Another seed draws other rows; samples 0 gives every row, in the split's order.
        var other = ml.Merging().LoadZooData(ZooPaths.Vision, "validation", ["digits"], samplesPerTask: 7, seed: 4);
        CollectionAssert.AreNotEqual(expected[..(7 * 28 * 28)], other.GetColumn<float[]>(MergeColumns.PixelValues).SelectMany(r => r).ToArray());
        var all = ml.Merging().LoadZooData(ZooPaths.Vision, "test", ["fashion"]);
        Assert.AreEqual(ml.Merging().LoadZooData(ZooPaths.Vision, "fashion", "test").GetRowCount(), all.GetColumn<string>(MergeColumns.Task).LongCount());
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ml.Merging().LoadZooData(ZooPaths.Vision, "test", ["nope"])).Message, "nope");
    }
}
