using MLNetMerge.Tensors;

using MLNetMerge.Checkpoints;

namespace MLNetMerge.Encoders;

/// <summary>Settings for <see cref="ModelFamily.Load(string, IEnumerable{ValueTuple{string, string}}, ModelFamilyOptions?)"/>.</summary>
internal sealed class ModelFamilyOptions
{
    /// <summary>Head tensors (per task, never merged) as comma-separated globs. Default <see cref="HeadFilter.DefaultPattern"/>.</summary>
    public string Heads { get; init; } = HeadFilter.DefaultPattern;

    /// <summary>Reader settings for safetensors inputs (memory mapping). Default: positional reads.</summary>
    public SafetensorsReaderOptions? Reader { get; init; }

    /// <summary>The encoder's <c>config.json</c>. Default null: the one beside the base checkpoint.</summary>
    public string? ConfigPath { get; init; }
}

/// <summary>One fine-tuned member of a <see cref="ModelFamily"/>.</summary>
/// <param name="Name">Task name (letters, digits, '_' and '-').</param>
/// <param name="Reader">Its checkpoint.</param>
internal sealed record TaskModel(string Name, ICheckpointReader Reader);

/// <summary>
/// A pretrained base checkpoint and several fine-tuned copies of it, checked to agree: every merged tensor of the
/// base exists in every task with the same shape and a floating-point dtype (not necessarily the base's: merges compute
/// in float32 and write the recipe's <c>dtype</c>, else the base's), and no task carries tensors the base lacks except heads.
/// Tensors are read lazily through the readers. Heads (matched by name) may exist only in the fine-tuned models and
/// differ in shape between tasks; integer and bool tensors are copied from the base.
/// </summary>
internal sealed class ModelFamily : IDisposable
{
    private readonly Lock _gate = new();
    private ModelArchitecture? _architecture;
    private EncoderSession? _session;

    private ModelFamily(ICheckpointReader baseModel, IReadOnlyList<TaskModel> tasks, HeadFilter heads,
        IReadOnlyList<TensorInfo> merged, IReadOnlyList<TensorInfo> copied, IReadOnlyDictionary<string, IReadOnlyList<TensorInfo>> taskHeads)
    {
        Base = baseModel;
        Tasks = tasks;
        Heads = heads;
        MergedTensors = merged;
        CopiedTensors = copied;
        TaskHeads = taskHeads;
    }

    /// <summary>The pretrained checkpoint θ0.</summary>
    public ICheckpointReader Base { get; }

    /// <summary>The fine-tuned checkpoints θt, in the order given.</summary>
    public IReadOnlyList<TaskModel> Tasks { get; }

    /// <summary>The head selection.</summary>
    public HeadFilter Heads { get; }

    /// <summary>Floating-point, non-head tensors of the base, in the base's order: what merge methods operate on.</summary>
    public IReadOnlyList<TensorInfo> MergedTensors { get; }

    /// <summary>Integer and bool tensors of the base (buffers, position ids), copied unchanged.</summary>
    public IReadOnlyList<TensorInfo> CopiedTensors { get; }

    /// <summary>Per task, its head tensors (as stored in that task's checkpoint).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<TensorInfo>> TaskHeads { get; }

    /// <summary>Task names in order.</summary>
    public IReadOnlyList<string> TaskNames => Tasks.Select(t => t.Name).ToList();

    /// <summary>The encoder's <c>config.json</c> given when the family was opened (null: beside the base checkpoint).</summary>
    public string? ConfigPath { get; private set; }

    /// <summary>The family's architecture, read once from its own files (<see cref="ModelArchitecture.Load(ICheckpointReader, string?, Nn.Architectures.ArchitectureKind?, Nn.Layers.ActivationKind)"/>);
    /// a failure is kept and thrown again, not read again.</summary>
    /// <exception cref="MergeException">No config.json, an unsupported model, or a base without the encoder's tensors.</exception>
    internal ModelArchitecture Architecture
    {
        get
        {
            lock (_gate)
            {
                if (_architecture is not null) return _architecture;
                if (_architectureFailure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_architectureFailure);
                try { return _architecture = ModelArchitecture.Load(Base, ConfigPath); }
                catch (MergeException e) { _architectureFailure = e; throw; }
            }
        }
    }

    private MergeException? _architectureFailure;

    /// <summary>Whether the family's files describe an encoder the engine runs (a merge alone never needs one).</summary>
    internal bool HasArchitecture => ArchitectureFailure() is null;

    /// <summary>Why the family's config describes no encoder the engine runs — another <c>model_type</c>, a feature it
    /// does not run, a malformed file — or null when it does, or when there is no config at all (a merge of bare
    /// checkpoints). A merge passes over it, but says so.</summary>
    internal string? ArchitectureProblem => ArchitectureFailure() is { } e and not NoEncoderException ? e.Message : null;

