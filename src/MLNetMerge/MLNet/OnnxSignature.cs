using MLNetMerge.Checkpoints.Onnx.Protobuf;

namespace MLNetMerge.MLNet;

/// <summary>Element types a graph input or output of an exported model can have (values are ONNX's <c>TensorProto.DataType</c>).</summary>
internal enum OnnxElementType
{
    /// <summary>float32.</summary>
    Float = 1,

    /// <summary>int64 (token ids, attention masks).</summary>
    Int64 = 7,
}

/// <summary>One graph input or output: name, element type and dimensions (−1 for a symbolic axis such as the batch).</summary>
internal sealed record OnnxTensorSpec(string Name, OnnxElementType Type, long[] Dims)
{
    /// <summary>Number of values per row as ML.NET sees it: the product of the dimensions, symbolic ones counted as 1.</summary>
    public int RowSize => checked((int)Dims.Aggregate(1L, (a, d) => a * Math.Max(d, 1)));
}

/// <summary>The inputs and outputs of an ONNX model: what ML.NET's OnnxTransformer needs to type its columns.</summary>
internal sealed record OnnxSignature(IReadOnlyList<OnnxTensorSpec> Inputs, IReadOnlyList<OnnxTensorSpec> Outputs)
{
    /// <summary>Reads the graph inputs (initializers excluded) and outputs of a serialized model.</summary>
    /// <exception cref="ArgumentException">Not a model, or an input/output that is not a float32 or int64 tensor.</exception>
    public static OnnxSignature Read(byte[] onnx)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        var model = Checkpoints.Onnx.OnnxModelFile.TryParse(() => ModelProto.Parser.ParseFrom(onnx), out var malformed)
            ?? throw new ArgumentException($"the {onnx.Length} bytes given are not an ONNX model: {malformed!.Message}", nameof(onnx), malformed);
        if (model.Graph is null) throw new ArgumentException("the ONNX model has no graph.", nameof(onnx));
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        return new OnnxSignature(
            [.. model.Graph.Input.Where(v => !initializers.Contains(v.Name)).Select(Spec)],
            [.. model.Graph.Output.Select(Spec)]);
    }

    private static OnnxTensorSpec Spec(ValueInfoProto v)
    {
        var tensor = v.Type?.TensorType ?? throw new ArgumentException($"ONNX value '{v.Name}' is not a tensor; ML.NET's OnnxTransformer takes tensors only.");
        var type = tensor.ElemType switch
        {
            (int)OnnxElementType.Float => OnnxElementType.Float,
            (int)OnnxElementType.Int64 => OnnxElementType.Int64,
            _ => throw new ArgumentException($"ONNX value '{v.Name}' has element type {tensor.ElemType}; expected float32 (1) or int64 (7)."),
        };
        long[] dims = tensor.Shape is null ? [] : [.. tensor.Shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : -1)];
        return new OnnxTensorSpec(v.Name, type, dims);
    }
}
