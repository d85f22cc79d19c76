using MLNetMerge.Alignment;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests.Conformance;

/// <summary>
/// The contract every alignment stage of <see cref="AlignmentMethods.All"/> (plus the tests' own
/// <see cref="CenteringStage"/>) meets, each stage with its registry defaults (short training schedules) after a weight-average merge of two zoo
/// tasks: it fits and predicts well-formed probabilities, refuses bad input with a typed error, saves and reloads
/// (through its registry entry's Restore) to bit-identical state and outputs, and round-trips through the recipe's
/// <c>align:</c> section to equal parameters and bit-identical outputs.
/// </summary>
[TestClass]
public sealed class AlignmentEstimatorConformanceTests
{
    public static IEnumerable<object[]> Stages => ConformanceFamily.AlignmentRegistry.Select(m => new object[] { m.Name });

    private static ModelFamily _family = null!;
    private static IReadOnlyDictionary<string, TaskDataset> _test = null!;
    private static IReadOnlyDictionary<string, TaskDataset> _labeledPool = null!;

    [ClassInitialize]
    public static void Open(TestContext _)
    {
        _family = ConformanceFamily.Open();
        _test = ConformanceFamily.Test();
        _labeledPool = ConformanceFamily.Test(500);
    }

    [ClassCleanup]
    public static void Close() => _family?.Dispose();

    private static AlignmentMethod Entry(string name) => ConformanceFamily.AlignmentRegistry.Single(m => m.Name == name);

    /// <summary>What the stage may see, as the alignment runner gives it: few-shot stages draw from the labeled test inputs
    /// (labels only balance the draw), labeled-validation stages get labels, the others the first inputs without labels.</summary>
    private static MergeInputs Inputs(IAlignmentEstimator stage)
    {
        var ctx = new MergeContext(0);
        IReadOnlyDictionary<string, TaskDataset> data = stage is IFewShotAlignmentEstimator || stage.Consumes is DataRequirement.LabeledValidation or DataRequirement.Training
            ? _labeledPool
            : ctx.Data.DropLabels(_labeledPool.ToDictionary(kv => kv.Key, kv => ctx.Data.Take(kv.Value, ConformanceFamily.AlignExamples)));
        return new MergeInputs(_family, data);
    }

    private static MergePipeline Pipeline(string name)
    {
        var ctx = new MergeContext(0);
        return ctx.Merging.WeightAverage().Append(Entry(name).Create(ConformanceFamily.ShortSchedule(name), 0));
    }

