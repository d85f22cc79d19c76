using Microsoft.ML;
using MLNetMerge.Checkpoints;
using MLNetMerge.MLNet;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using MLNetMerge.Alignment;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests.Conformance;

/// <summary>
/// The contract every merge method of <see cref="MergeMethods.All"/> meets as an estimator, checked on two tasks of the
/// vision zoo: its merge predicts well-formed outputs, it refuses bad input with a typed error (in the engine and through
/// <c>mlContext.Merging()</c>), saves and reloads in the recipe runner's format to bit-identical weights and outputs, and
/// round-trips as an ML.NET estimator through its recipe form (<see cref="MergeEstimator.ToRecipeYaml"/> →
/// <see cref="MergingCatalog.FromRecipe"/>) to equal parameters, seed and bit-identical weights and outputs. A method
/// added to the registry is covered without touching this file.
/// </summary>
[TestClass]
public sealed class MergeEstimatorConformanceTests
{
    public static IEnumerable<object[]> Methods => MergeMethods.All.Select(m => new object[] { m.Name });

    private static MergeFamily _public = null!;
    private static MergeFamily _publicOne = null!;
    private static IReadOnlyDictionary<string, Data.TaskDataset> _test = null!;

    /// <summary>The tasks a method is checked on: both, or the first for a method that merges one model into the base
    /// (nearswap, arcee_fusion).</summary>
    private static string[] TasksOf(string name) => [.. ConformanceFamily.Tasks.Take(MergeMethods.Find(name).Method.MaxModels)];

    /// <summary>The public family of <see cref="TasksOf"/>.</summary>
    private static MergeFamily Public(string name) => TasksOf(name).Length == ConformanceFamily.Tasks.Length ? _public : _publicOne;

    /// <summary>The test examples of <see cref="TasksOf"/>.</summary>
    private static IEnumerable<KeyValuePair<string, Data.TaskDataset>> TestOf(string name) => _test.Where(kv => TasksOf(name).Contains(kv.Key));

    [ClassInitialize]
    public static void Open(TestContext _)
    {
        _public = ConformanceFamily.OpenPublic(new MLContext(seed: 0));
        _publicOne = ConformanceFamily.OpenPublic(new MLContext(seed: 0), ConformanceFamily.Tasks[..1]);
        _test = ConformanceFamily.Test();
    }

    [ClassCleanup]
    public static void Close()
    {
        _public?.Dispose();
        _publicOne?.Dispose();
    }

    /// <summary>A per-model weight of 0.5 on digits where the method takes per-model parameters.</summary>
    private static Dictionary<string, IReadOnlyDictionary<string, ParameterValue>> PerModel(string name)
    {
        var method = MergeMethods.Find(name).Method;
        var perModel = new Dictionary<string, IReadOnlyDictionary<string, ParameterValue>>(StringComparer.Ordinal);
        var weight = method.Parameters.FirstOrDefault(p => p.PerModel && p.Kind == ParameterKind.Number);
        if (weight is not null) perModel["digits"] = new Dictionary<string, ParameterValue> { [weight.Name] = new ParameterValue.Scalar(0.5) };
        return perModel;
    }

    /// <summary>The method with its defaults and <see cref="PerModel"/>, seed 3, merged by the engine.</summary>
    private static MergedModel Merge(string name) => EngineRuns.Merge(Public(name).Family, name, null, PerModel(name), seed: 3);

    /// <summary>The same as an ML.NET estimator of <c>mlContext.Merging()</c>.</summary>
    private static MergeEstimator Estimator(MLContext ml, string name) =>
        ml.Merging().Merge(Public(name), new RecipeMethodOptions(name, new Dictionary<string, ParameterValue>(), PerModel(name)) { Seed = 3 });

    [TestMethod]
    [DynamicData(nameof(Methods))]
    public void Fits_and_transforms_every_task(string name)
    {
        var merged = Merge(name);
        CollectionAssert.AreEqual(TasksOf(name), merged.TaskNames.ToArray());
        foreach (var (task, data) in TestOf(name))
        {
            var (embeddings, probabilities) = EngineRuns.Predict(merged, null, task, data);
            int n = ConformanceFamily.Examples, k = probabilities.Length / data.Count;
            Assert.AreEqual(n, data.Count);
            Assert.AreEqual(10, k, $"{name}/{task}: classes");
            Assert.AreEqual(64 * n, embeddings.Length, $"{name}/{task}: embedding width of the zoo's ViT");
            Assert.AreEqual(n * k, probabilities.Length);
            for (int i = 0; i < n; i++)
            {
                double sum = 0;
                for (int c = 0; c < k; c++) { float v = probabilities[i * k + c]; Assert.IsTrue(float.IsFinite(v) && v >= 0, $"{name}/{task}: p[{i},{c}] = {v}"); sum += v; }
                Assert.AreEqual(1.0, sum, 1e-4, $"{name}/{task}: row {i} sums to {sum}");
            }
            Assert.IsTrue(embeddings.All(float.IsFinite), $"{name}/{task}: embeddings finite");
        }
    }

