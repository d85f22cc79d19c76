using Google.Protobuf;
using MLNetMerge.Checkpoints;
using MLNetMerge.Checkpoints.Onnx.Protobuf;
using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints.Onnx;

/// <summary>
/// Writes an ONNX model that is a given model's graph with some initializers replaced: the way a merged ONNX model is
/// made from its base (same nodes, inputs, outputs, opsets and metadata; merged values). Each replaced initializer keeps
/// its name, shape and element type; values from a checkpoint of another floating-point type are converted.
/// </summary>
internal static class OnnxInitializerWriter
{
    /// <summary>
    /// Writes <paramref name="outputPath"/>: <paramref name="graph"/>'s model with each initializer whose name
    /// <paramref name="nameInValues"/> maps to a tensor of <paramref name="values"/> replaced by that tensor (others keep
    /// their data). Written atomically; external data when large (see <see cref="OnnxWriteOptions"/>).
    /// </summary>
    /// <param name="graph">The model whose graph is kept.</param>
    /// <param name="values">The replacement values.</param>
    /// <param name="outputPath">The <c>.onnx</c> file to write.</param>
    /// <param name="nameInValues">Maps an initializer name to a tensor name in <paramref name="values"/>, or null to keep it; default: the same name when present.</param>
    /// <param name="options">Write options.</param>
    /// <returns>The files written.</returns>
    /// <exception cref="IncompatibleModelsException">A replacement's shape differs, or its type cannot be converted.</exception>
    public static IReadOnlyList<string> Write(OnnxCheckpointReader graph, ICheckpointReader values, string outputPath,
        Func<string, string?>? nameInValues = null, OnnxWriteOptions? options = null)
    {
        nameInValues ??= name => values.TryGetTensor(name, out _) ? name : null;
        return Write(graph, name =>
        {
            string? source = nameInValues(name);
            if (source is null) return null;
            if (!values.TryGetTensor(source, out var v))
                throw new IncompatibleModelsException(values.Path, source, $"is missing; it should replace initializer '{name}' of {graph.Path}.");
            return (values, v);
        }, outputPath, options);
    }

    /// <summary>As the public overload, with each initializer's replacement (reader and tensor) found by <paramref name="source"/>, or null to keep it.</summary>
    internal static IReadOnlyList<string> Write(OnnxCheckpointReader graph, Func<string, (ICheckpointReader Reader, TensorInfo Tensor)?> source,
        string outputPath, OnnxWriteOptions? options)
    {
        options ??= new OnnxWriteOptions();
        var model = graph.Model.Clone();
        var initializers = model.Graph.Initializer;
        for (int i = 0; i < initializers.Count; i++)
        {
            var original = initializers[i];
            graph.TryGetTensor(original.Name, out var target);
            byte[] bytes = new byte[target.ByteLength];
            if (source(original.Name) is not var (reader, v)) graph.ReadRaw(target, bytes);
            else
            {
                if (!v.SameShape(target))
                    throw new IncompatibleModelsException(reader.Path, v.Name, $"has shape {v.ShapeText} but initializer '{original.Name}' of {graph.Path} has {target.ShapeText}.");
                if (v.DType == target.DType) reader.ReadRaw(v, bytes);
                else if (v.DType.IsFloatingPoint() && target.DType.IsFloatingPoint())
                {
                    var f = new float[target.ElementCount];
                    reader.ReadFloat32(v, f);
                    DTypeConversion.FromFloat32(f, target.DType, bytes);
                }
                else throw new IncompatibleModelsException(reader.Path, v.Name, $"is {v.DType} but initializer '{original.Name}' of {graph.Path} is {target.DType}.");
            }
            initializers[i] = WithRawData(original, bytes);
        }
        model.ProducerName = options.ProducerName;
        model.ProducerVersion = OnnxFormat.ProducerVersion;
        return OnnxModelWriter.Save(model, outputPath, options);
    }

    /// <summary>A copy of <paramref name="t"/>'s name, type and shape holding <paramref name="bytes"/> as <c>raw_data</c>.</summary>
    internal static TensorProto WithRawData(TensorProto t, byte[] bytes)
    {
        var copy = new TensorProto { Name = t.Name, DataType = t.DataType, RawData = UnsafeByteOperations.UnsafeWrap(bytes) };
        copy.Dims.AddRange(t.Dims);
        if (t.HasDocString) copy.DocString = t.DocString;
        return copy;
    }
}
