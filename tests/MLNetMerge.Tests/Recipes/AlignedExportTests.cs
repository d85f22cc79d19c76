using System.Text.Json;
using MLNetMerge.Data;
using MLNetMerge.Recipes;
using MLNetMerge.Tests.MLNet;
using MLNetMerge.Tests.Safety;

namespace MLNetMerge.Tests.Recipes;

/// <summary>A recipe's <c>export:</c> and <c>mlnetmerge export</c> write the merge after its alignment stage: the graphs
/// run what the stage learned (here Representation Surgery's module before the frozen head), as the engine does.</summary>
[TestClass]
public sealed class AlignedExportTests
{
    private string _dir = null!;

    [TestInitialize]
    public void Init() => _dir = Directory.CreateTempSubdirectory("mlnm-aligned-export-").FullName;

    [TestCleanup]
    public void Cleanup()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private string Recipe(string stages, string export)
    {
        string zoo = ZooPaths.Vision;
        string path = Path.Combine(_dir, "recipe.yaml");
        File.WriteAllText(path, $$"""
            method: task_arithmetic
            base: {{Path.Combine(zoo, "base.safetensors")}}
            models:
              - { name: fashion, path: {{Path.Combine(zoo, "fashion.safetensors")}} }
              - { name: digits, path: {{Path.Combine(zoo, "digits.safetensors")}} }
              - { name: fashion_tops, path: {{Path.Combine(zoo, "fashion_tops.safetensors")}} }
            heads: "classifier.*"
            parameters: { scale: 0.3 }
            seed: 7
            align:
              data: { zoo: {{zoo}}, split: test, samples: 64 }
              stages: [ {{stages}} ]
            export: {{export}}
            """);
        return path;
    }

    private static float[] Softmax(float[] logits, int k)
    {
        var p = new float[logits.Length];
        for (int r = 0; r < logits.Length / k; r++)
        {
            var row = logits.AsSpan(r * k, k);
            float max = row.ToArray().Max();
            double sum = 0;
            for (int j = 0; j < k; j++) sum += Math.Exp(row[j] - max);
            for (int j = 0; j < k; j++) p[r * k + j] = (float)(Math.Exp(row[j] - max) / sum);
        }
        return p;
    }

    private static float[] Run(string onnx, string output, TaskDataset data) =>
        OnnxRuntimeDirect.Run(File.ReadAllBytes(onnx), new Dictionary<string, (float[], int[])>
        { ["pixel_values"] = (data.Features, [data.Count, .. data.FeatureShape]) })[output];

    [TestMethod]
    public void RecipeExport_RunsTheStageAsTheEngine_AndTheCliExportsTheSavedStageToTheSameBytes()
    {
        string onnx = Path.Combine(_dir, "onnx"), output = Path.Combine(_dir, "out");
        string recipe = Recipe("{ method: surgery, parameters: { rank: 4, steps: 20 } }", $"{{ onnx: {onnx}, per_task: true, multi_head: true }}");
        var result = RecipeRunner.Run(MergeRecipe.Load(recipe), new RecipeRunOptions { Output = output });
        var stage = result.Aligned.Single();
        var data = ZooPaths.VisionTest("fashion", 16);
        int k = data.ClassNames.Count;
        var expected = stage.PredictProbabilities("fashion", data);
        double perTask = OnnxRuntimeDirect.MaxAbsDiff(expected, Softmax(Run(Path.Combine(onnx, "fashion.onnx"), "logits", data), k));
        double multiHead = OnnxRuntimeDirect.MaxAbsDiff(expected, Softmax(Run(Path.Combine(onnx, "model.onnx"), "logits_fashion", data), k));
        Assert.IsTrue(perTask < 1e-4 && multiHead < 1e-4, $"exported graphs differ from the stage: per task {perTask}, multi-head {multiHead}");
        var plain = EngineRuns.Predict(result.Merged!, null, "fashion", data).Probabilities;
        Assert.IsTrue(OnnxRuntimeDirect.MaxAbsDiff(expected, plain) > 1e-3, "the stage does not change the merge's probabilities here; the test would not see a missing module");
        using (var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(onnx, "manifest.json"))))
            Assert.AreEqual("surgery", manifest.RootElement.GetProperty("stage").GetString());

        // The CLI exports the saved output (merge + stage) to the same bytes; --stage none to the merge alone.
        string cli = Path.Combine(_dir, "cli"), none = Path.Combine(_dir, "none");
        CliProcess.Succeed("export", output, "-o", cli, "--multi-head");
        foreach (var f in Directory.GetFiles(onnx))
            CollectionAssert.AreEqual(File.ReadAllBytes(f), File.ReadAllBytes(Path.Combine(cli, Path.GetFileName(f))), Path.GetFileName(f));
        CliProcess.Succeed("export", output, "-o", none, "--stage", "none");
        double alone = OnnxRuntimeDirect.MaxAbsDiff(plain, Softmax(Run(Path.Combine(none, "fashion.onnx"), "logits", data), k));
        Assert.IsTrue(alone < 1e-4, $"--stage none: {alone} from the merge alone");
        using (var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(none, "manifest.json"))))
            Assert.IsFalse(manifest.RootElement.TryGetProperty("stage", out _));
        var (code, _, error) = CliProcess.Run("export", output, "-o", Path.Combine(_dir, "x"), "--stage", "adamerging");
        Assert.AreEqual(2, code, error);
        StringAssert.Contains(error, "--stage adamerging: the output saved no such stage (its stages: surgery)");
    }

    [TestMethod]
    [DataRow("{ method: surgery, parameters: { steps: 2 } }, { method: ft_classifier, parameters: { shots: 1, epochs: 1 } }", "", "export.onnx: the align section has 2 stages")]
    [DataRow("{ method: surgery, parameters: { steps: 2 } }", ", single_file: true", "export.single_file: EMR's single file")]
    [DataRow("{ method: tinting, parameters: { layer: 3, rounds: 1 } }", ", multi_head: true", "export.multi_head: the tasks run their own encoder weights (a tinted block per task)")]
    public void ExportsAStageCannotHold_AreRefusedBeforeAnythingRuns(string stages, string more, string message)
    {
        string onnx = Path.Combine(_dir, "onnx");
        string recipe = Recipe(stages, $"{{ onnx: {onnx}{more} }}");
        var e = Assert.ThrowsExactly<RecipeException>(() => RecipeRunner.Run(MergeRecipe.Load(recipe), new RecipeRunOptions()));
        StringAssert.Contains(e.Message, message);
        Assert.IsFalse(Directory.Exists(onnx));
    }
}
