using Google.Protobuf;
using MLNetMerge.Checkpoints;
using MLNetMerge.Checkpoints.Onnx.Protobuf;
using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints.Onnx;

/// <summary>
/// Checks that ONNX models form a family that merges initializer by initializer: every model has the base's graph
/// (the same opsets, inputs, outputs, and nodes with the same operators, inputs, outputs and attributes, in order) and
/// the same initializers (names, element types and shapes; heads may differ in shape). Only the initializers' values
/// may differ. Operators are restricted to the default ONNX domain, without quantized or control-flow operators.
/// </summary>
internal static class OnnxFamilyCheck
{
    private static readonly HashSet<string> Refused = new(StringComparer.Ordinal)
    {
        "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "QLinearConv", "QLinearMatMul", "MatMulInteger",
        "ConvInteger", "If", "Loop", "Scan",
    };

    /// <summary>Refuses operators MLNetMerge cannot merge through (see the class summary).</summary>
    /// <exception cref="UnsupportedOnnxModelException">The first such node, named with its index and operator.</exception>
    public static void CheckSupported(OnnxCheckpointReader model)
    {
        var nodes = model.Model.Graph.Node;
        for (int i = 0; i < nodes.Count; i++)
        {
            var n = nodes[i];
            if (n.Domain.Length > 0 && n.Domain != "ai.onnx")
                throw new UnsupportedOnnxModelException(model.Path, $"node {i} ('{n.Name}') is '{n.OpType}' from domain '{n.Domain}'; only default-domain ONNX operators are supported.");
            if (Refused.Contains(n.OpType))
                throw new UnsupportedOnnxModelException(model.Path, $"node {i} ('{n.Name}') is '{n.OpType}', which MLNetMerge does not merge through (quantized or control-flow operator).");
        }
    }

    /// <summary>Checks <paramref name="other"/> against <paramref name="baseModel"/>; both must pass <see cref="CheckSupported"/>.</summary>
    /// <param name="baseModel">The base model.</param>
    /// <param name="other">A fine-tuned model.</param>
    /// <param name="heads">Per-task tensors, whose shapes may differ.</param>
    /// <exception cref="IncompatibleModelsException">The first difference, named (opset, input, output, node index and field, or initializer).</exception>
    /// <exception cref="UnsupportedOnnxModelException">Either model uses an unsupported operator.</exception>
    public static void Check(OnnxCheckpointReader baseModel, OnnxCheckpointReader other, HeadFilter heads)
    {
        CheckSupported(baseModel);
        CheckSupported(other);
        string where = other.Path;
        string Diff(string what, string inOther, string inBase) => $"{what} is {inOther} here but {inBase} in the base {baseModel.Path}; an ONNX family must share the base's graph.";

        string opsB = Opsets(baseModel.Model), opsO = Opsets(other.Model);
        if (opsB != opsO) throw new IncompatibleModelsException(where, null, Diff("opset_import", $"[{opsO}]", $"[{opsB}]"));

        var gb = baseModel.Model.Graph;
        var go = other.Model.Graph;
        CompareValues("input", gb.Input, go.Input, compareShapes: true, where, Diff);
        CompareValues("output", gb.Output, go.Output, compareShapes: false, where, Diff);

        for (int i = 0; i < Math.Min(gb.Node.Count, go.Node.Count); i++)
        {
            var b = gb.Node[i];
            var o = go.Node[i];
            string node = $"node {i} ('{b.Name}', {b.OpType})";
            if (b.OpType != o.OpType || b.Domain != o.Domain)
                throw new IncompatibleModelsException(where, null, Diff($"{node}'s operator", $"'{o.OpType}'", $"'{b.OpType}'"));
            if (!b.Input.SequenceEqual(o.Input))
                throw new IncompatibleModelsException(where, null, Diff($"{node}'s inputs", $"[{string.Join(", ", o.Input)}]", $"[{string.Join(", ", b.Input)}]"));
            if (!b.Output.SequenceEqual(o.Output))
                throw new IncompatibleModelsException(where, null, Diff($"{node}'s outputs", $"[{string.Join(", ", o.Output)}]", $"[{string.Join(", ", b.Output)}]"));
            if (b.Attribute.Count != o.Attribute.Count)
                throw new IncompatibleModelsException(where, null, Diff($"{node}'s attribute count", o.Attribute.Count.ToString(), b.Attribute.Count.ToString()));
            for (int a = 0; a < b.Attribute.Count; a++)
            {
                if (!b.Attribute[a].ToByteString().Equals(o.Attribute[a].ToByteString()))
                    throw new IncompatibleModelsException(where, null, Diff($"{node}'s attribute '{b.Attribute[a].Name}'", $"'{Describe(o.Attribute[a])}'", $"'{Describe(b.Attribute[a])}'"));
            }
        }

        if (gb.Node.Count != go.Node.Count)
            throw new IncompatibleModelsException(where, null, Diff("the node count", go.Node.Count.ToString(), gb.Node.Count.ToString()));

        if (gb.Initializer.Count != go.Initializer.Count)
            throw new IncompatibleModelsException(where, null, Diff("the initializer count", go.Initializer.Count.ToString(), gb.Initializer.Count.ToString()));
        for (int i = 0; i < gb.Initializer.Count; i++)
        {
            var b = gb.Initializer[i];
            var o = go.Initializer[i];
            if (b.Name != o.Name)
                throw new IncompatibleModelsException(where, b.Name, Diff($"initializer {i}", $"'{o.Name}'", $"'{b.Name}'"));
            if (b.DataType != o.DataType)
                throw new IncompatibleModelsException(where, b.Name, Diff("the element type", OnnxDataTypes.Name(o.DataType), OnnxDataTypes.Name(b.DataType)));
            if (!heads.IsHead(b.Name) && !b.Dims.SequenceEqual(o.Dims))
                throw new IncompatibleModelsException(where, b.Name, Diff("the shape", $"[{string.Join(", ", o.Dims)}]", $"[{string.Join(", ", b.Dims)}]"));
            // Integer and bool initializers are constants of the graph (a Reshape's target shape, indices), not weights:
            // outputs take the base's, so a model whose constants differ computes another function.
            if (baseModel.TryGetTensor(b.Name, out var tb) && !tb.DType.IsFloatingPoint() && other.TryGetTensor(o.Name, out var to)
                && Differs(baseModel, tb, other, to) is var (inBase, inOther))
                throw new IncompatibleModelsException(where, b.Name, Diff("the integer constant", inOther, inBase) +
                    " Integer initializers are the graph's constants (shapes, indices), not weights.");
        }
    }

