using System.Text.Json.Nodes;
using MLNetMerge.Cli.Zoo;
using MLNetMerge.Alignment;
using MLNetMerge.Data;

namespace MLNetMerge.Tests;

/// <summary>ctx.Data, ctx.Evaluation and the versioned pipeline format, on the committed vision zoo.</summary>
[TestClass]
public sealed class PipelineApiTests
{
    /// <summary>
    /// The zoo builder measured weight averaging of all eight tasks at build time (manifest <c>checks</c>); the public API
    /// — merge estimator, fitted pipeline, ctx.Data splits, ctx.Evaluation with the Current protocol — must reproduce
    /// every per-task test accuracy exactly (same weights, same images, same arg-max).
    /// </summary>
    [TestMethod]
    public void Weight_average_through_the_api_reproduces_the_zoo_build_check()
    {
        var ctx = new MergeContext(0);
        var manifest = ZooManifest.Load(ZooPaths.Vision);
        var check = manifest.Checks.Single(c => c.Method == "weight_average");
        using var family = ctx.Model.LoadFamily(Path.Combine(ZooPaths.Vision, manifest.Base),
            manifest.Tasks.Select(t => (t.Name, Path.Combine(ZooPaths.Vision, t.Checkpoint))).ToArray());
        var model = ctx.Merging.WeightAverage().Fit(new MergeInputs(family));
        var results = ctx.Evaluation.Evaluate(model, ctx.Data.LoadZoo(ZooPaths.Vision, "test"), ctx.Evaluation.Current());
        for (int t = 0; t < manifest.Tasks.Count; t++)
            Assert.AreEqual(check.TestAccuracy[t], results.Metrics(manifest.Tasks[t].Name).MicroAccuracy, 1e-9, manifest.Tasks[t].Name);
        Assert.AreEqual(check.AverageTestAccuracy, results.AverageAccuracy, 1e-9);
    }

    [TestMethod]
    public void Data_catalog_draws_balanced_few_shot_samples_and_drops_labels()
    {
        var ctx = new MergeContext(7);
        var test = ctx.Data.LoadZooSplit(ZooPaths.Vision, "digits", "test");
        Assert.AreEqual(manifestCount("digits"), test.Count);
        var shots = ctx.Data.FewShot(test, 5);
        Assert.AreEqual(50, shots.Count);
        CollectionAssert.AreEqual(Enumerable.Repeat(5, 10).ToArray(), shots.ClassCounts());
        CollectionAssert.AreEqual(shots.Labels, ctx.Data.FewShot(test, 5, seed: 7).Labels, "the context's seed is the default");
        CollectionAssert.AreNotEqual(shots.Features, ctx.Data.FewShot(test, 5, seed: 8).Features, "another seed draws other examples");
        var unlabeled = ctx.Data.DropLabels(shots);
        Assert.IsFalse(unlabeled.HasLabels);
        Assert.AreSame(shots.Features, unlabeled.Features);
        Assert.AreEqual(3, ctx.Data.Take(test, 3).Count);
        Assert.ThrowsExactly<ArgumentException>(() => ctx.Data.LoadZooSplit(ZooPaths.Vision, "digits", "train"));
        Assert.ThrowsExactly<ArgumentException>(() => ctx.Data.LoadZooSplit(ZooPaths.Vision, "no_such_task"));

        static int manifestCount(string task) => ZooManifest.Load(ZooPaths.Vision).Tasks.Single(t => t.Name == task).Test.Count;
    }

    [TestMethod]
    public void Knn_needs_a_labeled_pool_and_unlabeled_test_data_is_refused()
    {
        var ctx = new MergeContext(0);
        using var family = Conformance.ConformanceFamily.Open();
        var model = ctx.Merging.WeightAverage().Fit(new MergeInputs(family));
        var test = Conformance.ConformanceFamily.Test();
        Assert.ThrowsExactly<ArgumentException>(() => ctx.Evaluation.Evaluate(model, test, ctx.Evaluation.Knn(2, 1)));
        Assert.ThrowsExactly<ArgumentException>(() => ctx.Evaluation.Evaluate(model, ctx.Data.DropLabels(test), ctx.Evaluation.Current()));
        var knn = ctx.Evaluation.Evaluate(model, test, ctx.Evaluation.Knn(2, 3), Conformance.ConformanceFamily.Test(500));
        Assert.AreEqual(3, knn["fashion"].Runs.Count);
        Assert.ThrowsExactly<InvalidOperationException>(() => knn.Metrics("fashion"));
    }

