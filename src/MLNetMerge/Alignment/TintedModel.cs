using MLNetMerge.Encoders;
using MLNetMerge.Data;
using MLNetMerge.Merging;
using MLNetMerge.Nn;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Alignment;

/// <summary>
/// A tinted model: the merged encoder <c>θ0 + Σt clamp(λt) τt</c> with the learned coefficients, plus one task-specific
/// layer per task (its head, or its own copy of one transformer block swapped in for that task). State tensors:
/// <c>config.vision</c> for a vision transformer (its hyper-parameters, see <see cref="VisionConfigState"/>; any other
/// encoder, e.g. BERT, is rebuilt from the <c>config</c> parameter, its config.json), <c>coefficients</c> (T, L),
/// <c>merged.{name}</c> for every encoder tensor, <c>{task}.classifier.weight</c> / <c>.bias</c>, and with a block
/// <c>{task}.{block tensor name}</c>.
/// </summary>
internal sealed class TintedModel : AlignedModel
{
    private readonly IDenseEncoder _encoder;
    private readonly float[] _merged;                      // (P) merged encoder weights, arena layout
    private readonly float[] _coefficients;                // (T, L)
    private readonly TaskHead[] _heads;                    // T
    private readonly int[] _block;                         // arena entry indices of the per-task block (may be empty)
    private readonly float[][] _blocks;                    // T × (Σ block lengths)
    private readonly string[] _tasks;
    private readonly IReadOnlyDictionary<string, ParameterValue> _parameters;
    private int _loaded = -2;                              // task whose block is in the arena (−1: the merged block)

    internal TintedModel(MergedModel merged, string method, IReadOnlyDictionary<string, ParameterValue> parameters,
        IDenseEncoder encoder, VisionTransformerConfig? config, IReadOnlyList<string> tasks, float[] mergedValues, float[] coefficients,
        IReadOnlyList<TaskHead> heads, int blockIndex, IReadOnlyList<float[]> blocks, IReadOnlyList<double>? lossHistory) : base(merged)
    {
        Method = method;
        _parameters = parameters;
        _encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        _tasks = [.. tasks];
        var layout = _encoder.Parameters.Layout;
        if (mergedValues.Length != layout.TotalLength) throw new ArgumentException($"merged weights have {mergedValues.Length} values; the encoder has {layout.TotalLength}.");
        if (coefficients.Length != _tasks.Length * layout.Entries.Count) throw new ArgumentException($"expected {_tasks.Length}×{layout.Entries.Count} coefficients, got {coefficients.Length}.");
        _merged = mergedValues;
        _coefficients = coefficients;
        _heads = [.. heads];
        BlockIndex = blockIndex;
        _block = blockIndex < 0 ? [] : TintingTrainer.BlockTensors(layout, blockIndex);
        _blocks = [.. blocks];
        LossHistory = lossHistory ?? [];
        Config = config;
    }

    /// <inheritdoc/>
    public override string Method { get; }

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, ParameterValue> Parameters => _parameters;

    /// <inheritdoc/>
    public override IReadOnlyList<string> TaskNames => _tasks;

    /// <summary>The encoder's hyper-parameters for a vision transformer; null for another encoder (rebuilt from the
    /// <c>config</c> parameter).</summary>
    public VisionTransformerConfig? Config { get; }

    /// <summary>The duplicated block's index, or −1 when the task-specific layers are the heads.</summary>
    public int BlockIndex { get; }

    /// <summary>Learned λ (T, L), before the clamp, row t = task <see cref="TaskNames"/>[t], column l = encoder tensor l.</summary>
    public IReadOnlyList<float> Coefficients => _coefficients;

    /// <summary>Mean training loss of each round (empty for a restored model).</summary>
    public IReadOnlyList<double> LossHistory { get; }

    /// <summary>The task's head.</summary>
    /// <exception cref="ArgumentException">Unknown task.</exception>
    public TaskHead Head(string task) => _heads[IndexOf(task)];

    /// <summary>Share of effective coefficients <c>clamp(λ, 0, 1)</c> below <paramref name="threshold"/> (the paper's 1e-5),
    /// over the tensors shared by every task.</summary>
    public double CoefficientSparsity(double threshold = 1e-5)
    {
        int l = _encoder.Parameters.Layout.Entries.Count, count = 0, total = 0;
        var skip = new HashSet<int>(_block);
        for (int t = 0; t < _tasks.Length; t++)
            for (int j = 0; j < l; j++)
            {
                if (skip.Contains(j)) continue;
                total++;
                if (Math.Clamp(_coefficients[t * l + j], 0f, 1f) < threshold) count++;
            }
        return total == 0 ? 0 : (double)count / total;
    }