    /// <summary>Two integer tensors' values in words where they differ (the values when few, else the first differing
    /// element), or null when they are the same.</summary>
    private static (string InA, string InB)? Differs(OnnxCheckpointReader a, TensorInfo ta, OnnxCheckpointReader b, TensorInfo tb)
    {
        var x = new byte[ta.ByteLength];
        var y = new byte[tb.ByteLength];
        a.ReadRaw(ta, x);
        b.ReadRaw(tb, y);
        if (x.AsSpan().SequenceEqual(y)) return null;
        int size = Math.Max(1, ta.DType.SizeOf());
        long Element(byte[] v, int i) => size switch
        {
            8 => BitConverter.ToInt64(v, i * 8),
            4 => BitConverter.ToInt32(v, i * 4),
            2 => BitConverter.ToInt16(v, i * 2),
            _ => v[i],
        };
        int n = Math.Min(x.Length, y.Length) / size;
        if (x.Length == y.Length && n <= 16)
            return ("[" + string.Join(", ", Enumerable.Range(0, n).Select(i => Element(x, i))) + "]", "[" + string.Join(", ", Enumerable.Range(0, n).Select(i => Element(y, i))) + "]");
        int at = x.AsSpan().CommonPrefixLength(y) / size;
        return at < n ? ($"{Element(x, at)} at element {at}", $"{Element(y, at)} at element {at}") : ($"{x.Length / size} values", $"{y.Length / size} values");
    }

    private static string Opsets(ModelProto m) =>
        string.Join(", ", m.OpsetImport.Select(o => $"{(o.Domain.Length == 0 ? "ai.onnx" : o.Domain)}:{o.Version}").Order(StringComparer.Ordinal));

    private static void CompareValues(string kind, IList<ValueInfoProto> b, IList<ValueInfoProto> o, bool compareShapes, string where,
        Func<string, string, string, string> diff)
    {
        if (b.Count != o.Count)
            throw new IncompatibleModelsException(where, null, diff($"the number of graph {kind}s", o.Count.ToString(), b.Count.ToString()));
        for (int i = 0; i < b.Count; i++)
        {
            if (b[i].Name != o[i].Name)
                throw new IncompatibleModelsException(where, null, diff($"graph {kind} {i}", $"'{o[i].Name}'", $"'{b[i].Name}'"));
            string tb = TypeText(b[i].Type, compareShapes), to = TypeText(o[i].Type, compareShapes);
            if (tb != to)
                throw new IncompatibleModelsException(where, null, diff($"the type of graph {kind} '{b[i].Name}'", to, tb));
        }
    }

    private static string TypeText(TypeProto? type, bool withShape)
    {
        if (type?.TensorType is not { } t) return "non-tensor";
        string elem = OnnxDataTypes.Name(t.ElemType);
        if (!withShape || t.Shape is null) return elem;
        return elem + "[" + string.Join(", ", t.Shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue.ToString() : d.DimParam)) + "]";
    }

    private static string Describe(AttributeProto a) => a.Type switch
    {
        AttributeProto.Types.AttributeType.Float => a.F.ToString("R"),
        AttributeProto.Types.AttributeType.Int => a.I.ToString(),
        AttributeProto.Types.AttributeType.String => a.S.ToStringUtf8(),
        AttributeProto.Types.AttributeType.Ints => "[" + string.Join(", ", a.Ints) + "]",
        AttributeProto.Types.AttributeType.Floats => "[" + string.Join(", ", a.Floats) + "]",
        _ => a.Type.ToString(),
    };
}
