using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using MLNetMerge.Alignment;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests.Conformance;

/// <summary>
/// The contract every merge method of <see cref="MergeMethods.All"/> meets as an estimator, checked on two tasks of the
/// vision zoo: it fits into a pipeline whose outputs are well-formed, refuses bad input with a typed error, saves and
/// reloads to bit-identical weights and outputs, and round-trips through its recipe form (pipeline → YAML → pipeline)
/// to equal parameters and bit-identical outputs. A method added to the registry is covered without touching this file.
/// </summary>
[TestClass]
public sealed class MergeEstimatorConformanceTests
{
    public static IEnumerable<object[]> Methods => MergeMethods.All.Select(m => new object[] { m.Name });

    private static ModelFamily _family = null!;
    private static IReadOnlyDictionary<string, Data.TaskDataset> _test = null!;

    [ClassInitialize]
    public static void Open(TestContext _)
    {
        _family = ConformanceFamily.Open();
        _test = ConformanceFamily.Test();
    }

    [ClassCleanup]
    public static void Close() => _family?.Dispose();

    /// <summary>The method with its defaults, plus a per-model weight of 0.5 on digits where it takes per-model parameters.</summary>
    private static MergeEstimator Estimator(string name)
    {
        var method = MergeMethods.Find(name).Method;
        var perModel = new Dictionary<string, IReadOnlyDictionary<string, ParameterValue>>(StringComparer.Ordinal);
        var weight = method.Parameters.FirstOrDefault(p => p.PerModel && p.Kind == ParameterKind.Number);
        if (weight is not null) perModel["digits"] = new Dictionary<string, ParameterValue> { [weight.Name] = new ParameterValue.Scalar(0.5) };
        return new MergeEstimator(method, null, perModel, seed: 3);
    }

    [TestMethod]
    [DynamicData(nameof(Methods))]
    public void Fits_and_transforms_every_task(string name)
    {
        var fitted = Estimator(name).Fit(new MergeInputs(_family));
        CollectionAssert.AreEqual(ConformanceFamily.Tasks, fitted.TaskNames.ToArray());
        foreach (var (task, data) in _test)
        {
            var p = fitted.Transform(task, data);
            Assert.AreEqual(ConformanceFamily.Examples, p.Count);
            Assert.AreEqual(10, p.ClassCount, $"{name}/{task}: classes");
            Assert.AreEqual(64, p.EmbeddingSize, $"{name}/{task}: embedding width of the zoo's ViT");
            Assert.AreEqual(p.Count * p.ClassCount, p.Probabilities.Length);
            for (int i = 0; i < p.Count; i++)
            {
                double sum = 0;
                for (int c = 0; c < p.ClassCount; c++) { float v = p.Probabilities[i * p.ClassCount + c]; Assert.IsTrue(float.IsFinite(v) && v >= 0, $"{name}/{task}: p[{i},{c}] = {v}"); sum += v; }
                Assert.AreEqual(1.0, sum, 1e-4, $"{name}/{task}: row {i} sums to {sum}");
                int best = Enumerable.Range(0, p.ClassCount).MaxBy(c => p.Probabilities[i * p.ClassCount + c]);
                Assert.AreEqual(p.Probabilities[i * p.ClassCount + best], p.Probabilities[i * p.ClassCount + p.PredictedLabels[i]], $"{name}/{task}: label {i} is not the arg-max");
            }
            Assert.IsTrue(p.Embeddings.All(float.IsFinite), $"{name}/{task}: embeddings finite");
        }
    }