    private int IndexOf(string task)
    {
        int i = Array.IndexOf(_tasks, task);
        return i >= 0 ? i : throw new ArgumentException($"the tinted model has no task '{task}' (tasks: {string.Join(", ", _tasks)}).", nameof(task));
    }

    private void Load(int task)
    {
        if (_loaded == task || (_block.Length == 0 && _loaded >= -1)) return;
        var p = _encoder.Parameters;
        if (_loaded == -2) _merged.CopyTo(p.Values, 0);
        if (_block.Length > 0)
        {
            int o = 0;
            foreach (int l in _block)
            {
                var e = p.Layout.Entries[l];
                _blocks[task].AsSpan(o, e.Length).CopyTo(p.Value(l));
                o += e.Length;
            }
        }
        _loaded = _block.Length > 0 ? task : -1;
    }

    /// <inheritdoc/>
    internal override TaskExport? ExportTask(string task)
    {
        int t = IndexOf(task);
        var layout = _encoder.Parameters.Layout;
        var own = new Dictionary<int, float[]>();                          // the task's copy of the tinted block
        int o = 0;
        foreach (int l in _block)
        {
            var e = layout.Entries[l];
            own[l] = _blocks[t].AsSpan(o, e.Length).ToArray();
            o += e.Length;
        }
        return new TaskExport(name =>
        {
            int l = -1;
            for (int i = 0; i < layout.Entries.Count && l < 0; i++) if (layout.Entries[i].Name == name) l = i;
            if (l < 0) return null;
            return own.TryGetValue(l, out var v) ? v : _merged.AsSpan(layout.Entries[l].Offset, layout.Entries[l].Length).ToArray();
        }, _heads[t], _block.Length > 0 ? (this, t) : this);
    }

    /// <inheritdoc/>
    public override float[] Embed(string task, TaskDataset data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        int t = IndexOf(task);
        lock (_encoder)
        {
            Load(t);
            return EncoderSession.Embed(_encoder, data, cancellationToken);
        }
    }

    /// <inheritdoc/>
    public override float[] PredictProbabilities(string task, TaskDataset data, CancellationToken cancellationToken = default)
    {
        var emb = Embed(task, data, cancellationToken);                    // (N, E)
        return _heads[IndexOf(task)].Probabilities(emb, data.Count);       // (N, K)
    }

    /// <inheritdoc/>
    public override IReadOnlyList<AlignedTensor> State
    {
        get
        {
            var layout = _encoder.Parameters.Layout;
            var list = new List<AlignedTensor>();
            if (Config is not null) list.Add(new(VisionConfigState.Name, [VisionConfigState.Length], VisionConfigState.Write(Config)));
            list.Add(new("coefficients", [_tasks.Length, layout.Entries.Count], (float[])_coefficients.Clone()));
            foreach (var e in layout.Entries)
                list.Add(new("merged." + e.Name, (int[])e.Shape.Clone(), _merged.AsSpan(e.Offset, e.Length).ToArray()));
            for (int t = 0; t < _tasks.Length; t++)
            {
                var h = _heads[t];
                list.Add(new($"{_tasks[t]}.{TaskHead.WeightName}", [h.ClassCount, h.InputSize], (float[])h.Weight.Clone()));
                list.Add(new($"{_tasks[t]}.{TaskHead.BiasName}", [h.ClassCount], (float[])h.Bias.Clone()));
                int o = 0;
                foreach (int l in _block)
                {
                    var e = layout.Entries[l];
                    list.Add(new($"{_tasks[t]}.{e.Name}", (int[])e.Shape.Clone(), _blocks[t].AsSpan(o, e.Length).ToArray()));
                    o += e.Length;
                }
            }
            return list;
        }
    }

