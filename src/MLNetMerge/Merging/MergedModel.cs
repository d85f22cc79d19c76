using System.Collections.Concurrent;
using MLNetMerge.Checkpoints;
using MLNetMerge.Encoders;
using MLNetMerge.Tensors;

namespace MLNetMerge.Merging;

/// <summary>
/// A merge result held in memory (float32): the merged or unified tensors, copied integer tensors as raw bytes, each
/// task's head, the modulators of per-task methods, and each task's own weights for per-task methods. Immutable once
/// built. For models too large for memory, merge into a directory instead (<see cref="DirectoryMergeSink"/>).
/// </summary>
internal sealed class MergedModel
{
    internal MergedModel(MergeSummary summary, IReadOnlyList<TensorEntry> layout,
        IReadOnlyDictionary<string, float[]> tensors, IReadOnlyDictionary<string, byte[]> raw,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, byte[]>> heads, IReadOnlyDictionary<string, TensorEntry> headEntries,
        IReadOnlyDictionary<string, float[]> modulators, IReadOnlyDictionary<string, byte[]> modulatorBytes,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, float[]>> taskTensors)
    {
        Summary = summary;
        Layout = layout;
        Tensors = tensors;
        RawTensors = raw;
        Heads = heads;
        HeadEntries = headEntries;
        Modulators = modulators;
        ModulatorBytes = modulatorBytes;
        TaskTensors = taskTensors;
    }

    private readonly Lock _gate = new();
    private EncoderSession? _session;

    /// <summary>The architecture of the encoder the merged tensors belong to, when the family's files describe one (a merge of
    /// bare checkpoints has none; running the encoder then fails with a typed error).</summary>
    internal ModelArchitecture? Architecture { get; private init; }

    /// <summary>The encoder session that runs this model's weights: the family's own when the merge came from a family (so
    /// the embeddings the family already cached are shared), else one built from <see cref="Architecture"/>.</summary>
    /// <exception cref="MergeException">The merged model does not know its architecture.</exception>
    internal EncoderSession Session
    {
        get
        {
            lock (_gate)
                return _session ??= new EncoderSession(Architecture
                    ?? throw new MergeException(null, null, "the merged model does not know its encoder's architecture (no config.json beside the base checkpoint or the saved model); running its encoder needs one."));
        }
    }

    /// <summary>This model with the encoder it runs on (the same tensors).</summary>
    internal MergedModel WithEncoder(ModelArchitecture architecture, EncoderSession? session = null) =>
        new(Summary, Layout, Tensors, RawTensors, Heads, HeadEntries, Modulators, ModulatorBytes, TaskTensors) { Architecture = architecture, _session = session };

    /// <summary>This model serving only <paramref name="tasks"/> (the same tensors and heads): what an alignment stage fitted
    /// for a transformer that serves one task sees, so it asks for that task's rows only.</summary>
    internal MergedModel ForTasks(IReadOnlyList<string> tasks)
    {
        foreach (var task in tasks)
            if (!TaskNames.Contains(task))
                throw new ArgumentException($"'{task}' is not a task of the merged model ({string.Join(", ", TaskNames)}).", nameof(tasks));
        lock (_gate)
            return new(Summary with { TaskNames = tasks }, Layout, Tensors, RawTensors, Heads, HeadEntries, Modulators, ModulatorBytes, TaskTensors)
            { Architecture = Architecture, _session = _session };
    }

    /// <summary>Method, parameters, tasks and notes.</summary>
    public MergeSummary Summary { get; }

    /// <summary>The merged model's tensors in order, with stored dtypes.</summary>
    public IReadOnlyList<TensorEntry> Layout { get; }

    /// <summary>Merged (per-task methods: unified) floating-point tensors by name.</summary>
    public IReadOnlyDictionary<string, float[]> Tensors { get; }

    /// <summary>Copied integer/bool tensors, raw bytes.</summary>
    public IReadOnlyDictionary<string, byte[]> RawTensors { get; }

    /// <summary>Per task, its head tensors (raw bytes in the stored dtype).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, byte[]>> Heads { get; }

    /// <summary>Head layouts, keyed <c>{task}.{tensor}</c>.</summary>
    public IReadOnlyDictionary<string, TensorEntry> HeadEntries { get; }

    /// <summary>Float modulators (rescalers, low-rank factors).</summary>
    public IReadOnlyDictionary<string, float[]> Modulators { get; }

    /// <summary>Byte modulators (packed masks).</summary>
    public IReadOnlyDictionary<string, byte[]> ModulatorBytes { get; }

