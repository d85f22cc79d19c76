using System.Runtime.InteropServices;
using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints;

/// <summary>
/// A checkpoint held in memory (tensors as float32 values, stored as a chosen dtype), for building families in code:
/// tests, the demo, and models produced by training. Tensor bytes are kept in the stored dtype.
/// </summary>
internal sealed class InMemoryCheckpoint : ICheckpointReader
{
    private readonly List<TensorInfo> _tensors = new();
    private readonly Dictionary<string, (TensorInfo Info, byte[] Bytes)> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);

    /// <summary>Creates an empty checkpoint named <paramref name="path"/> (used in messages).</summary>
    public InMemoryCheckpoint(string path = "<memory>") => Path = path;

    /// <summary>Adds a floating-point tensor given as float32 values, stored as <paramref name="dtype"/>.</summary>
    public InMemoryCheckpoint Add(string name, int[] shape, ReadOnlySpan<float> values, DType dtype = DType.F32)
    {
        var bytes = new byte[values.Length * dtype.SizeOf()];
        DTypeConversion.FromFloat32(values, dtype, bytes);
        return AddRaw(name, shape, dtype, bytes);
    }

    /// <summary>Adds a tensor from raw little-endian bytes.</summary>
    public InMemoryCheckpoint AddRaw(string name, int[] shape, DType dtype, byte[] bytes)
    {
        var info = new TensorInfo(name, dtype, shape, Path, 0, bytes.Length);
        if (info.ElementCount * dtype.SizeOf() != bytes.Length)
            throw new ArgumentException($"tensor '{name}': {bytes.Length} bytes do not match {dtype} {info.ShapeText}.");
        if (_byName.ContainsKey(name)) throw new ArgumentException($"tensor '{name}' added twice.");
        _tensors.Add(info);
        _byName[name] = (info, bytes);
        return this;
    }

    /// <summary>Adds an int64 tensor.</summary>
    public InMemoryCheckpoint AddInt64(string name, int[] shape, ReadOnlySpan<long> values) =>
        AddRaw(name, shape, DType.I64, MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>Sets a metadata entry.</summary>
    public InMemoryCheckpoint WithMetadata(string key, string value)
    {
        _metadata[key] = value;
        return this;
    }

    /// <inheritdoc />
    public string Path { get; }

    /// <inheritdoc />
    public IReadOnlyList<TensorInfo> Tensors => _tensors;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> Metadata => _metadata;

    /// <inheritdoc />
    public bool TryGetTensor(string name, out TensorInfo info)
    {
        if (_byName.TryGetValue(name, out var e)) { info = e.Info; return true; }
        info = null!;
        return false;
    }

    /// <inheritdoc />
    public void ReadFloat32(TensorInfo tensor, Span<float> destination)
    {
        if (!tensor.DType.IsFloatingPoint())
            throw new CheckpointFormatException(Path, tensor.Name, $"is {tensor.DType}; a floating-point tensor was expected.");
        DTypeConversion.ToFloat32(_byName[tensor.Name].Bytes, tensor.DType, destination);
    }

    /// <inheritdoc />
    public bool SupportsRangeReads => true;

    /// <inheritdoc />
    public void ReadFloat32(TensorInfo tensor, long start, Span<float> destination)
    {
        ICheckpointReader.CheckRange(tensor, start, destination.Length);
        if (!tensor.DType.IsFloatingPoint())
            throw new CheckpointFormatException(Path, tensor.Name, $"is {tensor.DType}; a floating-point tensor was expected.");
        int size = tensor.DType.SizeOf();
        DTypeConversion.ToFloat32(_byName[tensor.Name].Bytes.AsSpan(checked((int)(start * size)), destination.Length * size), tensor.DType, destination);
    }

    /// <inheritdoc />
    public void ReadRaw(TensorInfo tensor, Span<byte> destination) => _byName[tensor.Name].Bytes.CopyTo(destination);

    /// <summary>Writes this checkpoint as a safetensors file (atomically: temp file, then rename).</summary>
    public void Save(string path)
    {
        string temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            using (var w = new SafetensorsWriter(temp, _tensors.Select(t => new TensorEntry(t.Name, t.DType, t.Shape)).ToList(), _metadata))
            {
                foreach (var t in _tensors) w.WriteRaw(t.Name, _byName[t.Name].Bytes);
                w.Complete();
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <inheritdoc />
    public void Dispose() { }
}
