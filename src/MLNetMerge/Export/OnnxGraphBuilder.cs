using System.Runtime.InteropServices;
using Google.Protobuf;
using MLNetMerge.Checkpoints.Onnx.Protobuf;

namespace MLNetMerge.Export;

/// <summary>
/// Builds an ONNX graph node by node: float32 initializers under their checkpoint names, small int64/float constants,
/// and nodes whose outputs get unique names (<c>{prefix}/{op}_{n}</c>). Every method returns the name of the value it
/// produced, so a forward pass reads like the engine's.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly GraphProto _graph = new() { Name = "mlnetmerge" };
    private readonly HashSet<string> _initializers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private int _counter;

    /// <summary>The graph being built.</summary>
    public GraphProto Graph => _graph;

    /// <summary>
    /// When set, gives the value that stands for a named weight (e.g. EMR's per-task weights built in-graph from the
    /// unified weights, a mask and a rescaler); returning null, or no resolver, makes the weight a plain initializer.
    /// </summary>
    public Func<string, int[], string?>? WeightValue { get; set; }

    /// <summary>The value of encoder weight <paramref name="name"/>: <see cref="WeightValue"/>'s, or an initializer of <paramref name="w"/>'s values.</summary>
    public string Weight(string name, WeightSource w, params int[] shape) => WeightValue?.Invoke(name, shape) ?? Initializer(name, w(name), shape);

    /// <summary>Adds a float32 initializer named <paramref name="name"/> (once; later calls return the name).</summary>
    public string Initializer(string name, ReadOnlySpan<float> values, params int[] shape)
    {
        if (!_initializers.Add(name)) return name;
        long count = 1;
        foreach (int d in shape) count *= d;
        if (count != values.Length) throw new ArgumentException($"initializer '{name}': {values.Length} values for shape [{string.Join(", ", shape)}].");
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values)) };
        foreach (int d in shape) t.Dims.Add(d);
        _graph.Initializer.Add(t);
        return name;
    }

    /// <summary>Adds an initializer of another element type from raw little-endian bytes.</summary>
    public string RawInitializer(string name, int onnxType, byte[] bytes, params long[] shape)
    {
        if (!_initializers.Add(name)) return name;
        var t = new TensorProto { Name = name, DataType = onnxType, RawData = UnsafeByteOperations.UnsafeWrap(bytes) };
        t.Dims.AddRange(shape);
        _graph.Initializer.Add(t);
        return name;
    }

    /// <summary>A 1-D int64 constant (shared by value).</summary>
    public string Int64s(params long[] values)
    {
        string key = "i64:" + string.Join(",", values);
        if (_constants.TryGetValue(key, out var name)) return name;
        name = $"const_i64_{_constants.Count}";
        _constants[key] = name;
        return RawInitializer(name, (int)TensorProto.Types.DataType.Int64, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), values.Length);
    }

    /// <summary>A float32 scalar constant (shared by value).</summary>
    public string Scalar(float value)
    {
        string key = "f32:" + BitConverter.SingleToInt32Bits(value);
        if (_constants.TryGetValue(key, out var name)) return name;
        name = $"const_f32_{_constants.Count}";
        _constants[key] = name;
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(BitConverter.GetBytes(value)) };
        _initializers.Add(name);
        _graph.Initializer.Add(t);
        return name;
    }

    /// <summary>Adds a node; returns its (single) output name.</summary>
    public string Node(string op, string[] inputs, params AttributeProto[] attributes) => Node(op, inputs, 1, attributes)[0];

    /// <summary>Adds a node with <paramref name="outputs"/> outputs.</summary>
    public string[] Node(string op, string[] inputs, int outputs, params AttributeProto[] attributes)
    {
        int id = _counter++;
        var node = new NodeProto { OpType = op, Name = $"{op}_{id}" };
        node.Input.AddRange(inputs);
        var names = Enumerable.Range(0, outputs).Select(o => outputs == 1 ? $"{op}_{id}_out" : $"{op}_{id}_out{o}").ToArray();
        node.Output.AddRange(names);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return names;
    }

    /// <summary>Renames the output of the last node that produced <paramref name="value"/> to <paramref name="name"/>.</summary>
    public string Rename(string value, string name)
    {
        foreach (var n in _graph.Node)
            for (int i = 0; i < n.Output.Count; i++)
                if (n.Output[i] == value) n.Output[i] = name;
        foreach (var n in _graph.Node)
            for (int i = 0; i < n.Input.Count; i++)
                if (n.Input[i] == value) n.Input[i] = name;
        return name;
    }

    /// <summary>An int attribute.</summary>
    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>A float attribute.</summary>
    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>An ints attribute.</summary>
    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    /// <summary>Declares a float graph input or output with dimensions given as numbers or symbolic names.</summary>
    public static ValueInfoProto FloatValue(string name, params object[] dims) => Value(name, TensorProto.Types.DataType.Float, dims);

    /// <summary>Declares an int64 graph input with dimensions given as numbers or symbolic names.</summary>
    public static ValueInfoProto Int64Value(string name, params object[] dims) => Value(name, TensorProto.Types.DataType.Int64, dims);

    private static ValueInfoProto Value(string name, TensorProto.Types.DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d) });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
