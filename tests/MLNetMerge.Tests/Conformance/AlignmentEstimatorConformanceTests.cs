using Microsoft.ML;
using MLNetMerge.Alignment;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using MLNetMerge.Encoders;
using YamlDotNet.RepresentationModel;

namespace MLNetMerge.Tests.Conformance;

/// <summary>
/// The contract every alignment stage of <see cref="AlignmentMethods.All"/> (plus the tests' own
/// <see cref="CenteringStage"/>) meets, each stage with its registry defaults (short training schedules) after a weight-average merge of two zoo
/// tasks: it fits and predicts well-formed probabilities, refuses bad input with a typed error, saves and reloads
/// (through its registry entry's Restore, in the recipe runner's format) to bit-identical state and outputs, and
/// round-trips through the recipe's <c>align:</c> section to equal parameters and bit-identical outputs — in the engine,
/// and (for the registered stages) as the stage of an ML.NET merge estimator (<see cref="MergeEstimator.ToRecipeYaml"/>
/// → <see cref="MergingCatalog.FromRecipe"/>).
/// </summary>
[TestClass]
public sealed class AlignmentEstimatorConformanceTests
{
    public static IEnumerable<object[]> Stages => ConformanceFamily.AlignmentRegistry.Select(m => new object[] { m.Name });

    private static MergeFamily _public = null!;
    private static ModelFamily _family = null!;
    private static MergedModel _merged = null!;
    private static IReadOnlyDictionary<string, TaskDataset> _test = null!;
    private static IReadOnlyDictionary<string, TaskDataset> _labeledPool = null!;

    [ClassInitialize]
    public static void Open(TestContext _)
    {
        _public = ConformanceFamily.OpenPublic(new MLContext(seed: 0));
        _family = _public.Family;
        _merged = EngineRuns.Merge(_family, new WeightAverageOptions());
        _test = ConformanceFamily.Test();
        _labeledPool = ConformanceFamily.Test(500);
    }

    [ClassCleanup]
    public static void Close() => _public?.Dispose();

    private static AlignmentMethod Entry(string name) => ConformanceFamily.AlignmentRegistry.Single(m => m.Name == name);

    /// <summary>What the stage may see, as the alignment runner gives it: few-shot stages draw from the labeled test inputs
    /// (labels only balance the draw), labeled-validation stages get labels, the others the first inputs without labels.</summary>
    private static MergeInputs Inputs(IAlignmentEstimator stage)
    {
        IReadOnlyDictionary<string, TaskDataset> data = stage is IFewShotAlignmentEstimator || stage.Consumes is DataRequirement.LabeledValidation or DataRequirement.Training
            ? _labeledPool
            : _labeledPool.ToDictionary(kv => kv.Key, kv => kv.Value.Subset([.. Enumerable.Range(0, ConformanceFamily.AlignExamples)]).WithoutLabels());
        return new MergeInputs(_family, data);
    }

    /// <summary>The stage with its short schedule, seed 0, after the shared weight-average merge.</summary>
    private static IAlignmentEstimator Stage(string name) => Entry(name).Create(ConformanceFamily.ShortSchedule(name), 0);

