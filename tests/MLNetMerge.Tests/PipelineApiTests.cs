using System.Text.Json.Nodes;
using Microsoft.ML;
using MLNetMerge.Recipes;
using MLNetMerge.Cli.Zoo;
using MLNetMerge.Alignment;
using MLNetMerge.Data;

namespace MLNetMerge.Tests;

/// <summary>Zoo data as IDataViews, <c>ml.Merging().Evaluate</c> on ML.NET metrics, the few-shot sampler and the versioned
/// on-disk format of merges, on the committed vision zoo.</summary>
[TestClass]
public sealed class PipelineApiTests
{
    /// <summary>
    /// The zoo builder measured weight averaging of all eight tasks at build time (manifest <c>checks</c>); the public API
    /// — <c>ml.Merging().WeightAverage</c> fitted into ML.NET transformers, the zoo's test split as an IDataView,
    /// <c>ml.Merging().Evaluate</c> with the Current protocol on ML.NET's metrics — must reproduce every per-task test
    /// accuracy exactly (same weights, same images, same arg-max).
    /// </summary>
    [TestMethod]
    public void Weight_average_through_the_api_reproduces_the_zoo_build_check()
    {
        var ml = new MLContext(seed: 0);
        var manifest = ZooManifest.Load(ZooPaths.Vision);
        var check = manifest.Checks!.Single(c => c.Method == "weight_average");
        using var family = ml.Merging().LoadZooFamily(ZooPaths.Vision);
        var test = ml.Merging().LoadZooData(ZooPaths.Vision, "test");
        using var model = ml.Merging().WeightAverage(family).Fit(test);
        var results = ml.Merging().Evaluate(model, family, test, options: new EvaluationOptions { KnnShots = [] });
        for (int t = 0; t < manifest.Tasks.Count; t++)
        {
            var r = results[manifest.Tasks[t].Name, "current"];
            Assert.AreEqual(check.TestAccuracy[t], r.Accuracy, 1e-9, manifest.Tasks[t].Name);
            Assert.AreEqual(check.TestAccuracy[t], r.Runs.Single().MicroAccuracy, 1e-9, manifest.Tasks[t].Name + ": ML.NET's MicroAccuracy");
        }
        Assert.AreEqual(check.AverageTestAccuracy, results.AverageAccuracy("current"), 1e-9);
    }

    [TestMethod]
    public void Few_shot_sampler_draws_balanced_samples_and_drops_labels()
    {
        var manifest = ZooManifest.Load(ZooPaths.Vision);
        var digits = manifest.Tasks.Single(t => t.Name == "digits");
        var test = ZooManifest.LoadSplit(ZooPaths.Vision, digits, digits.Test);
        Assert.AreEqual(digits.Test.Count, test.Count);
        var shots = FewShotSampler.Sample(test, 5, 7);
        Assert.AreEqual(50, shots.Count);
        CollectionAssert.AreEqual(Enumerable.Repeat(5, 10).ToArray(), shots.ClassCounts());
        CollectionAssert.AreEqual(shots.Labels, FewShotSampler.Sample(test, 5, 7).Labels, "one seed, one draw");
        CollectionAssert.AreNotEqual(shots.Features, FewShotSampler.Sample(test, 5, 8).Features, "another seed draws other examples");
        var unlabeled = shots.WithoutLabels();
        Assert.IsFalse(unlabeled.HasLabels);
        Assert.AreSame(shots.Features, unlabeled.Features);
        Assert.AreEqual(3, test.Subset([0, 1, 2]).Count);
        Assert.ThrowsExactly<ArgumentException>(() => new MLContext(seed: 0).Merging().LoadZooData(ZooPaths.Vision, "digits", "train"));
        Assert.ThrowsExactly<ArgumentException>(() => new MLContext(seed: 0).Merging().LoadZooData(ZooPaths.Vision, "no_such_task", "test"));
    }

    [TestMethod]
    public void Knn_needs_a_labeled_pool_and_unlabeled_test_data_is_refused()
    {
        var ml = new MLContext(seed: 0);
        using var family = Conformance.ConformanceFamily.OpenPublic(ml);
        var test = ml.Data.TakeRows(ml.Merging().LoadZooData(ZooPaths.Vision, "fashion", "test"), Conformance.ConformanceFamily.Examples);
        using var model = ml.Merging().WeightAverage(family, task: "fashion").Fit(test);
        var knn2 = new EvaluationOptions { Current = false, KnnShots = [2], Seeds = 3, Task = "fashion" };
        Assert.ThrowsExactly<ArgumentException>(() => ml.Merging().Evaluate(model, family, test, null, knn2));
        var unlabeled = ml.Transforms.DropColumns("Label").Fit(test).Transform(test);
        Assert.ThrowsExactly<AlignmentDataException>(() => ml.Merging().Evaluate(model, family, unlabeled, options: new EvaluationOptions { KnnShots = [], Task = "fashion" }));
        var pool = ml.Data.TakeRows(ml.Merging().LoadZooData(ZooPaths.Vision, "fashion", "validation"), 500);
        var knn = ml.Merging().Evaluate(model, family, test, pool, knn2);
        CollectionAssert.AreEqual(new[] { "knn2" }, knn.Protocols.ToArray());
        Assert.AreEqual(3, knn["fashion", "knn2"].Runs.Count);
        Assert.ThrowsExactly<KeyNotFoundException>(() => knn["fashion", "current"]);
    }