    private MergeException? ArchitectureFailure()
    {
        try { _ = Architecture; return null; }
        catch (MergeException e) { return e; }
    }

    /// <summary>The family's one encoder session (built on first use; its embedding cache lives as long as the family).</summary>
    /// <exception cref="MergeException">The family has no architecture the engine runs.</exception>
    internal EncoderSession Session
    {
        get
        {
            var architecture = Architecture;
            lock (_gate) return _session ??= new EncoderSession(architecture);
        }
    }

    /// <summary>The fine-tuned checkpoint of <paramref name="task"/>.</summary>
    /// <exception cref="ArgumentException">No task of that name.</exception>
    public ICheckpointReader Reader(string task) =>
        Tasks.FirstOrDefault(t => t.Name == task)?.Reader
        ?? throw new ArgumentException($"the family has no task '{task}' (tasks: {string.Join(", ", TaskNames)}).", nameof(task));

    /// <summary>The linear head of <paramref name="task"/>, read from its fine-tuned checkpoint.</summary>
    /// <exception cref="ArgumentException">No task of that name.</exception>
    /// <exception cref="CheckpointFormatException">Missing head tensors, or a head of the wrong width.</exception>
    internal TaskHead Head(string task) => Session.Head(Reader(task));

    /// <summary>Opens and checks a family from file paths.</summary>
    /// <exception cref="IncompatibleModelsException">Names, shapes or dtypes disagree.</exception>
    public static ModelFamily Load(string basePath, IEnumerable<(string Name, string Path)> tasks, ModelFamilyOptions? options = null)
    {
        options ??= new ModelFamilyOptions();
        var opened = new List<ICheckpointReader>();
        try
        {
            var b = CheckpointReader.Open(basePath, options.Reader);
            opened.Add(b);
            var list = new List<TaskModel>();
            foreach (var (name, path) in tasks)
            {
                var r = CheckpointReader.Open(path, options.Reader);
                opened.Add(r);
                list.Add(new TaskModel(name, r));
            }
            var family = Create(b, list, new HeadFilter(options.Heads));
            family.ConfigPath = options.ConfigPath is null ? null : Path.GetFullPath(options.ConfigPath);
            return family;
        }
        catch
        {
            foreach (var r in opened) r.Dispose();
            throw;
        }
    }

    /// <summary>Checks already opened readers and builds the family (it takes ownership of them).</summary>
    public static ModelFamily Create(ICheckpointReader baseModel, IReadOnlyList<TaskModel> tasks, HeadFilter heads)
    {
        if (tasks.Count == 0) throw new IncompatibleModelsException(baseModel.Path, null, "a family needs at least one fine-tuned model.");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tasks)
        {
            if (string.IsNullOrEmpty(t.Name) || !t.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
                throw new IncompatibleModelsException(t.Reader.Path, null, $"task name '{t.Name}' must be ASCII letters, digits, '_' or '-'.");
            if (!names.Add(t.Name)) throw new IncompatibleModelsException(t.Reader.Path, null, $"task name '{t.Name}' is used twice.");
        }
        var merged = new List<TensorInfo>();
        var copied = new List<TensorInfo>();
        foreach (var info in baseModel.Tensors)
        {
            CheckFitsOneArray(baseModel, info);
            if (heads.IsHead(info.Name)) continue;
            (info.DType.IsFloatingPoint() ? merged : copied).Add(info);
        }
        if (merged.Count == 0 && baseModel.Tensors.Any(t => t.DType.IsFloatingPoint()))
            throw new IncompatibleModelsException(baseModel.Path, null, $"the head pattern '{heads.Pattern}' takes every floating-point tensor of the base as a head: nothing is left to merge.");
        var taskHeads = new Dictionary<string, IReadOnlyList<TensorInfo>>(StringComparer.Ordinal);
        var prefixes = new Dictionary<string, string>(StringComparer.Ordinal);
        tasks = [.. tasks.Select(t => AlignPrefix(t, merged, heads, prefixes))];
        foreach (var t in tasks)
        {
            foreach (var b in merged)
            {
                if (!t.Reader.TryGetTensor(b.Name, out var ti))
                {
                    // A training checkpoint often nests the weights ({'state_dict': …} → 'state_dict.NAME'): say so.
                    string? nested = t.Reader.Tensors.FirstOrDefault(x => x.Name.EndsWith("." + b.Name, StringComparison.Ordinal))?.Name;
                    throw new IncompatibleModelsException(t.Reader.Path, b.Name, $"is missing from task '{t.Name}' (the base has it with shape {b.ShapeText})"
                        + (nested is null ? "." : $"; the task has '{nested}': its weights sit under the prefix '{nested[..^b.Name.Length]}' (a training checkpoint's nested state dict?): save the state dict itself."));
                }
                if (!ti.SameShape(b))
                    throw new IncompatibleModelsException(t.Reader.Path, b.Name, $"has shape {ti.ShapeText} in task '{t.Name}' but {b.ShapeText} in the base {baseModel.Path}.");
                // Floating-point dtypes may differ (a bf16 base with fp32 fine-tunes): every value is read into float32.
                if (!ti.DType.IsFloatingPoint())
                    throw new IncompatibleModelsException(t.Reader.Path, b.Name, $"is {ti.DType} in task '{t.Name}' but {b.DType} in the base {baseModel.Path}; merged tensors must be floating point in every model.");
            }
            var headList = new List<TensorInfo>();
            foreach (var ti in t.Reader.Tensors)
            {
                if (heads.IsHead(ti.Name))
                {
                    CheckFitsOneArray(t.Reader, ti);
                    headList.Add(ti);
                    continue;
                }
                if (!baseModel.TryGetTensor(ti.Name, out var bi))
                    throw new IncompatibleModelsException(t.Reader.Path, ti.Name, $"is in task '{t.Name}' but not in the base {baseModel.Path}; if it is a head, add it to the head pattern (now '{heads.Pattern}').");
                if (!bi.DType.IsFloatingPoint() && (!ti.SameShape(bi) || ti.DType != bi.DType))
                    throw new IncompatibleModelsException(t.Reader.Path, ti.Name, $"is {ti.DType} {ti.ShapeText} in task '{t.Name}' but {bi.DType} {bi.ShapeText} in the base.");
            }
            taskHeads[t.Name] = headList;
        }
        return new ModelFamily(baseModel, tasks, heads, merged, copied, taskHeads) { PrefixNotes = prefixes };
    }

