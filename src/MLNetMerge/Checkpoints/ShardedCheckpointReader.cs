using System.Text.Json;

namespace MLNetMerge.Checkpoints;

/// <summary>
/// Reads a sharded checkpoint through its index — <c>model.safetensors.index.json</c> over safetensors shards, or
/// <c>pytorch_model.bin.index.json</c> over PyTorch ones, in the same layout
/// (<c>{"metadata": {...}, "weight_map": {tensor: shard file}}</c>). Each shard is validated on open, and the index
/// must agree with the shards: every mapped tensor present in its shard, no tensor in two shards.
/// </summary>
internal sealed class ShardedCheckpointReader : ICheckpointReader
{
    private readonly List<ICheckpointReader> _shards = new();
    private readonly Dictionary<string, (TensorInfo Info, ICheckpointReader Shard)> _byName = new(StringComparer.Ordinal);
    private readonly List<TensorInfo> _tensors = new();
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);

    /// <summary>Opens the index file (or a directory containing <c>model.safetensors.index.json</c>).</summary>
    public static ShardedCheckpointReader Open(string indexPath, SafetensorsReaderOptions? options = null)
    {
        if (Directory.Exists(indexPath)) indexPath = System.IO.Path.Combine(indexPath, "model.safetensors.index.json");
        var reader = new ShardedCheckpointReader(indexPath);
        try
        {
            reader.Load(options);
            return reader;
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    private ShardedCheckpointReader(string path) => Path = path;

    private void Load(SafetensorsReaderOptions? options)
    {
        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        JsonDocument doc;
        try
        {
            var bytes = File.ReadAllBytes(Path);
            // The reader accepts invalid UTF-8 inside strings and fails only when a name is read.
            if (!System.Text.Unicode.Utf8.IsValid(bytes)) throw new CheckpointFormatException(Path, null, "index is not valid UTF-8 text; a checkpoint index is UTF-8 JSON.");
            doc = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(Path, null, $"index is not valid JSON ({e.Message}).", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new CheckpointFormatException(Path, null, "index must be an object with a 'weight_map' object.");
            if (!map.EnumerateObject().Any())
                throw new CheckpointFormatException(Path, null, "the index's 'weight_map' is empty: it maps no tensor to a shard.");
            if (doc.RootElement.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object)
                foreach (var m in meta.EnumerateObject())
                    _metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
            var shardByFile = new Dictionary<string, ICheckpointReader>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw new CheckpointFormatException(Path, entry.Name, "weight_map values must be shard file names.");
                string file = entry.Value.GetString()!;
                // Checked before the shard: a name mapped twice (to two shards) is the index's fault, not a shard's.
                if (_byName.ContainsKey(entry.Name))
                    throw new CheckpointFormatException(Path, entry.Name, $"is mapped twice in the weight_map (the second time to '{file}').");
                if (file.Contains('/') || file.Contains('\\') || file == "..")
                    throw new CheckpointFormatException(Path, entry.Name, $"shard '{file}' must be a file name in the index's directory.");
                if (!shardByFile.TryGetValue(file, out var shard))
                {
                    string shardPath = System.IO.Path.Combine(dir, file);
                    if (!File.Exists(shardPath))
                        throw new CheckpointFormatException(Path, entry.Name, $"shard '{file}' does not exist.");
                    shard = PyTorch.PyTorchCheckpointReader.IsPyTorchPath(shardPath) ? PyTorch.PyTorchCheckpointReader.Open(shardPath) : SafetensorsReader.Open(shardPath, options);
                    shardByFile[file] = shard;
                    _shards.Add(shard);
                }
                if (!shard.TryGetTensor(entry.Name, out var info))
                    throw new CheckpointFormatException(shard.Path, entry.Name, "is mapped to this shard by the index but is not in it.");
                _byName[entry.Name] = (info, shard);
            }
            foreach (var shard in _shards)
                foreach (var t in shard.Tensors)
                {
                    if (!_byName.TryGetValue(t.Name, out var owner) || !ReferenceEquals(owner.Shard, shard))
                        throw new CheckpointFormatException(shard.Path, t.Name, "is in the shard but the index maps it elsewhere or not at all.");
                    _tensors.Add(t);
                }
        }
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
    public void ReadFloat32(TensorInfo tensor, Span<float> destination) => ShardOf(tensor).ReadFloat32(tensor, destination);

    /// <inheritdoc />
    public bool SupportsRangeReads => _shards.All(s => s.SupportsRangeReads);

    /// <inheritdoc />
    public void ReadFloat32(TensorInfo tensor, long start, Span<float> destination) => ShardOf(tensor).ReadFloat32(tensor, start, destination);

    /// <inheritdoc />
    public unsafe float* TryMapFloat32(TensorInfo tensor, long start, int count) => ShardOf(tensor).TryMapFloat32(tensor, start, count);

    /// <inheritdoc />
    public void ReadRaw(TensorInfo tensor, Span<byte> destination) => ShardOf(tensor).ReadRaw(tensor, destination);

    private ICheckpointReader ShardOf(TensorInfo tensor) =>
        _byName.TryGetValue(tensor.Name, out var e) ? e.Shard : throw new ArgumentException($"tensor '{tensor.Name}' is not in {Path}.");

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var s in _shards) s.Dispose();
    }
}