    [TestMethod]
    [DynamicData(nameof(Stages))]
    public void Fits_and_predicts_every_task(string name)
    {
        var pipeline = Pipeline(name);
        var fitted = pipeline.Fit(Inputs(pipeline.Stages[0]));
        Assert.AreEqual(1, fitted.Aligned.Count);
        var aligned = fitted.Aligned[0];
        Assert.AreEqual(name, aligned.Method);
        Assert.IsTrue(aligned.TaskNames.Count > 0, $"{name}: predicts no task");
        Assert.IsTrue(aligned.State.Count > 0, $"{name}: learned no state");
        foreach (var t in aligned.State)
            Assert.AreEqual(t.Shape.Aggregate(1, (a, d) => a * d), t.Values.Length, $"{name}: state tensor {t.Name} shape and values disagree");
        foreach (var task in aligned.TaskNames)
        {
            var p = fitted.Transform(task, _test[task]);
            Assert.AreEqual(name, p.Source);
            Assert.AreEqual(_test[task].Count * 10, p.Probabilities.Length, $"{name}/{task}: (N, K)");
            for (int i = 0; i < p.Count; i++)
            {
                double sum = 0;
                for (int c = 0; c < p.ClassCount; c++) { float v = p.Probabilities[i * p.ClassCount + c]; Assert.IsTrue(float.IsFinite(v) && v >= 0); sum += v; }
                Assert.AreEqual(1.0, sum, 1e-4, $"{name}/{task}: row {i}");
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(Stages))]
    public void Refuses_bad_input_with_a_typed_error(string name)
    {
        var unknown = Assert.ThrowsExactly<RecipeException>(() =>
            Entry(name).Create(new Dictionary<string, ParameterValue>(ConformanceFamily.ShortSchedule(name)) { ["no_such_parameter"] = new ParameterValue.Scalar(1) }, 0));
        StringAssert.Contains(unknown.Message, "no_such_parameter");

        var pipeline = Pipeline(name);
        if (pipeline.Stages[0].Consumes != DataRequirement.None)
            Assert.ThrowsExactly<RecipeException>(() => pipeline.Fit(new MergeInputs(_family)));

        var inputs = Inputs(pipeline.Stages[0]);
        var missing = new MergeInputs(_family, new Dictionary<string, TaskDataset> { ["fashion"] = inputs.Data!["fashion"] });
        var e = Assert.Throws<MergeException>(() => pipeline.Fit(missing), $"{name}: data for one of two tasks");
        StringAssert.Contains(e.Message, "digits");
    }

    [TestMethod]
    [DynamicData(nameof(Stages))]
    public void Saves_and_reloads_to_identical_outputs(string name)
    {
        var ctx = new MergeContext(0);
        var pipeline = Pipeline(name);
        var fitted = pipeline.Fit(Inputs(pipeline.Stages[0]));
        string dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-conformance-" + Guid.NewGuid().ToString("N"));
        try
        {
            ctx.Model.Save(fitted, dir);
            var again = ctx.Model.LoadPipeline(dir, ConformanceFamily.AlignmentRegistry);
            Assert.AreEqual(1, again.Aligned.Count);
            Assert.AreEqual(name, again.Aligned[0].Method);
            Assert.AreEqual(name, again.Pipeline!.Stages[0].Name);
            var before = fitted.Aligned[0].State.ToDictionary(t => t.Name);
            var after = again.Aligned[0].State.ToDictionary(t => t.Name);
            CollectionAssert.AreEquivalent(before.Keys.ToList(), after.Keys.ToList(), $"{name}: state names");
            foreach (var (k, t) in before)
            {
                CollectionAssert.AreEqual(t.Shape, after[k].Shape, $"{name}: {k} shape");
                CollectionAssert.AreEqual(t.Values, after[k].Values, $"{name}: {k} values");
            }
            foreach (var task in fitted.Aligned[0].TaskNames)
            {
                var a = fitted.Transform(task, _test[task]);
                var b = again.Transform(task, _test[task]);
                CollectionAssert.AreEqual(a.Probabilities, b.Probabilities, $"{name}/{task}: probabilities after reload");
                CollectionAssert.AreEqual(a.Embeddings, b.Embeddings, $"{name}/{task}: embeddings after reload");
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    [DynamicData(nameof(Stages))]
    public void Round_trips_through_its_recipe(string name)
    {
        var pipeline = Pipeline(name);
        string yaml = pipeline.ToRecipe(_family, new AlignData(ZooPaths.Vision, "test", 0)).ToYaml();
        StringAssert.Contains(yaml, "method: " + name);
        var back = MergeRecipe.Parse(yaml, "roundtrip.yaml").ToPipeline(ConformanceFamily.AlignmentRegistry);
        Assert.AreEqual(1, back.Stages.Count);
        Assert.AreEqual(name, back.Stages[0].Name);
        Assert.AreEqual(RecipeWriter.Parameters(pipeline.Stages[0].Parameters), RecipeWriter.Parameters(back.Stages[0].Parameters), $"{name}: stage parameters");
        Assert.AreEqual(pipeline.Merge.Method.Name, back.Merge.Method.Name);

        var inputs = Inputs(pipeline.Stages[0]);
        var a = pipeline.Fit(inputs);
        var b = back.Fit(inputs);
        foreach (var task in a.Aligned[0].TaskNames)
            CollectionAssert.AreEqual(a.Transform(task, _test[task]).Probabilities, b.Transform(task, _test[task]).Probabilities, $"{name}/{task}: outputs after the round trip");
    }
}