    [TestMethod]
    [DynamicData(nameof(Methods))]
    public void Refuses_bad_input_with_a_typed_error(string name)
    {
        var method = MergeMethods.Find(name).Method;
        var unknown = Assert.ThrowsExactly<RecipeException>(() =>
            new MergeEstimator(method, new Dictionary<string, ParameterValue> { ["no_such_parameter"] = new ParameterValue.Scalar(1) }));
        StringAssert.Contains(unknown.Message, "no_such_parameter");

        var perModel = new Dictionary<string, IReadOnlyDictionary<string, ParameterValue>>
        {
            ["not_a_task"] = new Dictionary<string, ParameterValue>(),
        };
        var stranger = Assert.ThrowsExactly<RecipeException>(() => new MergeEstimator(method, null, perModel).Fit(new MergeInputs(_family)));
        StringAssert.Contains(stranger.Message, "not_a_task");

        var fitted = Estimator(name).Fit(new MergeInputs(_family));
        var wrongSize = new Data.TaskDataset("fashion", new float[2 * 10], [10], null, _test["fashion"].ClassNames);
        Assert.ThrowsExactly<ArgumentException>(() => fitted.Transform("fashion", wrongSize));
        Assert.ThrowsExactly<ArgumentException>(() => fitted.Transform("not_a_task", _test["fashion"]));
    }

    [TestMethod]
    [DynamicData(nameof(Methods))]
    public void Saves_and_reloads_to_identical_outputs(string name)
    {
        var ctx = new MergeContext(0);
        var fitted = Estimator(name).Fit(new MergeInputs(_family));
        string dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-conformance-" + Guid.NewGuid().ToString("N"));
        try
        {
            ctx.Model.Save(fitted, dir);
            var again = ctx.Model.LoadPipeline(dir);
            Assert.AreEqual(name, again.Merged.Summary.Method.Name);
            foreach (var (tensor, values) in fitted.Merged.Tensors)
                CollectionAssert.AreEqual(values, again.Merged.Tensors[tensor], $"{name}: {tensor}");
            foreach (var (task, own) in fitted.Merged.TaskTensors)
                foreach (var (tensor, values) in own) CollectionAssert.AreEqual(values, again.Merged.TaskTensors[task][tensor], $"{name}: {task}/{tensor}");
            foreach (var (task, data) in _test)
            {
                var before = fitted.Transform(task, data);
                var after = again.Transform(task, data);
                CollectionAssert.AreEqual(before.Probabilities, after.Probabilities, $"{name}/{task}: probabilities after reload");
                CollectionAssert.AreEqual(before.Embeddings, after.Embeddings, $"{name}/{task}: embeddings after reload");
            }
            var rebuilt = (MergeEstimator)again.Pipeline!.Merge;
            Assert.AreEqual(3UL, rebuilt.Seed);
            Assert.AreEqual(RecipeWriter.Parameters(fitted.Merged.Summary.Parameters.Effective()), RecipeWriter.Parameters(rebuilt.ParametersFor(_family).Effective()));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    [DynamicData(nameof(Methods))]
    public void Round_trips_through_its_recipe(string name)
    {
        var estimator = Estimator(name);
        var pipeline = MergePipeline.Create(estimator);
        string yaml = pipeline.ToRecipe(_family).ToYaml();
        var back = MergeRecipe.Parse(yaml, "roundtrip.yaml").ToPipeline();
        var merge = (MergeEstimator)back.Merge;
        Assert.AreEqual(name, merge.Method.Name);
        Assert.AreEqual(estimator.Seed, merge.Seed);
        Assert.AreEqual(0, back.Stages.Count);
        Assert.AreEqual(RecipeWriter.Parameters(estimator.ParametersFor(_family).Effective()), RecipeWriter.Parameters(merge.ParametersFor(_family).Effective()), $"{name}: parameters");
        for (int t = 0; t < ConformanceFamily.Tasks.Length; t++)
            Assert.AreEqual(RecipeWriter.Parameters(estimator.ParametersFor(_family).PerModel(t)), RecipeWriter.Parameters(merge.ParametersFor(_family).PerModel(t)), $"{name}: per-model parameters of task {t}");

        var a = pipeline.Fit(new MergeInputs(_family));
        var b = back.Fit(new MergeInputs(_family));
        foreach (var (tensor, values) in a.Merged.Tensors) CollectionAssert.AreEqual(values, b.Merged.Tensors[tensor], $"{name}: {tensor}");
        foreach (var (task, data) in _test)
            CollectionAssert.AreEqual(a.Transform(task, data).Probabilities, b.Transform(task, data).Probabilities, $"{name}/{task}");
    }
}
