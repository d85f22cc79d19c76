using MLNetMerge.Checkpoints;
using MLNetMerge.Checkpoints.Onnx;
using static MLNetMerge.Tests.Onnx.OnnxCheckpointReaderTests;

namespace MLNetMerge.Tests.Onnx;

[TestClass]
public sealed class OnnxFamilyCatalogTests
{
    [TestMethod]
    public void LibraryPathMergesOnnxLikeSafetensorsAndWritesOnnx()
    {
        var ctx = new MergeContext(seed: 0);
        using var onnxFamily = ctx.Model.LoadOnnxFamily(Fixture("base.onnx"), ("task_a", Fixture("task_a.onnx")), ("task_b", Fixture("task_b.onnx")));
        using var stFamily = ctx.Model.LoadFamily(Fixture("base.safetensors"), ("task_a", Fixture("task_a.safetensors")), ("task_b", Fixture("task_b.safetensors")));
        var fromOnnx = ctx.Merging.Ties(0.4, 1.0).Fit(onnxFamily);
        var fromSt = ctx.Merging.Ties(0.4, 1.0).Fit(stFamily);
        Assert.AreEqual(6, fromSt.Tensors.Count);
        foreach (var (name, values) in fromSt.Tensors) CollectionAssert.AreEqual(values, fromOnnx.Tensors[name], name);

        string dir = Directory.CreateTempSubdirectory("onnx-save-").FullName;
        try
        {
            string merged = Path.Combine(dir, "merged.onnx"), taskB = Path.Combine(dir, "task_b.onnx");
            ctx.Model.SaveAsOnnx(fromOnnx, Fixture("base.onnx"), merged);
            ctx.Model.SaveAsOnnx(fromOnnx, Fixture("task_b.onnx"), taskB, task: "task_b");
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
    public void LoadOnnxFamilyRefusesADifferentGraph()
    {
        var ctx = new MergeContext(seed: 0);
        var e = Assert.ThrowsExactly<IncompatibleModelsException>(() =>
            ctx.Model.LoadOnnxFamily(Fixture("base.onnx"), ("a", Fixture("task_a.onnx")), ("o", Fixture("other_graph.onnx"))));
        StringAssert.Contains(e.Message, "node 1");
        Assert.AreEqual(Fixture("other_graph.onnx"), e.File);
    }
}
