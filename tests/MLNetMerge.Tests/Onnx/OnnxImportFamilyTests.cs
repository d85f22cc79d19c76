using Google.Protobuf;
using MLNetMerge.Checkpoints;
using MLNetMerge.Checkpoints.Onnx;
using MLNetMerge.Checkpoints.Onnx.Import;
using MLNetMerge.Checkpoints.Onnx.Protobuf;
using MLNetMerge.Recipes;
using MLNetMerge.Tests.Nn;

namespace MLNetMerge.Tests.Onnx;

/// <summary>
/// Recipes and families that name torch-exported ONNX encoders directly: the family is seen under Hugging Face names,
/// the merge is written as HF-named safetensors, and the ONNX outputs carry the merged values back into the anonymous,
/// transposed initializers (re-importing them gives the merged safetensors bit for bit).
/// </summary>
[TestClass]
public sealed class OnnxImportFamilyTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "import", name + ".onnx");

    /// <summary>The BERT export with every float initializer shifted by a seeded perturbation (a fine-tuned copy).</summary>
    private static string Task(string dir, string name, int seed)
    {
        var model = OnnxModelFile.Load(Fixture("bert"));
        var rng = new Random(seed);
        foreach (var t in model.Graph.Initializer.Where(t => t.DataType == (int)TensorProto.Types.DataType.Float))
        {
            var v = new float[t.RawData.Length / 4];
            Buffer.BlockCopy(t.RawData.ToByteArray(), 0, v, 0, t.RawData.Length);
            for (int i = 0; i < v.Length; i++) v[i] += (float)(rng.NextDouble() - 0.5) * 0.02f;
            var bytes = new byte[t.RawData.Length];
            Buffer.BlockCopy(v, 0, bytes, 0, bytes.Length);
            t.RawData = ByteString.CopyFrom(bytes);
        }
        string path = Path.Combine(dir, name + ".onnx");
        OnnxModelFile.Save(model, path);
        return path;
    }

    private static float[] Floats(ICheckpointReader r, string name)
    {
        Assert.IsTrue(r.TryGetTensor(name, out var t), $"{r.Path}: {name} missing");
        var v = new float[t.ElementCount];
        r.ReadFloat32(t, v);
        return v;
    }

    [TestMethod]
    public void Recipe_OnTorchExports_MergesUnderHfNames_AndWritesBackIntoTheGraph()
    {
        string dir = Directory.CreateTempSubdirectory("onnx-import-family-").FullName;
        try
        {
            string a = Task(dir, "task_a", 1), b = Task(dir, "task_b", 2), output = Path.Combine(dir, "merged");
            string yaml = $"method: task_arithmetic\nbase: \"{Fixture("bert")}\"\nmodels:\n  - {{ name: a, path: \"{a}\" }}\n  - {{ name: b, path: \"{b}\" }}\n"
                          + $"parameters: {{ scale: 0.5 }}\noutput: \"{output}\"\n";
            RecipeRunner.Merge(MergeRecipe.Parse(yaml));
            using var merged = SafetensorsReader.Open(Path.Combine(output, "model.safetensors"));
            var theta0 = TorchEncoderImporter.Import(Fixture("bert")).Tensors;
            var ta = TorchEncoderImporter.Import(a).Tensors;
            var tb = TorchEncoderImporter.Import(b).Tensors;
            // θ = θ0 + 0.5 (τa + τb), on the HF-named [out, in] weight of a square Linear and on a bias.
            foreach (var name in new[] { "encoder.layer.0.attention.self.query.weight", "encoder.layer.1.intermediate.dense.weight", "encoder.layer.0.output.dense.bias" })
            {
                float[] m = Floats(merged, name), z = Floats(theta0, name), x = Floats(ta, name), y = Floats(tb, name);
                for (int i = 0; i < m.Length; i++)
                    Assert.AreEqual(z[i] + 0.5f * ((x[i] - z[i]) + (y[i] - z[i])), m[i], 1e-6f, $"{name}[{i}]");
            }
            // model.onnx re-imports to exactly the merged safetensors: every weight went back into its initializer, transposed.
            var back = TorchEncoderImporter.Import(Path.Combine(output, "model.onnx")).Tensors;
            foreach (var t in merged.Tensors.Where(t => t.DType == Tensors.DType.F32))
                CollectionAssert.AreEqual(Floats(merged, t.Name), Floats(back, t.Name), t.Name);
            // The output describes itself: the import's config.json beside the merged weights, every file in the manifest.
            Assert.AreEqual(TorchEncoderImporter.Import(Fixture("bert")).ConfigJson() + "\n", File.ReadAllText(Path.Combine(output, "config.json")));
            using var manifest = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "manifest.json")));
            var files = manifest.RootElement.GetProperty("files").EnumerateArray().Select(f => f.GetString()).ToList();
            CollectionAssert.IsSubsetOf(new[] { "model.safetensors", "model.onnx", "config.json" }, files);
            Assert.AreEqual("config.json", manifest.RootElement.GetProperty("config").GetString());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [TestMethod]
    public void LoadOnnxFamily_OnTorchExports_SeesHfNames()
    {
        string dir = Directory.CreateTempSubdirectory("onnx-import-family-").FullName;
        try
        {
            string a = Task(dir, "task_a", 1);
            using var loaded = new Microsoft.ML.MLContext(seed: 0).Merging().LoadFamily(Fixture("bert"), [("a", a)]);
            var family = loaded.Family;
            Assert.IsTrue(family.Base.TryGetTensor("encoder.layer.0.attention.self.query.weight", out var q));
            CollectionAssert.AreEqual(new[] { 24, 24 }, q.Shape);
            Assert.IsFalse(family.Base.Tensors.Any(t => t.Name.StartsWith("onnx::", StringComparison.Ordinal)));
            using var reference = EngineReference.Weights("bert");
            CollectionAssert.AreEqual(Floats(reference, "encoder.layer.0.intermediate.dense.weight"), Floats(family.Base, "encoder.layer.0.intermediate.dense.weight"));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
