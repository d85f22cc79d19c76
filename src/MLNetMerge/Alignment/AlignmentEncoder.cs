using System.Runtime.CompilerServices;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Evaluation;
using MLNetMerge.Merging;
using MLNetMerge.Nn;
using MLNetMerge.Nn.Architectures;

namespace MLNetMerge.Alignment;

/// <summary>
/// The encoder alignment stages run: built from a Hugging Face <c>config.json</c> (so a fitted model can be restored
/// from the merged model, its parameters and its state alone), with the checkpoint prefix of the encoder tensors, and a
/// cache of embeddings per (weights, task, dataset) — merged models and checkpoints are immutable, so embedding the
/// same split twice with the same weights is never needed. One set of buffers: calls are serialised.
/// </summary>
public sealed class AlignmentEncoder
{
    private static readonly string[] Prefixes = ["", "vit.", "model.", "encoder.", "bert."];
    private readonly DatasetEncoder _encoder;
    private readonly object _gate = new();
    private readonly ConditionalWeakTable<object, Dictionary<(string Task, TaskDataset Data), float[]>> _cache = new();
    private static readonly ConditionalWeakTable<ModelFamily, Dictionary<string, AlignmentEncoder>> Shared = new();

    private AlignmentEncoder(DatasetEncoder encoder, string prefix, string configPath)
    {
        _encoder = encoder;
        Prefix = prefix;
        ConfigPath = configPath;
    }

    /// <summary>The <c>config.json</c> the architecture was built from (absolute path).</summary>
    public string ConfigPath { get; }

    /// <summary>Prefix of the encoder tensors in checkpoints and merged models (<c>""</c>, <c>vit.</c>, …).</summary>
    public string Prefix { get; }

    /// <summary>Width E of the embeddings.</summary>
    public int EmbeddingSize => _encoder.EmbeddingSize;

    /// <summary>Floats per input example.</summary>
    public int InputSize => _encoder.Model.InputSize;

    /// <summary>The architecture (its parameter arena holds whichever weights were used last).</summary>
    public IDenseEncoder Model => _encoder.Model;

    /// <summary>
    /// The encoder of a family: <paramref name="configPath"/>, else the <c>config.json</c> beside the base checkpoint.
    /// One encoder (and so one embedding cache) is shared per family and config while the family is alive, so stages
    /// and seeds fitted on the same data embed it once.
    /// </summary>
    /// <exception cref="MergeException">No config, an architecture without a dense encoder, or a base without the encoder's tensors.</exception>
    public static AlignmentEncoder ForFamily(ModelFamily family, string? configPath = null)
    {
        ArgumentNullException.ThrowIfNull(family);
        string dir = Directory.Exists(family.Base.Path) ? family.Base.Path : Path.GetDirectoryName(Path.GetFullPath(family.Base.Path)) ?? ".";
        string path = Path.GetFullPath(configPath ?? Path.Combine(dir, "config.json"));
        var perFamily = Shared.GetValue(family, _ => new Dictionary<string, AlignmentEncoder>(StringComparer.Ordinal));
        lock (perFamily)
        {
            if (!perFamily.TryGetValue(path, out var encoder)) perFamily[path] = encoder = Create(family, path);
            return encoder;
        }
    }

    private static AlignmentEncoder Create(ModelFamily family, string configPath)
    {
        var model = Build(configPath);
        string first = model.Parameters.Layout.Entries[0].Name;
        string prefix = Prefixes.FirstOrDefault(p => family.Base.TryGetTensor(p + first, out _))
            ?? throw new CheckpointFormatException(family.Base.Path, first, $"is missing; the {model.ArchitectureName} encoder of {configPath} needs it (looked with no prefix and with {string.Join(", ", Prefixes.Skip(1))}).");
        return new AlignmentEncoder(new DatasetEncoder(model), prefix, Path.GetFullPath(configPath));
    }

    /// <summary>The encoder for a merged model, from a <c>config.json</c> (what <c>Restore</c> uses).</summary>
    /// <exception cref="MergeException">No config, or a merged model without the encoder's tensors.</exception>
    public static AlignmentEncoder ForMerged(MergedModel merged, string configPath)
    {
        ArgumentNullException.ThrowIfNull(merged);
        var model = Build(configPath);
        string first = model.Parameters.Layout.Entries[0].Name;
        string prefix = Prefixes.FirstOrDefault(p => merged.Tensors.ContainsKey(p + first))
            ?? throw new IncompatibleModelsException(configPath, first, $"is not among the merged model's tensors; the {model.ArchitectureName} encoder needs it.");
        return new AlignmentEncoder(new DatasetEncoder(model), prefix, Path.GetFullPath(configPath));
    }

