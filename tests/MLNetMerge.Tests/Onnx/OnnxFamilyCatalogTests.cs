using Microsoft.ML;
using MLNetMerge.Checkpoints;
using MLNetMerge.Recipes;
using MLNetMerge.Checkpoints.Onnx;
using static MLNetMerge.Tests.Onnx.OnnxCheckpointReaderTests;

namespace MLNetMerge.Tests.Onnx;

[TestClass]
public sealed class OnnxFamilyCatalogTests
{
    /// <summary>An ONNX family through <c>mlContext.Merging()</c>: its merge equals the safetensors family's, and a recipe
    /// run over the ONNX files writes <c>model.onnx</c> (the base's graph, merged initializers, its own head) and
    /// <c>tasks/task_b.onnx</c> (task_b's graph and head).</summary>
    [TestMethod]
    public void LibraryPathMergesOnnxLikeSafetensorsAndWritesOnnx()
    {
        var ml = new MLContext(seed: 0);
        using var onnxFamily = ml.Merging().LoadFamily(Fixture("base.onnx"), [("task_a", Fixture("task_a.onnx")), ("task_b", Fixture("task_b.onnx"))]);
        using var stFamily = ml.Merging().LoadFamily(Fixture("base.safetensors"), [("task_a", Fixture("task_a.safetensors")), ("task_b", Fixture("task_b.safetensors"))]);
        var fromOnnx = EngineRuns.Merge(onnxFamily.Family, new TiesOptions { Keep = 0.4, Scale = 1.0 });
        var fromSt = EngineRuns.Merge(stFamily.Family, new TiesOptions { Keep = 0.4, Scale = 1.0 });
        Assert.AreEqual(6, fromSt.Tensors.Count);
        foreach (var (name, values) in fromSt.Tensors) CollectionAssert.AreEqual(values, fromOnnx.Tensors[name], name);

        string dir = Directory.CreateTempSubdirectory("onnx-save-").FullName;
        try
        {
            string output = Path.Combine(dir, "out");
            ml.Merging().RunRecipe(Recipe(dir, ("task_a", "task_a.onnx"), ("task_b", "task_b.onnx")), new RecipeOptions { Output = output });
            string merged = Path.Combine(output, "model.onnx"), taskB = Path.Combine(output, "tasks", "task_b.onnx");
            using var m = OnnxCheckpointReader.Open(merged);
            using var b = OnnxCheckpointReader.Open(taskB);
            using var baseModel = OnnxCheckpointReader.Open(Fixture("base.onnx"));
            using var taskBModel = OnnxCheckpointReader.Open(Fixture("task_b.onnx"));
            foreach (var (name, values) in fromSt.Tensors)
            {
                CollectionAssert.AreEqual(values, Read(m, name), name);
                CollectionAssert.AreEqual(values, Read(b, name), name);
            }
            CollectionAssert.AreEqual(Read(baseModel, "classifier.weight"), Read(m, "classifier.weight"), "the graph's own head");
            CollectionAssert.AreEqual(Read(taskBModel, "classifier.weight"), Read(b, "classifier.weight"), "task_b's head");
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void OnnxFamilyRefusesADifferentGraph()
    {
        string dir = Directory.CreateTempSubdirectory("onnx-graph-").FullName;
        try
        {
            var e = Assert.ThrowsExactly<IncompatibleModelsException>(() =>
                new MLContext(seed: 0).Merging().RunRecipe(Recipe(dir, ("a", "task_a.onnx"), ("o", "other_graph.onnx")), new RecipeOptions { Output = Path.Combine(dir, "out") }));
            StringAssert.Contains(e.Message, "node 1");
            Assert.AreEqual(Fixture("other_graph.onnx"), e.File);
            Assert.IsFalse(Directory.Exists(Path.Combine(dir, "out")), "nothing is written");
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>A TIES (keep 0.4, λ 1) recipe over the ONNX fixtures, written into <paramref name="dir"/>.</summary>
    private static string Recipe(string dir, params (string Name, string File)[] models)
    {
        string path = Path.Combine(dir, "recipe.yaml");
        File.WriteAllText(path, $"method: ties\nbase: {Fixture("base.onnx")}\nparameters:\n  keep: 0.4\n  scale: 1.0\nmodels:\n"
            + string.Concat(models.Select(m => $"  - name: {m.Name}\n    path: {Fixture(m.File)}\n")));
        return path;
    }
}
