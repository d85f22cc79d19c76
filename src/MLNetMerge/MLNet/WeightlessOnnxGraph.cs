using Google.Protobuf;
using MLNetMerge.Checkpoints.Onnx;
using MLNetMerge.Export;
using MLNetMerge.Checkpoints.Onnx.Protobuf;

namespace MLNetMerge.MLNet;

/// <summary>
/// A model with a given signature and no weights: every output is <c>ConstantOfShape</c> of zeros whose symbolic axes
/// are read from the first input's shape at the same axis (else 1). ONNX Runtime accepts it and reports the declared
/// inputs and outputs, which is all an OnnxTransformer needs to answer <c>GetOutputSchema</c>; its values are never used.
/// </summary>
internal static class WeightlessOnnxGraph
{
    /// <summary>Serializes the weightless model of <paramref name="signature"/> (opset 17).</summary>
    /// <exception cref="ArgumentException">A signature without inputs or outputs.</exception>
    public static byte[] Build(OnnxSignature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        if (signature.Inputs.Count == 0 || signature.Outputs.Count == 0)
            throw new ArgumentException("a weightless ONNX graph needs at least one input and one output.", nameof(signature));
        var g = new OnnxGraphBuilder();
        foreach (var input in signature.Inputs) g.Graph.Input.Add(Declare(input));
        var first = signature.Inputs[0];
        string shape = g.Node("Shape", [first.Name]);
        foreach (var output in signature.Outputs)
        {
            var pieces = new string[output.Dims.Length];
            for (int axis = 0; axis < output.Dims.Length; axis++)
                pieces[axis] = output.Dims[axis] >= 0 || axis >= first.Dims.Length
                    ? g.Int64s(Math.Max(output.Dims[axis], 1))
                    : g.Node("Slice", [shape, g.Int64s(axis), g.Int64s(axis + 1)]);
            string dims = pieces.Length == 0 ? g.Int64s() : pieces.Length == 1 ? pieces[0] : g.Node("Concat", pieces, OnnxGraphBuilder.Int("axis", 0));
            string value = g.Node("ConstantOfShape", [dims], Zero(output.Type));
            g.Rename(value, output.Name);
            g.Graph.Output.Add(Declare(output));
        }
        var model = new ModelProto { IrVersion = OnnxExporter.IrVersion, ProducerName = "MLNetMerge", ProducerVersion = OnnxFormat.ProducerVersion, Graph = g.Graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxExporter.Opset });
        return model.ToByteArray();
    }

    private static ValueInfoProto Declare(OnnxTensorSpec spec)
    {
        object[] dims = [.. spec.Dims.Select((d, i) => d >= 0 ? (object)d : i == 0 ? "batch" : $"d{i}")];
        return spec.Type == OnnxElementType.Int64 ? OnnxGraphBuilder.Int64Value(spec.Name, dims) : OnnxGraphBuilder.FloatValue(spec.Name, dims);
    }

    private static AttributeProto Zero(OnnxElementType type)
    {
        var t = new TensorProto { DataType = (int)type, RawData = ByteString.CopyFrom(new byte[type == OnnxElementType.Int64 ? 8 : 4]) };
        t.Dims.Add(1);
        return new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = t };
    }
}
