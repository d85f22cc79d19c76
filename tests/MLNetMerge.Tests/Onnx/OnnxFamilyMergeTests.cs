using Google.Protobuf;
using MLNetMerge.Checkpoints;
using MLNetMerge.Checkpoints.Onnx;
using MLNetMerge.Checkpoints.Onnx.Protobuf;
using MLNetMerge.Recipes;
using static MLNetMerge.Tests.Onnx.OnnxCheckpointReaderTests;

namespace MLNetMerge.Tests.Onnx;

[TestClass]
public sealed class OnnxFamilyMergeTests
{
    private static string Recipe(string method, string ext, string output, string parameters, string? baseName = null, string? taskA = null) =>
        $"method: {method}\n" +
        $"base: \"{Fixture((baseName ?? "base") + ext)}\"\n" +
        "models:\n" +
        $"  - {{ name: task_a, path: \"{Fixture((taskA ?? "task_a") + ext)}\" }}\n" +
        $"  - {{ name: task_b, path: \"{Fixture("task_b" + ext)}\" }}\n" +
        $"parameters: {parameters}\n" +
        $"output: \"{output}\"\n";

    [TestMethod]
    [DataRow("task_arithmetic", "{ scale: 0.7 }")]
    [DataRow("ties", "{ keep: 0.4, scale: 1.0 }")]
    [DataRow("weight_average", "{ }")]
    public void OnnxFamilyMergesToTheSameNumbersAsSafetensors(string method, string parameters)
    {
        string dir = Directory.CreateTempSubdirectory("onnx-merge-").FullName;
        try
        {
            string viaOnnx = Path.Combine(dir, "onnx"), viaSt = Path.Combine(dir, "st");
            RecipeRunner.Merge(MergeRecipe.Parse(Recipe(method, ".onnx", viaOnnx, parameters), "onnx.yaml"));
            RecipeRunner.Merge(MergeRecipe.Parse(Recipe(method, ".safetensors", viaSt, parameters), "st.yaml"));

            using var a = CheckpointReader.Open(viaOnnx);
            using var b = CheckpointReader.Open(viaSt);
            using var mergedOnnx = OnnxCheckpointReader.Open(Path.Combine(viaOnnx, "model.onnx"));
            using var baseOnnx = OnnxCheckpointReader.Open(Fixture("base.onnx"));
            Assert.AreEqual(b.Tensors.Count, a.Tensors.Count);
            int changed = 0;
            foreach (var t in b.Tensors)
            {
                float[] expected = Read(b, t.Name);
                CollectionAssert.AreEqual(expected, Read(a, t.Name), $"{t.Name}: model.safetensors");
                CollectionAssert.AreEqual(expected, Read(mergedOnnx, t.Name), $"{t.Name}: model.onnx initializer");
                if (!expected.SequenceEqual(Read(baseOnnx, t.Name))) changed++;
            }
            Assert.AreEqual(6, changed, "every body tensor was merged away from the base (heads are per task)");

            // Same graph as the base: only initializer values differ.
            var g0 = baseOnnx.Model.Graph.Clone();
            var g1 = mergedOnnx.Model.Graph.Clone();
            g0.Initializer.Clear();
            g1.Initializer.Clear();
            Assert.AreEqual(g0, g1);

            // Each task's file: merged body, its own head.
            using var taskA = OnnxCheckpointReader.Open(Path.Combine(viaOnnx, "tasks", "task_a.onnx"));
            using var headA = OnnxCheckpointReader.Open(Fixture("task_a.onnx"));
            CollectionAssert.AreEqual(Read(headA, "classifier.weight"), Read(taskA, "classifier.weight"));
            CollectionAssert.AreEqual(Read(b, "fc1.weight"), Read(taskA, "fc1.weight"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void PerTaskMethodWritesEachTasksOwnWeights()
    {
        // EMR: model.onnx holds the unified weights θ0 + τuni; tasks/{task}.onnx must hold θ̂t = θ0 + γt (Mt ⊙ τuni), the same
        // numbers as the safetensors path's materialized tasks/{task}.safetensors.
        string dir = Directory.CreateTempSubdirectory("onnx-merge-").FullName;
        try
        {
            string viaOnnx = Path.Combine(dir, "onnx"), viaSt = Path.Combine(dir, "st");
            RecipeRunner.Merge(MergeRecipe.Parse(Recipe("emr", ".onnx", viaOnnx, "{ }"), "onnx.yaml"));
            RecipeRunner.Merge(MergeRecipe.Parse(Recipe("emr", ".safetensors", viaSt, "{ }"), "st.yaml"), new RecipeRunOptions { Materialize = ["task_a", "task_b"] });
            foreach (var task in new[] { "task_a", "task_b" })
            {
                using var expected = SafetensorsReader.Open(Path.Combine(viaSt, "tasks", task + ".safetensors"));
                using var got = OnnxCheckpointReader.Open(Path.Combine(viaOnnx, "tasks", task + ".onnx"));
                using var unified = OnnxCheckpointReader.Open(Path.Combine(viaOnnx, "model.onnx"));
                int differ = 0;
                foreach (var t in expected.Tensors)
                {
                    CollectionAssert.AreEqual(Read(expected, t.Name), Read(got, t.Name), $"{task}: {t.Name}");
                    if (!Read(expected, t.Name).SequenceEqual(Read(unified, t.Name))) differ++;
                }
                Assert.IsGreaterThan(0, differ, "task weights are not the unified ones");
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void ADifferentGraphIsRefusedNamingTheFirstDifference()
    {
        string dir = Directory.CreateTempSubdirectory("onnx-merge-").FullName;
        try
        {
            string output = Path.Combine(dir, "out");
            var e = Assert.ThrowsExactly<IncompatibleModelsException>(() =>
                RecipeRunner.Merge(MergeRecipe.Parse(Recipe("task_arithmetic", ".onnx", output, "{ scale: 1.0 }", taskA: "other_graph"))));
            // base: Gemm, Constant (GELU's √2), ...; other_graph: Gemm, Relu, ...
            StringAssert.Contains(e.Message, "node 1");
            StringAssert.Contains(e.Message, "'Relu'");
            StringAssert.Contains(e.Message, "'Constant'");
            Assert.AreEqual(Fixture("other_graph.onnx"), e.File);
            Assert.IsFalse(Directory.Exists(output));
            Assert.AreEqual(0, Directory.GetFileSystemEntries(dir).Length, "nothing written");
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void AnInitializerWithAnotherShapeIsRefused()
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixture("task_a.onnx")));
        var fc2 = model.Graph.Initializer.Single(t => t.Name == "fc2.bias");
        fc2.Dims[0] = 8;
        fc2.RawData = ByteString.CopyFrom(fc2.RawData.Span[..32]);
        string dir = Directory.CreateTempSubdirectory("onnx-merge-").FullName;
        try
        {
            string path = Path.Combine(dir, "task_a.onnx");
            File.WriteAllBytes(path, model.ToByteArray());
            using var b = OnnxCheckpointReader.Open(Fixture("base.onnx"));
            using var o = OnnxCheckpointReader.Open(path);
            var e = Assert.ThrowsExactly<IncompatibleModelsException>(() => OnnxFamilyCheck.Check(b, o, new HeadFilter(HeadFilter.DefaultPattern)));
            Assert.AreEqual("fc2.bias", e.Tensor);
            StringAssert.Contains(e.Message, "[8]");
            StringAssert.Contains(e.Message, "[16]");
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void AnUnsupportedOperatorIsRefusedAndNothingIsWritten()
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixture("task_a.onnx")));
        model.Graph.Node[0].OpType = "QLinearMatMul";
        string dir = Directory.CreateTempSubdirectory("onnx-merge-").FullName;
        try
        {
            string bad = Path.Combine(dir, "quantized.onnx");
            File.WriteAllBytes(bad, model.ToByteArray());
            string output = Path.Combine(dir, "out");
            string yaml = $"method: task_arithmetic\nbase: \"{Fixture("base.onnx")}\"\nmodels:\n  - {{ name: q, path: \"{bad}\" }}\noutput: \"{output}\"\n";
            var e = Assert.ThrowsExactly<UnsupportedOnnxModelException>(() => RecipeRunner.Merge(MergeRecipe.Parse(yaml)));
            StringAssert.Contains(e.Message, "node 0");
            StringAssert.Contains(e.Message, "QLinearMatMul");
            Assert.AreEqual(bad, e.File);
            Assert.IsFalse(Directory.Exists(output));
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void AnIntegerConstantThatDiffersIsRefused()
    {
        // A Reshape's target shape changed in one model (8 heads for 4) merged without a word, and the outputs carried the
        // base's constants: another function (found by a structure-aware fuzz trial).
        string dir = Directory.CreateTempSubdirectory("onnx-merge-").FullName;
        try
        {
            string With(string name, long[] shape)
            {
                var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixture(name + ".onnx")));
                var t = new TensorProto { Name = "target_shape", DataType = (int)TensorProto.Types.DataType.Int64, RawData = ByteString.CopyFrom(shape.SelectMany(BitConverter.GetBytes).ToArray()) };
                t.Dims.Add(shape.Length);
                model.Graph.Initializer.Add(t);
                string path = Path.Combine(dir, name + ".onnx");
                File.WriteAllBytes(path, model.ToByteArray());
                return path;
            }
            string b = With("base", [0, 0, 4, 16]), a = With("task_a", [0, 0, 8, 8]), c = With("task_b", [0, 0, 4, 16]);
            string Yaml(string output) => $"method: task_arithmetic\nbase: \"{b}\"\nmodels:\n  - {{ name: a, path: \"{a}\" }}\n  - {{ name: b, path: \"{c}\" }}\noutput: \"{output}\"\n";
            var e = Assert.ThrowsExactly<IncompatibleModelsException>(() => RecipeRunner.Merge(MergeRecipe.Parse(Yaml(Path.Combine(dir, "out")))));
            Assert.AreEqual(a, e.File);
            Assert.AreEqual("target_shape", e.Tensor);
            StringAssert.Contains(e.Message, "the integer constant is [0, 0, 8, 8] here but [0, 0, 4, 16] in the base");
            Assert.IsFalse(Directory.Exists(Path.Combine(dir, "out")));
            With("task_a", [0, 0, 4, 16]);
            RecipeRunner.Merge(MergeRecipe.Parse(Yaml(Path.Combine(dir, "same"))));
            Assert.IsTrue(File.Exists(Path.Combine(dir, "same", "model.onnx")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void ANarrowerDtypeIsRefusedForOnnxOutputsAndNothingIsWritten()
    {
        // model.onnx keeps its float32 initializers and was written from the float16 safetensors: every value rounded
        // through float16 (a bfloat16 initializer got ±inf and 0; found by a number-format trial).
        string dir = Directory.CreateTempSubdirectory("onnx-merge-").FullName;
        try
        {
            foreach (string dtype in new[] { "float16", "bfloat16" })
            {
                string output = Path.Combine(dir, "out_" + dtype);
                var e = Assert.ThrowsExactly<RecipeException>(() => RecipeRunner.Merge(MergeRecipe.Parse(Recipe("task_arithmetic", ".onnx", output, "{ scale: 0.5 }") + $"dtype: {dtype}\n")));
                StringAssert.Contains(e.Message, $"dtype {dtype} cannot apply to ONNX models: model.onnx and tasks/*.onnx keep each initializer's type (initializer '");
                StringAssert.Contains(e.Message, "is float32) and would hold values rounded to " + dtype);
                Assert.IsFalse(Directory.Exists(output));
            }
            // float32 rounds nothing the outputs keep.
            string kept = Path.Combine(dir, "out_float32");
            RecipeRunner.Merge(MergeRecipe.Parse(Recipe("task_arithmetic", ".onnx", kept, "{ scale: 0.5 }") + "dtype: float32\n"));
            Assert.IsTrue(File.Exists(Path.Combine(kept, "model.onnx")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void ATruncatedModelInAFamilyIsATypedErrorAndNothingIsWritten()
    {
        string dir = Directory.CreateTempSubdirectory("onnx-merge-").FullName;
        try
        {
            string model = Path.Combine(dir, "cut.onnx");
            var bytes = File.ReadAllBytes(Fixture("task_b.onnx"));
            File.WriteAllBytes(model, bytes[..(bytes.Length / 2)]);
            string output = Path.Combine(dir, "out");
            string yaml = $"method: ties\nbase: \"{Fixture("base.onnx")}\"\nmodels:\n  - {{ name: a, path: \"{Fixture("task_a.onnx")}\" }}\n  - {{ name: b, path: \"{model}\" }}\noutput: \"{output}\"\n";
            var e = Assert.ThrowsExactly<CheckpointFormatException>(() => RecipeRunner.Merge(MergeRecipe.Parse(yaml)));
            Assert.AreEqual(model, e.File);
            StringAssert.Contains(e.Message, "truncated or malformed");
            Assert.AreEqual(1, Directory.GetFileSystemEntries(dir).Length, "nothing written besides the input");
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void MissingExternalDataInAFamilyIsATypedErrorAndNothingIsWritten()
    {
        string dir = Directory.CreateTempSubdirectory("onnx-merge-").FullName;
        try
        {
            string model = Path.Combine(dir, "external.onnx");
            File.Copy(Fixture("external.onnx"), model);
            string output = Path.Combine(dir, "out");
            string yaml = $"method: task_arithmetic\nbase: \"{Fixture("base.onnx")}\"\nmodels:\n  - {{ name: a, path: \"{model}\" }}\noutput: \"{output}\"\n";
            var e = Assert.ThrowsExactly<CheckpointFormatException>(() => RecipeRunner.Merge(MergeRecipe.Parse(yaml)));
            StringAssert.Contains(e.Message, "external.onnx.data");
            Assert.AreEqual(model, e.File);
            Assert.IsFalse(Directory.Exists(output));
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void WritingWithExternalDataRoundTrips()
    {
        string dir = Directory.CreateTempSubdirectory("onnx-ext-").FullName;
        try
        {
            using var src = OnnxCheckpointReader.Open(Fixture("task_b.onnx"));
            string path = Path.Combine(dir, "big.onnx");
            var files = OnnxInitializerWriter.Write(src, src, path, options: new OnnxWriteOptions { ExternalDataThresholdBytes = 0, ExternalDataMinimumBytes = 64 });
            CollectionAssert.AreEqual(new[] { path, path + ".data" }, files.ToArray());
            using var back = OnnxCheckpointReader.Open(path);
            foreach (var t in src.Tensors)
            {
                Assert.IsTrue(back.TryGetTensor(t.Name, out var b));
                bool external = t.ByteLength >= 64;
                Assert.AreEqual(external ? path + ".data" : path, b.File, t.Name);
                if (external) Assert.AreEqual(0L, b.Offset % 4096, "aligned offsets");
                CollectionAssert.AreEqual(Read(src, t.Name), Read(back, t.Name), t.Name);
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}
