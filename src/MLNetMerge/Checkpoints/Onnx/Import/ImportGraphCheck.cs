using MLNetMerge.Checkpoints.Onnx.Protobuf;
using MLNetMerge.Tensors;
using AttributeType = MLNetMerge.Checkpoints.Onnx.Protobuf.AttributeProto.Types.AttributeType;

namespace MLNetMerge.Checkpoints.Onnx.Import;

/// <summary>
/// What the importer requires of a graph before it traces it, beyond its operators: the nodes in topological order (every
/// input made by an earlier node, an initializer or a graph input — ONNX's own rule, which a cycle or a dangling input
/// breaks), the attributes it may read of the declared ONNX type, and finite weights (an imported NaN makes every
/// embedding NaN, and a merge refuses it later anyway).
/// </summary>
internal static class ImportGraphCheck
{
    private static readonly Dictionary<string, AttributeType> AttributeTypes = new(StringComparer.Ordinal)
    {
        ["kernel_shape"] = AttributeType.Ints, ["strides"] = AttributeType.Ints, ["pads"] = AttributeType.Ints, ["dilations"] = AttributeType.Ints,
        ["perm"] = AttributeType.Ints, ["group"] = AttributeType.Int, ["axis"] = AttributeType.Int, ["keepdims"] = AttributeType.Int,
        ["transA"] = AttributeType.Int, ["transB"] = AttributeType.Int, ["alpha"] = AttributeType.Float, ["beta"] = AttributeType.Float,
        ["epsilon"] = AttributeType.Float, ["to"] = AttributeType.Int,
    };

    /// <exception cref="OnnxImportException">The first node out of order, attribute of another type, or non-finite weight.</exception>
    public static void Check(OnnxCheckpointReader reader)
    {
        var graph = reader.Model.Graph;
        var known = new HashSet<string>(StringComparer.Ordinal) { "" };
        known.UnionWith(graph.Input.Select(i => i.Name));
        known.UnionWith(graph.Initializer.Select(i => i.Name));
        for (int n = 0; n < graph.Node.Count; n++)
        {
            var node = graph.Node[n];
            if (node.Input.FirstOrDefault(i => !known.Contains(i)) is { } missing)
                throw new OnnxImportException(reader.Path, null, $"node {n} ('{node.Name}', {node.OpType}) reads '{missing}', which no earlier node, initializer or graph input makes: " +
                    "an ONNX graph lists its nodes in topological order, so this one is out of order, in a cycle, or reads a missing tensor.");
            foreach (var a in node.Attribute)
                if (AttributeTypes.TryGetValue(a.Name, out var type) && a.Type != type && a.Type != AttributeType.Undefined)
                    throw new OnnxImportException(reader.Path, null, $"node {n} ('{node.Name}', {node.OpType}) has attribute '{a.Name}' of type {a.Type}; ONNX defines it as {type}.");
            known.UnionWith(node.Output);
        }
        foreach (var t in reader.Tensors.Where(t => t.DType.IsFloatingPoint()))
        {
            var values = new float[t.ElementCount];
            reader.ReadFloat32(t, values);
            if (values.Length == 0 || float.IsFinite(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude<float>(values))) continue;
            int at = Array.FindIndex(values, v => !float.IsFinite(v));
            throw new OnnxImportException(reader.Path, t.Name, $"holds {values[at]} at element {at}; an encoder's weights are finite (a NaN or infinity reaches every embedding).");
        }
    }
}
