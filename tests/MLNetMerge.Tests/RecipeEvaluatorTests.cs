using Microsoft.VisualStudio.TestTools.UnitTesting;
using MLNetMerge.Checkpoints;
using MLNetMerge.Evaluation;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Recipes;
using MLNetMerge.Cli.Zoo;
using MLNetMerge.Encoders;
using MLNetMerge.Data;

namespace MLNetMerge.Tests;

/// <summary>Recipe evaluation on the committed zoo: sweeps select on validation, sections are checked.</summary>
[TestClass]
public sealed class RecipeEvaluatorTests
{
    private static MergeRecipe Recipe(string extra) => MergeRecipe.Parse(
        "method: task_arithmetic\nbase: ../base.safetensors\nmodels:\n" +
        "  - { name: digits, path: ../digits.safetensors }\n  - { name: fashion_footwear, path: ../fashion_footwear.safetensors }\n" +
        "seed: 0\n" + extra, Path.Combine(ZooPaths.Vision, "recipes", "test.yaml"), Path.Combine(ZooPaths.Vision, "recipes"));

    [TestMethod]
    public void CombinationsVaryLastParameterFastest()
    {
        var c = new SweepSection([("keep", [0.1, 0.2]), ("scale", [1.0, 2.0, 3.0])]).Points();
        Assert.AreEqual(6, c.Count);
        Assert.AreEqual(0.1, c[0]["keep"]); Assert.AreEqual(1.0, c[0]["scale"]);
        Assert.AreEqual(0.1, c[2]["keep"]); Assert.AreEqual(3.0, c[2]["scale"]);
        Assert.AreEqual(0.2, c[3]["keep"]); Assert.AreEqual(1.0, c[3]["scale"]);
    }

    [TestMethod]
    public void SectionsAreChecked()
    {
        Assert.ThrowsExactly<RecipeException>(() => EvaluateSection.Read(Recipe("evaluate: { colour: blue }\n")));
        Assert.ThrowsExactly<RecipeException>(() => EvaluateSection.Read(Recipe("evaluate: { protocols: [magic] }\n")));
        Assert.ThrowsExactly<RecipeException>(() => SweepSection.Read(Recipe("sweep: { scale: [] }\n")));
        var s = EvaluateSection.Read(Recipe("evaluate: { protocols: [knn], shots: 3, seeds: 2 }\n"));
        CollectionAssert.AreEqual(new[] { "knn" }, s.Protocols.ToArray());
        Assert.AreEqual(3, s.Shots);
    }

    [TestMethod]
    public void SweepSelectsOnValidationNotTest()
    {
        var recipe = Recipe("evaluate: { zoo: .., protocols: [current] }\nsweep: { scale: [0.05, 1.0] }\n");
        var e = RecipeRunner.Run(recipe, new RecipeRunOptions { Steps = RecipeSteps.EvaluateOnly & ~RecipeSteps.Report }).Evaluation!;
        Assert.AreEqual(2, e.Sweep.Count);
        var best = e.Sweep.MaxBy(p => p.ValidationAccuracy)!;
        Assert.AreEqual(best.Parameters["scale"], e.Merged.Hyperparameters["scale"]);

        // Recompute each point's validation accuracy independently: θ = θ0 + λ(τ_digits + τ_footwear), task heads, validation split.
        string dir = ZooPaths.Vision;
        var m = ZooManifest.Load(dir);
        var cfg = VisionTransformerConfig.FromJson(System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, m.Config))).RootElement);
        float[] Values(string file) { using var r = SafetensorsReader.Open(Path.Combine(dir, file)); return VisionTransformer.Load(cfg, r).Parameters.Values; }
        var theta0 = Values(m.Base);
        var tasks = new[] { "digits", "fashion_footwear" }.Select(n => m.Tasks.Single(t => t.Name == n)).ToArray();
        var thetas = tasks.Select(t => Values(t.Checkpoint)).ToArray();
        var model = new VisionTransformer(cfg);
        var encoder = model;
        foreach (var point in e.Sweep)
        {
            float lambda = (float)point.Parameters["scale"];
            for (int i = 0; i < theta0.Length; i++) model.Parameters.Values[i] = theta0[i] + lambda * ((thetas[0][i] - theta0[i]) + (thetas[1][i] - theta0[i]));
            double acc = tasks.Select(t =>
            {
                using var r = SafetensorsReader.Open(Path.Combine(dir, t.Checkpoint));
                r.TryGetTensor(TaskHead.WeightName, out var w); r.TryGetTensor(TaskHead.BiasName, out var b);
                var wv = new float[w.ElementCount]; var bv = new float[b.ElementCount];
                r.ReadFloat32(w, wv); r.ReadFloat32(b, bv);
                return VisionZooBuilder.Accuracy(encoder, new TaskHead(wv, bv, t.Classes.Count, 64), ZooManifest.LoadSplit(dir, t, t.Validation));
            }).Average();
            Assert.AreEqual(acc, point.ValidationAccuracy, 0.01, $"λ = {lambda}");
        }
        // The reported numbers are on test: the individual row's numbers equal the manifest's stored test accuracies.
        foreach (var t in tasks) Assert.AreEqual(t.Accuracy!.FineTunedTest, e.Individual.Results["current"][t.Name].Accuracy, 1e-9);
    }
}
