using Google.Protobuf;
using MLNetMerge.Checkpoints.Onnx.Protobuf;
using static MLNetMerge.Tests.Onnx.OnnxCheckpointReaderTests;

namespace MLNetMerge.Tests.Onnx;

/// <summary>The project's onnx.proto against files written by onnx's own (proto2, C++) serializer.</summary>
[TestClass]
public sealed class OnnxProtoTests
{
    [TestMethod]
    [DataRow("base.onnx")]
    [DataRow("other_graph.onnx")]
    [DataRow("external.onnx")]
    [DataRow("typed_fields.onnx")]
    public void ParsingAndWritingBackReproducesTheBytes(string file)
    {
        // Same field numbers, same wire types and the same packing (dims/ints unpacked, typed data packed) as onnx.proto:
        // every field of these files is known to our subset (nothing kept as unknown), so the bytes come back identical.
        byte[] bytes = File.ReadAllBytes(Fixture(file));
        var model = ModelProto.Parser.ParseFrom(bytes);
        CollectionAssert.AreEqual(bytes, model.ToByteArray());
    }

    [TestMethod]
    public void FieldsOfTheTorchExportLandWhereOnnxPutsThem()
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixture("base.onnx")));
        Assert.AreEqual(8L, model.IrVersion);
        Assert.AreEqual("pytorch", model.ProducerName);
        Assert.AreEqual(17L, model.OpsetImport.Single().Version);
        var gemm = model.Graph.Node[0];
        Assert.AreEqual("Gemm", gemm.OpType);
        CollectionAssert.AreEqual(new[] { "x", "fc1.weight", "fc1.bias" }, gemm.Input.ToArray());
        var ln = model.Graph.Node.Single(n => n.OpType == "LayerNormalization");
        var eps = ln.Attribute.Single(a => a.Name == "epsilon");
        Assert.AreEqual(AttributeProto.Types.AttributeType.Float, eps.Type);
        Assert.AreEqual(1e-5f, eps.F);
        var x = model.Graph.Input.Single();
        Assert.AreEqual("batch", x.Type.TensorType.Shape.Dim[0].DimParam);
        Assert.AreEqual(8L, x.Type.TensorType.Shape.Dim[1].DimValue);
        var w = model.Graph.Initializer.Single(t => t.Name == "fc1.weight");
        CollectionAssert.AreEqual(new long[] { 16, 8 }, w.Dims.ToArray());
        Assert.AreEqual((int)TensorProto.Types.DataType.Float, w.DataType);
        Assert.AreEqual(16 * 8 * 4, w.RawData.Length);
    }
}