    /// <summary>FT-Classifier Eval taught by the fine-tuned models: on the fine-tuned model itself (a merge of one task) the
    /// teacher is the model, so distillation starts at its optimum and every seed's accuracy equals Current's.</summary>
    [TestMethod]
    public void Ft_classifier_eval_of_a_fine_tuned_model_keeps_its_accuracy()
    {
        var ctx = new MergeContext(0);
        using var family = ModelFamilyOf("digits");
        var model = ctx.Merging.WeightAverage().Fit(new MergeInputs(family));      // one model: the fine-tuned weights
        var test = new Dictionary<string, Data.TaskDataset> { ["digits"] = ctx.Data.LoadZooSplit(ZooPaths.Vision, "digits", "test") };
        var pool = new Dictionary<string, Data.TaskDataset> { ["digits"] = ctx.Data.LoadZooSplit(ZooPaths.Vision, "digits", "validation") };
        var ftc = ctx.Evaluation.FtClassifier(family, pool, shots: 2, seeds: 2);
        Assert.AreEqual("ftc2", ftc.Name);
        var current = ctx.Evaluation.Evaluate(model, test, ctx.Evaluation.Current());
        var result = ctx.Evaluation.Evaluate(model, test, ftc, pool);
        Assert.AreEqual(2, result["digits"].Runs.Count);
        foreach (var run in result["digits"].Runs)
            Assert.AreEqual(current.Metrics("digits").MicroAccuracy, run.MicroAccuracy, 0.01, "KL to itself is 0 at the start; the head barely moves");
    }

    private static Encoders.ModelFamily ModelFamilyOf(params string[] tasks) =>
        Encoders.ModelFamily.Load(Path.Combine(ZooPaths.Vision, "base.safetensors"), tasks.Select(t => (t, Path.Combine(ZooPaths.Vision, t + ".safetensors"))));

    [TestMethod]
    public void Loading_checks_the_format_and_version()
    {
        var ctx = new MergeContext(0);
        using var family = Conformance.ConformanceFamily.Open();
        var model = ctx.Merging.TaskArithmetic(scale: 0.4).Fit(new MergeInputs(family));
        string dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-format-" + Guid.NewGuid().ToString("N"));
        try
        {
            ctx.Model.Save(model, dir);
            string manifestPath = Path.Combine(dir, "manifest.json");
            var original = JsonNode.Parse(File.ReadAllText(manifestPath))!.AsObject();
            Assert.AreEqual(ModelCatalog.FormatVersion, (int)original["version"]!);

            void Write(Action<JsonObject> edit)
            {
                var m = JsonNode.Parse(original.ToJsonString())!.AsObject();
                edit(m);
                File.WriteAllText(manifestPath, m.ToJsonString());
            }

            Write(m => m["version"] = ModelCatalog.FormatVersion + 1);
            var newer = Assert.ThrowsExactly<ModelFormatVersionException>(() => ctx.Model.LoadPipeline(dir));
            Assert.AreEqual(ModelCatalog.FormatVersion + 1, newer.Version);
            StringAssert.Contains(newer.Message, "newer MLNetMerge");
            Assert.ThrowsExactly<ModelFormatVersionException>(() => ctx.Model.Load(dir));

            Write(m => m["format"] = "someone-else.model");
            var foreign = Assert.ThrowsExactly<ModelFormatVersionException>(() => ctx.Model.LoadPipeline(dir));
            Assert.AreEqual("someone-else.model", foreign.Format);

            // Version 1 (before pipelines): no seed, config, stages or per-model parameters; it still loads.
            Write(m => { m["version"] = 1; m.Remove("seed"); m.Remove("config"); m.Remove("stages"); m.Remove("model_parameters_yaml"); });
            var v1 = ctx.Model.LoadPipeline(dir);
            Assert.AreEqual(0, v1.Aligned.Count);
            Assert.IsNull(v1.Merged.Architecture);
            foreach (var (name, values) in model.Merged.Tensors) CollectionAssert.AreEqual(values, v1.Merged.Tensors[name], name);
            Assert.ThrowsExactly<MergeException>(() => v1.Transform("fashion", Conformance.ConformanceFamily.Test()["fashion"]));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