    /// <summary>
    /// A fine-tuned model whose encoder weights sit under a model-class prefix the base lacks (Hugging Face's
    /// <c>ViTForImageClassification</c> saves <c>vit.…</c> where <c>ViTModel</c> saves <c>…</c>), or lack one the base has,
    /// read under the base's names: when none of the base's merged tensors is in the task as named, but every one is once
    /// one leading prefix is added or removed. Heads keep their names. Anything else is left for the checks to name.
    /// </summary>
    private static TaskModel AlignPrefix(TaskModel task, List<TensorInfo> merged, HeadFilter heads, Dictionary<string, string> notes)
    {
        if (merged.Count == 0 || merged.Any(b => task.Reader.TryGetTensor(b.Name, out _))) return task;
        string first = merged[0].Name;
        // The task has P + name: strip P.
        if (task.Reader.Tensors.FirstOrDefault(x => x.Name.EndsWith("." + first, StringComparison.Ordinal)) is { } longer)
        {
            string p = longer.Name[..^first.Length];
            if (merged.All(b => task.Reader.TryGetTensor(p + b.Name, out _)))
            {
                notes[task.Name] = $"task '{task.Name}' names its weights under '{p}', which the base's names lack: they are read under the base's names.";
                return task with { Reader = new RenamedCheckpoint(task.Reader, n => n.StartsWith(p, StringComparison.Ordinal) ? n[p.Length..] : null) };
            }
        }
        // The base has P + name where the task has name: add P (to everything but the heads).
        for (int i = first.IndexOf('.'); i > 0; i = first.IndexOf('.', i + 1))
        {
            string p = first[..(i + 1)];
            if (!merged.All(b => b.Name.StartsWith(p, StringComparison.Ordinal) && task.Reader.TryGetTensor(b.Name[p.Length..], out _))) continue;
            notes[task.Name] = $"task '{task.Name}' names its weights without the base's prefix '{p}': they are read under the base's names.";
            return task with { Reader = new RenamedCheckpoint(task.Reader, n => heads.IsHead(n) ? null : p + n) };
        }
        return task;
    }

    /// <summary>Tasks whose tensor names were aligned with the base's (<see cref="AlignPrefix"/>), with a sentence each.</summary>
    public IReadOnlyDictionary<string, string> PrefixNotes { get; private init; } = new Dictionary<string, string>();

    /// <summary>Every tensor is read and written whole, in one .NET array (heads too, per task): refuses a larger one.</summary>
    /// <exception cref="IncompatibleModelsException">The tensor has more than <see cref="Array.MaxLength"/> elements.</exception>
    private static void CheckFitsOneArray(ICheckpointReader reader, TensorInfo info)
    {
        if (info.ElementCount > Array.MaxLength)
            throw new IncompatibleModelsException(reader.Path, info.Name, $"has {info.ElementCount:N0} elements (shape {info.ShapeText}); a tensor must fit in one .NET array ({Array.MaxLength:N0} elements).");
    }

    /// <summary>Number of merged parameters (elements of <see cref="MergedTensors"/>).</summary>
    public long MergedParameterCount => MergedTensors.Sum(t => t.ElementCount);

    /// <summary>Closes every checkpoint.</summary>
    public void Dispose()
    {
        Base.Dispose();
        foreach (var t in Tasks) t.Reader.Dispose();
    }
}