    [TestMethod]
    [DynamicData(nameof(Stages))]
    public void Fits_and_predicts_every_task(string name)
    {
        var stage = Stage(name);
        var aligned = stage.Fit(_merged, Inputs(stage));
        Assert.AreEqual(name, aligned.Method);
        Assert.IsTrue(aligned.TaskNames.Count > 0, $"{name}: predicts no task");
        Assert.IsTrue(aligned.State.Count > 0, $"{name}: learned no state");
        foreach (var t in aligned.State)
            Assert.AreEqual(t.Shape.Aggregate(1, (a, d) => a * d), t.Values.Length, $"{name}: state tensor {t.Name} shape and values disagree");
        foreach (var task in aligned.TaskNames)
        {
            var p = aligned.PredictProbabilities(task, _test[task]);
            int n = _test[task].Count, k = 10;
            Assert.AreEqual(n * k, p.Length, $"{name}/{task}: (N, K)");
            for (int i = 0; i < n; i++)
            {
                double sum = 0;
                for (int c = 0; c < k; c++) { float v = p[i * k + c]; Assert.IsTrue(float.IsFinite(v) && v >= 0); sum += v; }
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

        var stage = Stage(name);
        if (stage.Consumes != DataRequirement.None)
            Assert.Throws<MergeException>(() => stage.Fit(_merged, new MergeInputs(_family)), $"{name}: no data");

        var inputs = Inputs(stage);
        var missing = new MergeInputs(_family, new Dictionary<string, TaskDataset> { ["fashion"] = inputs.Data!["fashion"] });
        var e = Assert.Throws<MergeException>(() => stage.Fit(_merged, missing), $"{name}: data for one of two tasks");
        StringAssert.Contains(e.Message, "digits");
    }

    [TestMethod]
    [DynamicData(nameof(Stages))]
    public void Saves_and_reloads_to_identical_outputs(string name)
    {
        var stage = Stage(name);
        var fitted = stage.Fit(_merged, Inputs(stage));
        string dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-conformance-" + Guid.NewGuid().ToString("N"));
        try
        {
            EngineRuns.Save(_merged, [fitted], 0, dir);
            var (merged, stages, estimators, _) = EngineRuns.Load(dir, ConformanceFamily.AlignmentRegistry);
            Assert.AreEqual(1, stages.Count);
            Assert.AreEqual(name, stages[0].Method);
            Assert.AreEqual(name, estimators[0].Name);
            var before = fitted.State.ToDictionary(t => t.Name);
            var after = stages[0].State.ToDictionary(t => t.Name);
            CollectionAssert.AreEquivalent(before.Keys.ToList(), after.Keys.ToList(), $"{name}: state names");
            foreach (var (k, t) in before)
            {
                CollectionAssert.AreEqual(t.Shape, after[k].Shape, $"{name}: {k} shape");
                CollectionAssert.AreEqual(t.Values, after[k].Values, $"{name}: {k} values");
            }
            foreach (var task in fitted.TaskNames)
            {
                var a = EngineRuns.Predict(_merged, fitted, task, _test[task]);
                var b = EngineRuns.Predict(merged, stages[0], task, _test[task]);
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
        var stage = Stage(name);
        var stream = new YamlStream();
        stream.Load(new StringReader(AlignSection.ToYaml(new AlignData(ZooPaths.Vision, "test", 0), [stage])));
        var recipe = new MergeRecipe
        {
            Method = "weight_average", Base = Path.GetFullPath(_family.Base.Path), Heads = _family.Heads.Pattern,
            Models = [.. _family.Tasks.Select(t => new RecipeModel(t.Name, Path.GetFullPath(t.Reader.Path), new Dictionary<string, ParameterValue>()))],
            Sections = new Dictionary<string, YamlNode> { ["align"] = ((YamlMappingNode)stream.Documents[0].RootNode).Children[new YamlScalarNode("align")] },
        };
        string yaml = recipe.ToYaml();
        StringAssert.Contains(yaml, "method: " + name);
        var back = AlignSection.Read(MergeRecipe.Parse(yaml, "roundtrip.yaml"), ConformanceFamily.AlignmentRegistry).Stages;
        Assert.AreEqual(1, back.Count);
        Assert.AreEqual(name, back[0].Name);
        Assert.AreEqual(RecipeWriter.Parameters(stage.Parameters), RecipeWriter.Parameters(back[0].Parameters), $"{name}: stage parameters");

        var inputs = Inputs(stage);
        var a = stage.Fit(_merged, inputs);
        var b = back[0].Fit(_merged, inputs);
        foreach (var task in a.TaskNames)
            CollectionAssert.AreEqual(a.PredictProbabilities(task, _test[task]), b.PredictProbabilities(task, _test[task]), $"{name}/{task}: outputs after the round trip");

        if (name == CenteringStage.MethodName) return;        // the tests' own stage is not in the library's registry
        var ml = new MLContext(seed: 0);
        var estimator = ml.Merging().WeightAverage(_public, new WeightAverageOptions { Seed = 0 })
            .Append(new AlignmentStage(new RecipeStageOptions(name, ConformanceFamily.ShortSchedule(name))));
        string path = Path.Combine(Path.GetTempPath(), $"mlnetmerge-roundtrip-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, estimator.ToRecipeYaml(Path.GetTempPath()));
        try
        {
            var again = ml.Merging().FromRecipe(path);
            using var family = again.Family;
            Assert.AreEqual("weight_average", again.Method.Name);
            Assert.AreEqual(0UL, again.Options.Seed);
            Assert.AreEqual(name, again.Stage!.Name);
            Assert.AreEqual(RecipeWriter.Parameters(stage.Parameters), RecipeWriter.Parameters(again.Stage.Create(0).Parameters), $"{name}: stage parameters through the estimator");
            Assert.AreEqual(estimator.ToRecipeYaml(Path.GetTempPath()), again.ToRecipeYaml(Path.GetTempPath()), $"{name}: the recipe written back");
            var c = again.Stage.Create(0).Fit(_merged, inputs);
            foreach (var task in a.TaskNames)
                CollectionAssert.AreEqual(a.PredictProbabilities(task, _test[task]), c.PredictProbabilities(task, _test[task]), $"{name}/{task}: outputs after the estimator's round trip");
        }
        finally { File.Delete(path); }
    }
}
