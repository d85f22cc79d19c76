using Microsoft.VisualStudio.TestTools.UnitTesting;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Evaluation;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Cli.Zoo;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests;

/// <summary>The committed vision zoo: files, shapes, and the literature's behaviour (fine-tuned beats base + linear head).</summary>
[TestClass]
public sealed class VisionZooTests
{
    private static (MLNetMerge.Nn.IDenseEncoder Encoder, TaskHead Head) Load(string dir, ZooManifest m, string checkpoint, ZooTask task)
    {
        var cfg = VisionTransformerConfig.FromJson(System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, m.Config))).RootElement);
        using var reader = SafetensorsReader.Open(Path.Combine(dir, checkpoint));
        var model = VisionTransformer.Load(cfg, reader);
        using var taskReader = SafetensorsReader.Open(Path.Combine(dir, task.Checkpoint));
        taskReader.TryGetTensor(TaskHead.WeightName, out var w);
        taskReader.TryGetTensor(TaskHead.BiasName, out var b);
        var wv = new float[w.ElementCount]; var bv = new float[b.ElementCount];
        taskReader.ReadFloat32(w, wv); taskReader.ReadFloat32(b, bv);
        return (model, new TaskHead(wv, bv, task.Classes.Count, model.EmbeddingSize));
    }

    [TestMethod]
    public void ManifestFilesAndShapesAgree()
    {
        string dir = ZooPaths.Vision;
        var m = ZooManifest.Load(dir);
        Assert.IsTrue(m.Tasks.Count >= 6);
        Assert.AreEqual(m.Tasks.Count, m.Tasks.Select(t => t.Name).Distinct().Count());
        long bytes = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.IsTrue(bytes <= 25L << 20, $"zoo is {bytes} bytes");
        using var family = ModelFamily.Load(Path.Combine(dir, m.Base), m.Tasks.Select(t => (t.Name, Path.Combine(dir, t.Checkpoint))));
        foreach (var t in m.Tasks)
        {
            var head = family.TaskHeads[t.Name].Single(h => h.Name == TaskHead.WeightName);
            CollectionAssert.AreEqual(new[] { t.Classes.Count, 64 }, head.Shape);
            var test = ZooManifest.LoadSplit(dir, t, t.Test);
            Assert.AreEqual(t.Test.Count, test.Count);
            CollectionAssert.AreEqual(new[] { 1, 28, 28 }, test.FeatureShape);
            Assert.IsTrue(test.ClassCounts().All(c => c > 0), $"{t.Name}: a class is missing from test");
            Assert.IsTrue(test.Features.All(v => v >= -1f && v <= 1f));
        }
    }

    [TestMethod]
    public void FineTunedBeatsLinearProbe()
    {
        // The build stores the accuracy of a linear head trained on the frozen base ("base with a trained linear head").
        // The seed-0 build of the one-seed streams fine-tunes fashion to 64.0 % against the probe's 65.8 %
        // (data/zoo/vision/README.md says so); every other task must beat the probe, and the average by 5 points.
        var m = ZooManifest.Load(ZooPaths.Vision);
        var behind = m.Tasks.Where(t => t.Accuracy!.FineTunedTest <= t.Accuracy!.LinearProbeTest).Select(t => t.Name).ToList();
        CollectionAssert.AreEqual(new[] { "fashion" }, behind, "tasks whose fine-tuned model does not beat the linear probe");
        double gap = m.Tasks.Average(t => t.Accuracy!.FineTunedTest - t.Accuracy!.LinearProbeTest);
        Assert.IsGreaterThan(0.05, gap, $"average fine-tuned − probe {gap:P1}");
    }

    [TestMethod]
    public void FineTunedBeatsBaseOnEveryTask()
    {
        // Fast subset: the first 200 test examples of each task, base encoder vs fine-tuned encoder under the task's own head
        // (the lower and upper bounds of docs/methods/evaluation-protocols.md).
        string dir = ZooPaths.Vision;
        var m = ZooManifest.Load(dir);
        double gainSum = 0;
        foreach (var t in m.Tasks)
        {
            var test = ZooManifest.LoadSplit(dir, t, t.Test);
            var subset = test.Subset(Enumerable.Range(0, Math.Min(200, test.Count)).ToArray());
            var (baseEnc, head) = Load(dir, m, m.Base, t);
            var (ftEnc, _) = Load(dir, m, t.Checkpoint, t);
            double baseAcc = VisionZooBuilder.Accuracy(baseEnc, head, subset), ftAcc = VisionZooBuilder.Accuracy(ftEnc, head, subset);
            Assert.IsTrue(ftAcc > baseAcc, $"{t.Name}: fine-tuned {ftAcc:P1} vs base {baseAcc:P1}");
            gainSum += ftAcc - baseAcc;
        }
        Assert.IsTrue(gainSum / m.Tasks.Count > 0.05, $"mean gain {gainSum / m.Tasks.Count:P1}");
    }

    [TestMethod]
    [TestCategory("slow")]
    public void StoredAccuraciesReproduce()
    {
        string dir = ZooPaths.Vision;
        var m = ZooManifest.Load(dir);
        foreach (var t in m.Tasks)
        {
            var test = ZooManifest.LoadSplit(dir, t, t.Test);
            var (ftEnc, head) = Load(dir, m, t.Checkpoint, t);
            Assert.AreEqual(t.Accuracy!.FineTunedTest, VisionZooBuilder.Accuracy(ftEnc, head, test), 1e-9, t.Name);
            var (baseEnc, _) = Load(dir, m, m.Base, t);
            Assert.AreEqual(t.Accuracy!.BaseTest, VisionZooBuilder.Accuracy(baseEnc, head, test), 1e-9, t.Name);
        }
    }

    [TestMethod]
    [TestCategory("slow")]
    public void TinyBuildIsDeterministic()
    {
        if (!File.Exists(Path.Combine(VisionZooSources.DefaultFashionDirectory, "train-images-idx3-ubyte.gz"))
            || !File.Exists(Path.Combine(VisionZooSources.DefaultSklearnDirectory, "digits.csv.gz")))
            Assert.Inconclusive("dataset-fashion-mnist / python3-sklearn are not installed.");
        var options = new VisionZooBuildOptions
        {
            Sizes = new VisionZooTasks.SplitSizes(FashionTrain: 120, FashionValidation: 60, FashionTest: 60, DigitsValidationFraction: 0.1, DigitsTestFraction: 0.85),
            PretrainExamples = 64, PretrainEpochs = 1, FineTuneEpochs = 1, ScaleGrid = [0.3],
        };
        string a = Path.Combine(Path.GetTempPath(), "mlnetmerge-zoo-" + Guid.NewGuid().ToString("N"));
        string b = a + "-again";
        try
        {
            VisionZooBuilder.Build(a, options);
            VisionZooBuilder.Build(b, options);
            foreach (var f in new[] { "base.safetensors", "fashion.safetensors", "digits_parity.safetensors", "fashion_rot90/test_images.npy" })
                CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(a, f)), File.ReadAllBytes(Path.Combine(b, f)), f);
        }
        finally
        {
            if (Directory.Exists(a)) Directory.Delete(a, true);
            if (Directory.Exists(b)) Directory.Delete(b, true);
        }
    }
}