    /// <summary>Rebuilds a tinted model from its saved <see cref="State"/> (the registry's Restore).</summary>
    /// <exception cref="CheckpointFormatException">A state tensor is missing or of the wrong size.</exception>
    /// <exception cref="RecipeException">A state without <c>config.vision</c> and parameters without <c>config</c>.</exception>
    public static TintedModel Restore(MergedModel merged, string method, IReadOnlyDictionary<string, ParameterValue> parameters, IReadOnlyList<AlignedTensor> state)
    {
        ArgumentNullException.ThrowIfNull(merged);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(state);
        var byName = state.ToDictionary(s => s.Name, StringComparer.Ordinal);
        float[] Need(string name, int length)
        {
            if (!byName.TryGetValue(name, out var s))
                throw new CheckpointFormatException(null, name, $"is missing from the saved {method} state.");
            if (s.Values.Length != length)
                throw new CheckpointFormatException(null, name, $"has {s.Values.Length} values in the saved {method} state; expected {length}.");
            return s.Values;
        }
        VisionTransformerConfig? config = null;
        IDenseEncoder encoder;
        if (byName.ContainsKey(VisionConfigState.Name))
        {
            config = VisionConfigState.Read(Need(VisionConfigState.Name, VisionConfigState.Length));
            encoder = new VisionTransformer(config);
        }
        else encoder = merged.Session.Architecture.CreateEncoder();
        var layout = encoder.Parameters.Layout;
        var tasks = merged.TaskNames;
        var values = new float[layout.TotalLength];
        foreach (var e in layout.Entries) Need("merged." + e.Name, e.Length).CopyTo(values, e.Offset);
        var coefficients = (float[])Need("coefficients", tasks.Count * layout.Entries.Count).Clone();
        int block = TintingSettings.FromParameters(method, parameters).Block ?? -1;
        var blockEntries = block < 0 ? [] : TintingTrainer.BlockTensors(layout, block);
        int width = encoder.EmbeddingSize;
        var heads = new List<TaskHead>();
        var blocks = new List<float[]>();
        foreach (var task in tasks)
        {
            if (!byName.TryGetValue($"{task}.{TaskHead.BiasName}", out var bias))
                throw new CheckpointFormatException(null, $"{task}.{TaskHead.BiasName}", $"is missing from the saved {method} state.");
            int k = bias.Values.Length;
            heads.Add(new TaskHead((float[])Need($"{task}.{TaskHead.WeightName}", k * width).Clone(), (float[])bias.Values.Clone(), k, width));
            var copy = new float[blockEntries.Sum(l => layout.Entries[l].Length)];
            int o = 0;
            foreach (int l in blockEntries)
            {
                var e = layout.Entries[l];
                Need($"{task}.{e.Name}", e.Length).CopyTo(copy, o);
                o += e.Length;
            }
            blocks.Add(copy);
        }
        return new TintedModel(merged, method, parameters, encoder, config, tasks, values, coefficients, heads, block, blocks, null);
    }
}

/// <summary>
/// A <see cref="VisionTransformerConfig"/> as 13 floats, so that a saved alignment state rebuilds its encoder without
/// the family's config.json: flavor, image, patch, channels, hidden, layers, heads, intermediate, activation,
/// layer-norm eps, qkv bias (0/1), pooler (0/1), projection width.
/// </summary>
internal static class VisionConfigState
{
    /// <summary>State tensor name.</summary>
    public const string Name = "config.vision";

    /// <summary>Number of values.</summary>
    public const int Length = 13;

    /// <summary>The config as floats.</summary>
    public static float[] Write(VisionTransformerConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        return [(float)c.Flavor, c.ImageSize, c.PatchSize, c.NumChannels, c.HiddenSize, c.NumLayers, c.NumHeads,
            c.IntermediateSize, (float)c.Activation, (float)c.LayerNormEps, c.QkvBias ? 1 : 0, c.Pooler ? 1 : 0, c.ProjectionDim];
    }

    /// <summary>The config back from <see cref="Write"/> (the eps is its float32 value).</summary>
    public static VisionTransformerConfig Read(ReadOnlySpan<float> v) => new()
    {
        Flavor = (VisionFlavor)(int)v[0], ImageSize = (int)v[1], PatchSize = (int)v[2], NumChannels = (int)v[3],
        HiddenSize = (int)v[4], NumLayers = (int)v[5], NumHeads = (int)v[6], IntermediateSize = (int)v[7],
        Activation = (ActivationKind)(int)v[8], LayerNormEps = v[9], QkvBias = v[10] != 0, Pooler = v[11] != 0, ProjectionDim = (int)v[12],
    };
}
