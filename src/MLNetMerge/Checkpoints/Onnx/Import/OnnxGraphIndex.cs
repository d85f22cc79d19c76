using System.Runtime.InteropServices;
using MLNetMerge.Checkpoints;
using MLNetMerge.Checkpoints.Onnx.Protobuf;
using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints.Onnx.Import;

/// <summary>
/// A read-only view of an ONNX graph for tracing: which node produces each value, which nodes consume it, the
/// initializers by name, and the values of small constants (<c>Constant</c> nodes, small initializers, and the
/// <c>Concat</c> of such pieces that torch builds reshape targets from).
/// </summary>
internal sealed class OnnxGraphIndex
{
    private readonly Dictionary<string, NodeProto> _producer = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<NodeProto>> _consumers = new(StringComparer.Ordinal);

    public OnnxGraphIndex(OnnxCheckpointReader reader)
    {
        Reader = reader;
        Graph = reader.Model.Graph;
        foreach (var node in Graph.Node)
        {
            foreach (var o in node.Output) if (o.Length > 0) _producer[o] = node;
            foreach (var i in node.Input)
            {
                if (i.Length == 0) continue;
                if (!_consumers.TryGetValue(i, out var list)) _consumers[i] = list = [];
                list.Add(node);
            }
        }
    }

    /// <summary>The model file.</summary>
    public string Path => Reader.Path;

    /// <summary>The initializers.</summary>
    public OnnxCheckpointReader Reader { get; }

    /// <summary>The graph.</summary>
    public GraphProto Graph { get; }

    /// <summary>The node that computes <paramref name="value"/>, or null for graph inputs and initializers.</summary>
    public NodeProto? Producer(string value) => _producer.GetValueOrDefault(value);

    /// <summary>The nodes that read <paramref name="value"/>, in graph order.</summary>
    public IReadOnlyList<NodeProto> Consumers(string value) => _consumers.TryGetValue(value, out var l) ? l : [];

    /// <summary>The consumers that do real work on <paramref name="value"/> (not <c>Shape</c>, which reads only its shape).</summary>
    public IReadOnlyList<NodeProto> DataConsumers(string value) => Consumers(value).Where(n => n.OpType != "Shape").ToList();

    /// <summary>The initializer named <paramref name="name"/>, if any.</summary>
    public bool TryGetInitializer(string name, out TensorInfo info) => Reader.TryGetTensor(name, out info);

    /// <summary>True for a floating-point initializer.</summary>
    public bool IsFloatInitializer(string name) => Reader.TryGetTensor(name, out var t) && t.DType.IsFloatingPoint();

    /// <summary>The other input of a two-input node, given one of them.</summary>
    public static string Other(NodeProto node, string value) =>
        node.Input.Count == 2 ? (node.Input[0] == value ? node.Input[1] : node.Input[0]) : "";

    /// <summary>Reads a small constant (a <c>Constant</c> node's tensor or an initializer of at most 64 elements) as doubles.</summary>
    public bool TryConstant(string value, out double[] values)
    {
        values = [];
        if (Reader.TryGetTensor(value, out var info))
        {
            if (info.ElementCount > 64) return false;
            var raw = new byte[info.ByteLength];
            Reader.ReadRaw(info, raw);
            return TryDecode(raw, info.DType, out values);
        }
        var node = Producer(value);
        if (node is null || node.OpType != "Constant") return false;
        var attr = node.Attribute.FirstOrDefault(a => a.Name == "value");
        if (attr?.T is null) return false;
        var t = attr.T;
        if (!OnnxDataTypes.TryToDType(t.DataType, out var dtype)) return false;
        long count = 1;
        foreach (long d in t.Dims) count *= d;
        if (count > 64) return false;
        var location = OnnxTensorData.Locate(t, dtype, count, Path);
        return TryDecode(location.Bytes.Span, dtype, out values);
    }

    /// <summary>Reads a scalar constant (one element).</summary>
    public bool TryScalar(string value, out double scalar)
    {
        scalar = 0;
        if (!TryConstant(value, out var v) || v.Length != 1) return false;
        scalar = v[0];
        return true;
    }

    /// <summary>
    /// Reads a shape vector whose elements may be partly unknown: a constant, or a <c>Concat</c> of constants and of
    /// <c>Unsqueeze</c>d runtime scalars (unknown, null). False when the length itself cannot be told.
    /// </summary>
    public bool TryShapeVector(string value, out long?[] shape)
    {
        shape = [];
        if (TryConstant(value, out var c)) { shape = c.Select(v => (long?)v).ToArray(); return true; }
        var node = Producer(value);
        if (node is null || node.OpType != "Concat") return false;
        var parts = new List<long?>();
        foreach (var input in node.Input)
        {
            if (TryConstant(input, out var part)) parts.AddRange(part.Select(v => (long?)v));
            else if (Producer(input)?.OpType == "Unsqueeze") parts.Add(null);
            else return false;
        }
        shape = parts.ToArray();
        return true;
    }

    /// <summary>An integer attribute, or <paramref name="fallback"/>.</summary>
    public static long Int(NodeProto node, string name, long fallback) =>
        Attribute(node, name, AttributeProto.Types.AttributeType.Int) is { } a ? a.I : fallback;

    /// <summary>A float attribute, or <paramref name="fallback"/>.</summary>
    public static float Float(NodeProto node, string name, float fallback) =>
        Attribute(node, name, AttributeProto.Types.AttributeType.Float) is { } a ? a.F : fallback;

    /// <summary>An integer-list attribute, or null.</summary>
    public static long[]? Ints(NodeProto node, string name) =>
        Attribute(node, name, AttributeProto.Types.AttributeType.Ints) is { } a ? a.Ints.ToArray() : null;

    /// <summary>The attribute <paramref name="name"/> of <paramref name="node"/>, which must be of <paramref name="type"/>
    /// when present (ONNX types every attribute; another type is a malformed graph, whose value would read as 0).</summary>
    /// <exception cref="OnnxImportException">The attribute has another type.</exception>
    private static AttributeProto? Attribute(NodeProto node, string name, AttributeProto.Types.AttributeType type)
    {
        var a = node.Attribute.FirstOrDefault(x => x.Name == name);
        if (a is null) return null;
        // Old exporters leave the type unset (UNDEFINED) and fill the field: accept that, refuse a declared other type.
        return a.Type == type || a.Type == AttributeProto.Types.AttributeType.Undefined ? a
            : throw new OnnxImportException(null, null, $"node '{node.Name}' ({node.OpType}) has attribute '{name}' of type {a.Type}; ONNX defines it as {type}.");
    }

    private static bool TryDecode(ReadOnlySpan<byte> raw, DType dtype, out double[] values)
    {
        switch (dtype)
        {
            case DType.F32: values = MemoryMarshal.Cast<byte, float>(raw).ToArray().Select(v => (double)v).ToArray(); return true;
            case DType.F64: values = MemoryMarshal.Cast<byte, double>(raw).ToArray(); return true;
            case DType.I64: values = MemoryMarshal.Cast<byte, long>(raw).ToArray().Select(v => (double)v).ToArray(); return true;
            case DType.I32: values = MemoryMarshal.Cast<byte, int>(raw).ToArray().Select(v => (double)v).ToArray(); return true;
            default: values = []; return false;
        }
    }
}
