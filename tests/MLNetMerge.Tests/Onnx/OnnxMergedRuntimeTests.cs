using MLNetMerge.Checkpoints;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Checkpoints.Onnx;
using MLNetMerge.Recipes;
using static MLNetMerge.Tests.Onnx.OnnxCheckpointReaderTests;

namespace MLNetMerge.Tests.Onnx;

/// <summary>
/// ONNX-in end to end: merged ONNX files written from torch.onnx.export'ed families pass onnx.checker(full_check) and
/// run in ONNX Runtime (in process) with the outputs of the fixture network computed by the engine's layers on the merged weights;
/// the torch-exported inputs themselves reproduce torch's logits.
/// </summary>
[TestClass]
[TestCategory("onnx")]
public sealed class OnnxMergedRuntimeTests
{
    /// <summary>The fixture network of tools/make_onnx_fixtures.py: h = GELU(fc1 x); h = LN(h); h = ReLU(fc2 h) + h; logits = classifier h.</summary>
    private static float[] FixtureForward(ICheckpointReader w, float[] x, int batch)
    {
        var h1 = new float[batch * 16];                                    // (B, 16)
        Linear.Forward<float>(h1, x, Read(w, "fc1.weight"), Read(w, "fc1.bias"), batch, 8, 16);
        var g = new float[batch * 16];                                     // (B, 16)
        Activation.Forward<float>(ActivationKind.GeluErf, g, h1);
        var n = new float[batch * 16];                                     // (B, 16)
        LayerNorm.Forward<float>(n, new float[batch], new float[batch], g, Read(w, "norm.weight"), Read(w, "norm.bias"), batch, 16, 1e-5);
        var h2 = new float[batch * 16];                                    // (B, 16)
        Linear.Forward<float>(h2, n, Read(w, "fc2.weight"), Read(w, "fc2.bias"), batch, 16, 16);
        var r = new float[batch * 16];                                     // (B, 16)
        Activation.Forward<float>(ActivationKind.Relu, r, h2);
        for (int i = 0; i < r.Length; i++) r[i] += n[i];
        var logits = new float[batch * 3];                                 // (B, 3)
        Linear.Forward<float>(logits, r, Read(w, "classifier.weight"), Read(w, "classifier.bias"), batch, 16, 3);
        return logits;
    }

    [TestMethod]
    public void MergedOnnxModelsRunInOnnxRuntime()
    {
        string dir = Directory.CreateTempSubdirectory("onnx-in-ort-").FullName;
        try
        {
            string output = Path.Combine(dir, "merged");
            string yaml = $"method: ties\nbase: \"{Fixture("base.onnx")}\"\nmodels:\n" +
                          $"  - {{ name: task_a, path: \"{Fixture("task_a.onnx")}\" }}\n  - {{ name: task_b, path: \"{Fixture("task_b.onnx")}\" }}\n" +
                          $"parameters: {{ keep: 0.4, scale: 1.0 }}\noutput: \"{output}\"\n";
            RecipeRunner.Merge(MergeRecipe.Parse(yaml));
            using var io = SafetensorsReader.Open(Fixture("io.safetensors"));
            float[] x = Read(io, "x");
            var cases = new OnnxTools.Cases(output);
            var input = new Dictionary<string, (float[], int[])> { ["x"] = (x, [4, 8]) };
            File.Copy(Fixture("base.onnx"), Path.Combine(output, "torch_base.onnx"));
            cases.Add("torch_base.onnx", input, new Dictionary<string, (float[], int[])> { ["logits"] = (Read(io, "logits.base"), [4, 3]) });
            using (var merged = OnnxCheckpointReader.Open(Path.Combine(output, "model.onnx")))
                cases.Add("model.onnx", input, new Dictionary<string, (float[], int[])> { ["logits"] = (FixtureForward(merged, x, 4), [4, 3]) });
            foreach (var task in new[] { "task_a", "task_b" })
            {
                using var t = OnnxCheckpointReader.Open(Path.Combine(output, "tasks", task + ".onnx"));
                cases.Add($"tasks/{task}.onnx", input, new Dictionary<string, (float[], int[])> { ["logits"] = (FixtureForward(t, x, 4), [4, 3]) });
            }
            cases.Save();
            string report = OnnxTools.CheckAll(output);
            StringAssert.Contains(report, "onnx checker: 4 passed, 0 failed");
            StringAssert.Contains(report, ": 4 passed, 0 failed");
        }
        finally { Directory.Delete(dir, true); }
    }
}