    private static IDenseEncoder Build(string configPath)
    {
        if (!File.Exists(configPath)) throw new MergeException(configPath, null, "config.json not found; alignment needs the encoder's architecture (give the stage a 'config' parameter).");
        var (kind, config) = ModelConfigFile.Load(configPath);
        return config switch
        {
            VisionTransformerConfig v => new VisionTransformer(v),
            MlpConfig m => new Mlp(m),
            TextEncoderConfig => BuildText(configPath),
            _ => throw new MergeException(configPath, null, $"architecture {kind} has no dense encoder; alignment stages need one."),
        };
    }

    /// <summary>
    /// A text encoder over token-id rows: its sequence length and pooling come from the zoo manifest beside the config
    /// (a config.json alone does not say how the heads read the tokens).
    /// </summary>
    private static IDenseEncoder BuildText(string configPath)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(configPath))!;
        if (!File.Exists(Path.Combine(dir, Zoo.VisionZooManifest.FileName)))
            throw new MergeException(configPath, null, $"a text encoder needs the sequence length and pooling of {Zoo.VisionZooManifest.FileName} beside its config; none found in {dir}.");
        var manifest = Zoo.VisionZooManifest.Load(dir);
        if (!manifest.IsText) throw new MergeException(configPath, null, $"config.json describes a text encoder but {Zoo.VisionZooManifest.FileName} in {dir} describes a '{manifest.Architecture}' family.");
        return manifest.CreateEncoder(dir);
    }

    /// <summary>Encoder weights (layout name → values) of a checkpoint.</summary>
    /// <exception cref="CheckpointFormatException">A tensor is missing or has the wrong size.</exception>
    public Dictionary<string, float[]> ReadWeights(ICheckpointReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var e in _encoder.Model.Parameters.Layout.Entries)
        {
            if (!reader.TryGetTensor(Prefix + e.Name, out var info) || info.ElementCount != e.Length)
                throw new CheckpointFormatException(reader.Path, Prefix + e.Name, $"is missing or of the wrong size; the {_encoder.Model.ArchitectureName} encoder needs shape {e.ShapeText}.");
            var v = new float[info.ElementCount];
            reader.ReadFloat32(info, v);
            result[e.Name] = v;
        }
        return result;
    }

    /// <summary><c>f_m(x)</c> (N, E): the merged model's encoder as task <paramref name="task"/> runs it (cached).</summary>
    public float[] EmbedMerged(MergedModel merged, string task, TaskDataset data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(merged);
        return Cached(merged, task, data, () => Embed(name => merged.TensorFor(task, Prefix + name), data, cancellationToken));
    }

    /// <summary><c>f_t(x)</c> (N, E): a checkpoint's encoder, e.g. the task's fine-tuned model (weights read once, embeddings cached).</summary>
    public float[] EmbedCheckpoint(ICheckpointReader reader, TaskDataset data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return Cached(reader, "", data, () =>
        {
            var w = ReadWeights(reader);
            return Embed(name => w[name], data, cancellationToken);
        });
    }

    /// <summary>Embeddings (N, E) with any weights (layout name → values), not cached (trainable weights change).</summary>
    /// <exception cref="ArgumentException">Examples of the wrong size, or a tensor of the wrong length.</exception>
    public float[] Embed(Func<string, float[]> weights, TaskDataset data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(data);
        lock (_gate)
        {
            _encoder.SetWeights(weights);
            return _encoder.Embed(data, cancellationToken: cancellationToken);
        }
    }

    private float[] Cached(object weightsKey, string task, TaskDataset data, Func<float[]> compute)
    {
        ArgumentNullException.ThrowIfNull(data);
        var perWeights = _cache.GetValue(weightsKey, _ => new Dictionary<(string, TaskDataset), float[]>(new KeyComparer()));
        lock (perWeights)
            if (perWeights.TryGetValue((task, data), out var hit)) return hit;
        var result = compute();
        lock (perWeights) perWeights[(task, data)] = result;
        return result;
    }

    /// <summary>Task name by value, dataset by reference.</summary>
    private sealed class KeyComparer : IEqualityComparer<(string Task, TaskDataset Data)>
    {
        public bool Equals((string Task, TaskDataset Data) x, (string Task, TaskDataset Data) y) =>
            x.Task == y.Task && ReferenceEquals(x.Data, y.Data);

        public int GetHashCode((string Task, TaskDataset Data) obj) =>
            HashCode.Combine(obj.Task, RuntimeHelpers.GetHashCode(obj.Data));
    }
}