    /// <summary>For per-task methods, each task's own merged tensors θ̂t (empty otherwise).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, float[]>> TaskTensors { get; }

    /// <summary>Task names.</summary>
    public IReadOnlyList<string> TaskNames => Summary.TaskNames;

    /// <summary>The weights task <paramref name="task"/> runs with: its own for per-task methods, else the shared ones.</summary>
    public float[] TensorFor(string task, string name) =>
        TaskTensors.TryGetValue(task, out var own) && own.TryGetValue(name, out var v) ? v : Tensors[name];

    /// <summary>A head tensor of a task converted to float32.</summary>
    public float[] HeadFloat32(string task, string name)
    {
        var entry = HeadEntries[$"{task}.{name}"];
        var values = new float[entry.ElementCount];
        DTypeConversion.ToFloat32(Heads[task][name], entry.DType, values);
        return values;
    }
}

/// <summary>Collects a merge into a <see cref="MergedModel"/>; per-task methods materialize every task.</summary>
internal sealed class InMemoryMergeSink : IMergeSink, IModulatorWriter
{
    private readonly ConcurrentDictionary<string, float[]> _tensors = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte[]> _raw = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte[]>> _heads = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, float[]> _mods = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte[]> _modBytes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, float[]>> _tasks = new(StringComparer.Ordinal);
    private MergeLayout? _layout;

    public MergedModel? Result { get; private set; }

    public bool KeepTaskTensors { get; init; }

    public void Begin(MergeLayout layout) => _layout = layout;

    public void WriteModel(string name, ReadOnlySpan<float> values) => _tensors[name] = values.ToArray();

    public bool AcceptsSlices => true;

    public void WriteModelSlice(string name, long start, ReadOnlySpan<float> values)
    {
        var target = _tensors.GetOrAdd(name, n => new float[_layout!.Model.First(e => e.Name == n).ElementCount]);
        values.CopyTo(target.AsSpan(checked((int)start)));
    }

    public bool RewritesModel => true;

    public void PatchModel(string name, ReadOnlySpan<long> positions, ReadOnlySpan<float> values)
    {
        var target = _tensors[name];
        for (int i = 0; i < positions.Length; i++) target[positions[i]] = values[i];
    }

    public void RewriteModelSlice(string name, long start, ReadOnlySpan<float> values) => values.CopyTo(_tensors[name].AsSpan(checked((int)start)));

    public void WriteModelRaw(string name, ReadOnlySpan<byte> bytes) => _raw[name] = bytes.ToArray();

    public void WriteHeadRaw(string task, string name, ReadOnlySpan<byte> bytes) =>
        _heads.GetOrAdd(task, _ => new(StringComparer.Ordinal))[name] = bytes.ToArray();

    public IModulatorWriter Modulators => this;

    public void WriteFloat32(string name, ReadOnlySpan<float> values) => _mods[name] = values.ToArray();

    public void WriteBytes(string name, ReadOnlySpan<byte> values) => _modBytes[name] = values.ToArray();

    public void WriteTask(string task, string name, ReadOnlySpan<float> values)
    {
        if (KeepTaskTensors) _tasks.GetOrAdd(task, _ => new(StringComparer.Ordinal))[name] = values.ToArray();
    }

    public void WriteTaskRaw(string task, string name, ReadOnlySpan<byte> bytes) { }

    public void Complete(MergeSummary summary)
    {
        var headEntries = _layout!.Heads.SelectMany(kv => kv.Value.Select(e => (Key: $"{kv.Key}.{e.Name}", e)))
            .ToDictionary(x => x.Key, x => x.e, StringComparer.Ordinal);
        Result = new MergedModel(summary, _layout.Model,
            new Dictionary<string, float[]>(_tensors, StringComparer.Ordinal),
            new Dictionary<string, byte[]>(_raw, StringComparer.Ordinal),
            _heads.ToDictionary(kv => kv.Key, kv => (IReadOnlyDictionary<string, byte[]>)new Dictionary<string, byte[]>(kv.Value, StringComparer.Ordinal), StringComparer.Ordinal),
            headEntries,
            new Dictionary<string, float[]>(_mods, StringComparer.Ordinal),
            new Dictionary<string, byte[]>(_modBytes, StringComparer.Ordinal),
            _tasks.ToDictionary(kv => kv.Key, kv => (IReadOnlyDictionary<string, float[]>)new Dictionary<string, float[]>(kv.Value, StringComparer.Ordinal), StringComparer.Ordinal));
    }
}
