using System.Text.Json;

namespace MLNetMerge.Checkpoints;

/// <summary>
/// Writes a checkpoint as one <c>{stem}.safetensors</c>, or, when it exceeds <c>maxShardBytes</c>, as shards
/// <c>{stem}-00001-of-0000N.safetensors</c> plus <c>{stem}.safetensors.index.json</c> (Hugging Face's layout:
/// <c>{"metadata": {"total_size": bytes}, "weight_map": {tensor: shard}}</c>). Tensors keep their order; a shard
/// closes before the tensor that would push it past the limit (a single larger tensor gets a shard of its own).
/// </summary>
internal sealed class ShardedSafetensorsWriter : IDisposable
{
    private readonly List<SafetensorsWriter> _shards = new();
    private readonly Dictionary<string, SafetensorsWriter> _byName = new(StringComparer.Ordinal);

    /// <summary>Creates the file(s) in <paramref name="directory"/>.</summary>
    public ShardedSafetensorsWriter(string directory, string stem, IReadOnlyList<TensorEntry> tensors,
        IReadOnlyDictionary<string, string>? metadata, long maxShardBytes = long.MaxValue)
    {
        var groups = new List<List<TensorEntry>> { new() };
        long size = 0;
        foreach (var t in tensors)
        {
            if (groups[^1].Count > 0 && size + t.ByteLength > maxShardBytes)
            {
                groups.Add(new List<TensorEntry>());
                size = 0;
            }
            groups[^1].Add(t);
            size += t.ByteLength;
        }
        if (groups.Count == 1)
        {
            Files = [$"{stem}.safetensors"];
            Add(new SafetensorsWriter(Path.Combine(directory, Files[0]), tensors, metadata));
            return;
        }
        var names = new List<string>();
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < groups.Count; i++)
        {
            string file = $"{stem}-{i + 1:D5}-of-{groups.Count:D5}.safetensors";
            names.Add(file);
            Add(new SafetensorsWriter(Path.Combine(directory, file), groups[i], metadata));
            foreach (var t in groups[i]) weightMap[t.Name] = file;
        }
        string index = Path.Combine(directory, $"{stem}.safetensors.index.json");
        using (var stream = File.Create(index))
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartObject("metadata");
            w.WriteNumber("total_size", tensors.Sum(t => t.ByteLength));
            w.WriteEndObject();
            w.WriteStartObject("weight_map");
            foreach (var kv in weightMap) w.WriteString(kv.Key, kv.Value);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        names.Add($"{stem}.safetensors.index.json");
        Files = names;
    }

    private void Add(SafetensorsWriter writer)
    {
        _shards.Add(writer);
        foreach (var name in writer.Names) _byName[name] = writer;
    }

    /// <summary>File names written (shards, then the index when sharded).</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>Writes float32 values converted to the tensor's dtype.</summary>
    public void WriteFloat32(string name, ReadOnlySpan<float> values) => Of(name).WriteFloat32(name, values);

    /// <summary>Writes a slice of a tensor (see <see cref="SafetensorsWriter.WriteFloat32(string, long, ReadOnlySpan{float})"/>).</summary>
    public void WriteFloat32(string name, long start, ReadOnlySpan<float> values) => Of(name).WriteFloat32(name, start, values);

    /// <summary>Writes raw bytes.</summary>
    public void WriteRaw(string name, ReadOnlySpan<byte> bytes) => Of(name).WriteRaw(name, bytes);

    /// <summary>Reads back a slice of a written tensor (see <see cref="SafetensorsWriter.ReadFloat32(string, long, Span{float})"/>).</summary>
    public void ReadFloat32(string name, long start, Span<float> values) => Of(name).ReadFloat32(name, start, values);

    /// <summary>Overwrites a slice of a written tensor (see <see cref="SafetensorsWriter.RewriteFloat32"/>).</summary>
    public void RewriteFloat32(string name, long start, ReadOnlySpan<float> values) => Of(name).RewriteFloat32(name, start, values);

    private SafetensorsWriter Of(string name) =>
        _byName.TryGetValue(name, out var w) ? w : throw new ArgumentException($"tensor '{name}' is not in this checkpoint's layout.");

    /// <summary>Checks every tensor was written and closes the files.</summary>
    public void Complete()
    {
        foreach (var s in _shards) s.Complete();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var s in _shards) s.Dispose();
    }
}
