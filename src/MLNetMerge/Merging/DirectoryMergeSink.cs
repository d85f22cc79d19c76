using MLNetMerge.Checkpoints;
using MLNetMerge.Tensors;

namespace MLNetMerge.Merging;

/// <summary>
/// Writes a merge into a directory: <c>model.safetensors</c> (sharded above <see cref="MaxShardBytes"/>),
/// <c>heads.safetensors</c> (tensors named <c>{task}.{tensor}</c>), <c>modulators.safetensors</c> for per-task
/// methods (masks packed 8 per byte, rescalers, low-rank factors), and <c>tasks/{task}.safetensors</c> for each
/// materialized task (a full checkpoint with its head). Tensors are written by position, so workers write in any order.
/// </summary>
internal sealed class DirectoryMergeSink : IMergeSink, IDisposable
{
    private readonly string _directory;
    private readonly IReadOnlyDictionary<string, string> _metadata;
    private ShardedSafetensorsWriter? _model;
    private SafetensorsWriter? _heads;
    private SafetensorsWriter? _modulators;
    private readonly Dictionary<string, SafetensorsWriter> _tasks = new(StringComparer.Ordinal);

    /// <summary>Creates a sink writing into <paramref name="directory"/> (normally an <see cref="AtomicDirectory"/>'s temporary path).</summary>
    /// <param name="directory">Target directory (must exist).</param>
    /// <param name="metadata">safetensors <c>__metadata__</c> for every file.</param>
    /// <param name="maxShardBytes">Largest model shard; default: no sharding.</param>
    public DirectoryMergeSink(string directory, IReadOnlyDictionary<string, string> metadata, long maxShardBytes = long.MaxValue)
    {
        _directory = directory;
        _metadata = metadata;
        MaxShardBytes = maxShardBytes;
    }

    /// <summary>Largest model shard in bytes.</summary>
    public long MaxShardBytes { get; }

    /// <summary>Files written, relative to the directory.</summary>
    public List<string> Files { get; } = new();

    /// <inheritdoc />
    public void Begin(MergeLayout layout)
    {
        _model = new ShardedSafetensorsWriter(_directory, "model", layout.Model, _metadata, MaxShardBytes);
        Files.AddRange(_model.Files);
        var headEntries = layout.Heads.SelectMany(kv => kv.Value.Select(e => e with { Name = $"{kv.Key}.{e.Name}" })).ToList();
        if (headEntries.Count > 0)
        {
            _heads = new SafetensorsWriter(Path.Combine(_directory, "heads.safetensors"), headEntries, _metadata);
            Files.Add("heads.safetensors");
        }
        if (layout.Modulators.Count > 0)
        {
            _modulators = new SafetensorsWriter(Path.Combine(_directory, "modulators.safetensors"), layout.Modulators, _metadata);
            Files.Add("modulators.safetensors");
        }
        foreach (var task in layout.MaterializedTasks)
        {
            Directory.CreateDirectory(Path.Combine(_directory, "tasks"));
            var entries = layout.Model.Concat(layout.Heads.TryGetValue(task, out var h) ? h : []).ToList();
            string rel = Path.Combine("tasks", $"{task}.safetensors");
            _tasks[task] = new SafetensorsWriter(Path.Combine(_directory, rel), entries, _metadata);
            Files.Add(rel);
        }
    }

    /// <inheritdoc />
    public void WriteModel(string name, ReadOnlySpan<float> values) => _model!.WriteFloat32(name, values);

    /// <inheritdoc />
    public bool AcceptsSlices => true;

    /// <inheritdoc />
    public void WriteModelSlice(string name, long start, ReadOnlySpan<float> values) => _model!.WriteFloat32(name, start, values);

    /// <inheritdoc />
    public bool RewritesModel => true;

    /// <summary>Elements a patch reads back and rewrites at a time.</summary>
    private const int PatchWindow = 1 << 16;

    /// <inheritdoc />
    public void PatchModel(string name, ReadOnlySpan<long> positions, ReadOnlySpan<float> values)
    {
        float[] window = BufferPool<float>.Shared.Rent(PatchWindow);
        try
        {
            for (int i = 0; i < positions.Length;)
            {
                // A window reaches only the last position inside it, so calls on disjoint position ranges touch disjoint bytes.
                long start = positions[i];
                int first = i;
                while (i < positions.Length && positions[i] - start < PatchWindow) i++;
                var span = window.AsSpan(0, (int)(positions[i - 1] - start + 1)); // (window) elements [start, last position]
                _model!.ReadFloat32(name, start, span);
                for (int j = first; j < i; j++) span[(int)(positions[j] - start)] = values[j];
                _model.RewriteFloat32(name, start, span);
            }
        }
        finally { BufferPool<float>.Shared.Return(window); }
    }

    /// <inheritdoc />
    public void RewriteModelSlice(string name, long start, ReadOnlySpan<float> values) => _model!.RewriteFloat32(name, start, values);

    /// <inheritdoc />
    public void WriteModelRaw(string name, ReadOnlySpan<byte> bytes) => _model!.WriteRaw(name, bytes);

    /// <inheritdoc />
    public void WriteHeadRaw(string task, string name, ReadOnlySpan<byte> bytes) => _heads!.WriteRaw($"{task}.{name}", bytes);

    /// <inheritdoc />
    public IModulatorWriter Modulators => new ModulatorFile(this);

    /// <inheritdoc />
    public void WriteTask(string task, string name, ReadOnlySpan<float> values) => _tasks[task].WriteFloat32(name, values);

    /// <inheritdoc />
    public void WriteTaskRaw(string task, string name, ReadOnlySpan<byte> bytes) => _tasks[task].WriteRaw(name, bytes);

    /// <summary>The task's own file, in the float32 tensors' places until they are written.</summary>
    public ITensorScratch? TaskScratch(string task) => _tasks.TryGetValue(task, out var writer) ? new FileScratch(writer) : null;

    private sealed class FileScratch(SafetensorsWriter writer) : ITensorScratch
    {
        public bool TryWrite(string tensor, ReadOnlySpan<float> values) => writer.WriteScratch(tensor, values);

        public void Read(string tensor, Span<float> values) => writer.ReadScratch(tensor, values);
    }

    /// <inheritdoc />
    public void Complete(MergeSummary summary)
    {
        _model?.Complete();
        _heads?.Complete();
        _modulators?.Complete();
        foreach (var t in _tasks.Values) t.Complete();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _model?.Dispose();
        _heads?.Dispose();
        _modulators?.Dispose();
        foreach (var t in _tasks.Values) t.Dispose();
    }

    private sealed class ModulatorFile(DirectoryMergeSink sink) : IModulatorWriter
    {
        public void WriteFloat32(string name, ReadOnlySpan<float> values) => sink._modulators!.WriteFloat32(name, values);

        public void WriteBytes(string name, ReadOnlySpan<byte> values) => sink._modulators!.WriteRaw(name, values);
    }
}
