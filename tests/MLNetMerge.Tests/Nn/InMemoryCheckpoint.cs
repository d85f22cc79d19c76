using System.Runtime.InteropServices;
using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Tensors;

namespace MLNetMerge.Tests.Nn;

/// <summary>A checkpoint held in memory (float32 tensors), for the engine tests; can parse a safetensors file's float32/int64 tensors.</summary>
internal sealed class InMemoryCheckpoint : ICheckpointReader
{
    private readonly Dictionary<string, (TensorInfo Info, float[] Data)> _tensors = new();
    private readonly List<TensorInfo> _order = [];

    public InMemoryCheckpoint(string path = "memory") { Path = path; }

    public string Path { get; }
    public IReadOnlyList<TensorInfo> Tensors => _order;
    public IReadOnlyDictionary<string, string> Metadata { get; } = new Dictionary<string, string>();

    public InMemoryCheckpoint Add(string name, int[] shape, float[] data, DType dtype = DType.F32)
    {
        var info = new TensorInfo(name, dtype, shape, Path, 0, data.Length * 4L);
        _tensors[name] = (info, data);
        _order.Add(info);
        return this;
    }

    public float[] Get(string name) => _tensors[name].Data;

    public bool TryGetTensor(string name, out TensorInfo info)
    {
        if (_tensors.TryGetValue(name, out var t)) { info = t.Info; return true; }
        info = null!;
        return false;
    }

    public void ReadFloat32(TensorInfo tensor, Span<float> destination) => _tensors[tensor.Name].Data.CopyTo(destination);

    public void ReadRaw(TensorInfo tensor, Span<byte> destination) => MemoryMarshal.AsBytes(_tensors[tensor.Name].Data.AsSpan()).CopyTo(destination);

    public void Dispose() { }

    /// <summary>Parses a safetensors file (F32 and I64 tensors; I64 values converted to float).</summary>
    public static InMemoryCheckpoint ReadSafetensors(string path)
    {
        var bytes = File.ReadAllBytes(path);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        var ckpt = new InMemoryCheckpoint(path);
        int dataStart = 8 + (int)headerLength;
        var entries = doc.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__")
            .OrderBy(p => p.Value.GetProperty("data_offsets")[0].GetInt64());
        foreach (var p in entries)
        {
            string dtype = p.Value.GetProperty("dtype").GetString()!;
            int[] shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            int begin = (int)p.Value.GetProperty("data_offsets")[0].GetInt64() + dataStart;
            int end = (int)p.Value.GetProperty("data_offsets")[1].GetInt64() + dataStart;
            float[] data = dtype switch
            {
                "F32" => MemoryMarshal.Cast<byte, float>(bytes.AsSpan(begin, end - begin)).ToArray(),
                "I64" => MemoryMarshal.Cast<byte, long>(bytes.AsSpan(begin, end - begin)).ToArray().Select(v => (float)v).ToArray(),
                _ => throw new InvalidDataException($"{path}: unsupported dtype {dtype} in the test reader"),
            };
            ckpt.Add(p.Name, shape, data, dtype == "I64" ? DType.I64 : DType.F32);
        }
        return ckpt;
    }
}