    [TestMethod]
    [DynamicData(nameof(Methods))]
    public void Refuses_bad_input_with_a_typed_error(string name)
    {
        var ml = new MLContext(seed: 0);
        var unknown = Assert.ThrowsExactly<RecipeException>(() =>
            ml.Merging().Merge(Public(name), name, new Dictionary<string, string> { ["no_such_parameter"] = "1" }));
        StringAssert.Contains(unknown.Message, "no_such_parameter");
        var unknownInEngine = Assert.ThrowsExactly<RecipeException>(() =>
            new MergeParameters(MergeMethods.Find(name).Method, new Dictionary<string, ParameterValue> { ["no_such_parameter"] = new ParameterValue.Scalar(1) }, []));
        StringAssert.Contains(unknownInEngine.Message, "no_such_parameter");

        var stranger = Assert.ThrowsExactly<ArgumentException>(() =>
            ml.Merging().Merge(Public(name), new NamedMethodOptions(name, null) { Weights = new Dictionary<string, double> { ["not_a_task"] = 1 } }));
        StringAssert.Contains(stranger.Message, "not_a_task");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => ml.Merging().Merge(Public(name), name, task: "not_a_task")).Message, "not_a_task");

        var merged = Merge(name);
        var wrongSize = new Data.TaskDataset("fashion", new float[2 * 10], [10], null, _test["fashion"].ClassNames);
        Assert.ThrowsExactly<ArgumentException>(() => merged.Session.EmbedMerged(merged, "fashion", wrongSize));
        var narrow = new ArrayDataViewBuilder().AddFloatVector(MergeColumns.PixelValues, new float[2 * 10], 10).Build();
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => Estimator(ml, name).Fit(narrow)).Message, MergeColumns.PixelValues);
    }

    [TestMethod]
    [DynamicData(nameof(Methods))]
    public void Saves_and_reloads_to_identical_outputs(string name)
    {
        var fitted = Merge(name);
        string dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-conformance-" + Guid.NewGuid().ToString("N"));
        try
        {
            EngineRuns.Save(fitted, [], 3, dir);
            var (again, stages, _, seed) = EngineRuns.Load(dir);
            Assert.AreEqual(0, stages.Count);
            Assert.AreEqual(name, again.Summary.Method.Name);
            foreach (var (tensor, values) in fitted.Tensors)
                CollectionAssert.AreEqual(values, again.Tensors[tensor], $"{name}: {tensor}");
            foreach (var (task, own) in fitted.TaskTensors)
                foreach (var (tensor, values) in own) CollectionAssert.AreEqual(values, again.TaskTensors[task][tensor], $"{name}: {task}/{tensor}");
            foreach (var (task, data) in TestOf(name))
            {
                var before = EngineRuns.Predict(fitted, null, task, data);
                var after = EngineRuns.Predict(again, null, task, data);
                CollectionAssert.AreEqual(before.Probabilities, after.Probabilities, $"{name}/{task}: probabilities after reload");
                CollectionAssert.AreEqual(before.Embeddings, after.Embeddings, $"{name}/{task}: embeddings after reload");
            }
            Assert.AreEqual(3UL, seed);
            Assert.AreEqual(RecipeWriter.Parameters(fitted.Summary.Parameters.Effective()), RecipeWriter.Parameters(again.Summary.Parameters.Effective()));
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
        var ml = new MLContext(seed: 0);
        var estimator = Estimator(ml, name);
        string path = Path.Combine(Path.GetTempPath(), $"mlnetmerge-roundtrip-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, estimator.ToRecipeYaml(Path.GetTempPath()));
        try
        {
            var back = ml.Merging().FromRecipe(path);
            using var backFamily = back.Family;
            Assert.AreEqual(name, back.Method.Name);
            Assert.AreEqual(3UL, back.Options.Seed);
            Assert.IsNull(back.Stage);
            CollectionAssert.AreEqual(TasksOf(name), back.Family.TaskNames.ToArray());
            Assert.AreEqual(RecipeWriter.Parameters(estimator.Parameters().Effective()), RecipeWriter.Parameters(back.Parameters().Effective()), $"{name}: parameters");
            for (int t = 0; t < TasksOf(name).Length; t++)
                Assert.AreEqual(RecipeWriter.Parameters(estimator.Parameters().PerModel(t)), RecipeWriter.Parameters(back.Parameters().PerModel(t)), $"{name}: per-model parameters of task {t}");
            Assert.AreEqual(estimator.ToRecipeYaml(Path.GetTempPath()), back.ToRecipeYaml(Path.GetTempPath()), $"{name}: the recipe written back");

            var view = ml.Merging().LoadZooData(ZooPaths.Vision, "fashion", "test");
            var a = estimator.FitModels(view).Merged;
            var b = back.FitModels(view).Merged;
            foreach (var (tensor, values) in a.Tensors) CollectionAssert.AreEqual(values, b.Tensors[tensor], $"{name}: {tensor}");
            foreach (var (task, data) in TestOf(name))
                CollectionAssert.AreEqual(EngineRuns.Predict(a, null, task, data).Probabilities, EngineRuns.Predict(b, null, task, data).Probabilities, $"{name}/{task}");
        }
        finally { File.Delete(path); }
    }
}