    /// <summary>FT-Classifier Eval taught by the fine-tuned models: on the fine-tuned model itself (a merge of one task) the
    /// teacher is the model, so distillation starts at its optimum and every seed's accuracy equals Current's.</summary>
    [TestMethod]
    public void Ft_classifier_eval_of_a_fine_tuned_model_keeps_its_accuracy()
    {
        var ml = new MLContext(seed: 0);
        using var family = ml.Merging().LoadFamily(Path.Combine(ZooPaths.Vision, "base.safetensors"), [("digits", Path.Combine(ZooPaths.Vision, "digits.safetensors"))]);
        var test = ml.Merging().LoadZooData(ZooPaths.Vision, "digits", "test");
        var pool = ml.Merging().LoadZooData(ZooPaths.Vision, "digits", "validation");
        using var model = ml.Merging().WeightAverage(family, task: "digits").Fit(test);      // one model: the fine-tuned weights
        var result = ml.Merging().Evaluate(model, family, test, pool, new EvaluationOptions { KnnShots = [], FtClassifierShots = [2], Seeds = 2, Task = "digits" });
        CollectionAssert.AreEqual(new[] { "current", "ftc2" }, result.Protocols.ToArray());
        var current = result["digits", "current"].Runs.Single().MicroAccuracy;
        Assert.AreEqual(2, result["digits", "ftc2"].Runs.Count);
        foreach (var run in result["digits", "ftc2"].Runs)
            Assert.AreEqual(current, run.MicroAccuracy, 0.01, "KL to itself is 0 at the start; the head barely moves");
    }

    [TestMethod]
    public void Loading_checks_the_format_and_version()
    {
        using var family = Conformance.ConformanceFamily.Open();
        var model = EngineRuns.Merge(family, new TaskArithmeticOptions { Scale = 0.4 });
        string dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-format-" + Guid.NewGuid().ToString("N"));
        try
        {
            EngineRuns.Save(model, [], 0, dir);
            string manifestPath = Path.Combine(dir, "manifest.json");
            var original = JsonNode.Parse(File.ReadAllText(manifestPath))!.AsObject();
            Assert.AreEqual(OutputFormat.FormatVersion, (int)original["version"]!);

            void Write(Action<JsonObject> edit)
            {
                var m = JsonNode.Parse(original.ToJsonString())!.AsObject();
                edit(m);
                File.WriteAllText(manifestPath, m.ToJsonString());
            }

            Write(m => m["version"] = OutputFormat.FormatVersion + 1);
            var newer = Assert.ThrowsExactly<ModelFormatVersionException>(() => EngineRuns.Load(dir));
            Assert.AreEqual(OutputFormat.FormatVersion + 1, newer.Version);
            StringAssert.Contains(newer.Message, "newer MLNetMerge");
            Assert.ThrowsExactly<ModelFormatVersionException>(() => EngineRuns.Load(dir));

            Write(m => m["format"] = "someone-else.model");
            var foreign = Assert.ThrowsExactly<ModelFormatVersionException>(() => EngineRuns.Load(dir));
            Assert.AreEqual("someone-else.model", foreign.Format);

            // Version 1 (before pipelines): no seed, config, stages or per-model parameters; it still loads.
            Write(m => { m["version"] = 1; m.Remove("seed"); m.Remove("config"); m.Remove("stages"); m.Remove("model_parameters_yaml"); });
            var v1 = EngineRuns.Load(dir);
            Assert.AreEqual(0, v1.Stages.Count);
            Assert.AreEqual(0UL, v1.Seed);
            Assert.IsNull(v1.Merged.Architecture);
            foreach (var (name, values) in model.Tensors) CollectionAssert.AreEqual(values, v1.Merged.Tensors[name], name);
            Assert.ThrowsExactly<MergeException>(() => EngineRuns.Predict(v1.Merged, null, "fashion", Conformance.ConformanceFamily.Test()["fashion"]));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
