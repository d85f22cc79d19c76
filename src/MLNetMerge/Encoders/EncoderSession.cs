using System.Runtime.CompilerServices;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Nn;

namespace MLNetMerge.Encoders;

/// <summary>
/// The one encoder of a family (<see cref="ModelFamily.Session"/>): an <see cref="IDenseEncoder"/> built once from the
/// <see cref="ModelArchitecture"/>, whose weights are swapped in per use (a checkpoint, a merged model's per-task
/// tensors, trainable weights), run over datasets in batches. Embeddings of immutable weights (checkpoints, merged
/// models) are cached per (weights, task, dataset), so stages, seeds and protocols that embed the same split with the same
/// weights do it once. One set of buffers: calls are serialised.
/// </summary>
internal sealed class EncoderSession
{
    /// <summary>Examples per forward pass.</summary>
    public const int BatchSize = 128;

    private readonly Lock _gate = new();
    private readonly ConditionalWeakTable<object, Dictionary<(string Task, TaskDataset Data), float[]>> _cache = new();

    /// <summary>Creates a session (zero weights until the first use).</summary>
    public EncoderSession(ModelArchitecture architecture)
    {
        Architecture = architecture ?? throw new ArgumentNullException(nameof(architecture));
        Model = architecture.CreateEncoder();
    }

    /// <summary>The architecture.</summary>
    public ModelArchitecture Architecture { get; }

    /// <summary>The encoder (its arena holds whichever weights were used last; callers that train it hold the session).</summary>
    public IDenseEncoder Model { get; }

    /// <summary>Prefix of the encoder tensors in the family's checkpoints and merged models.</summary>
    public string Prefix => Architecture.Prefix;

    /// <summary>Width E of the embeddings.</summary>
    public int EmbeddingSize => Model.EmbeddingSize;

    /// <summary>Floats per input example (C·H·W, features, or T token ids).</summary>
    public int InputSize => Model.InputSize;

    /// <summary>Encoder weights (layout name, without prefix → values) of a checkpoint.</summary>
    /// <exception cref="CheckpointFormatException">A tensor is missing or has the wrong shape.</exception>
    public Dictionary<string, float[]> ReadWeights(ICheckpointReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var e in Model.Parameters.Layout.Entries)
        {
            if (!reader.TryGetTensor(Prefix + e.Name, out var info))
                throw new CheckpointFormatException(reader.Path, Prefix + e.Name, $"is missing; the {Model.ArchitectureName} encoder needs it, of shape {e.ShapeText}.");
            // The shape, not only the count: a transposed or reshaped tensor has the right count and the wrong meaning.
            if (!info.Shape.AsSpan().SequenceEqual(e.Shape))
                throw new CheckpointFormatException(reader.Path, Prefix + e.Name, $"has shape {info.ShapeText}; the {Model.ArchitectureName} encoder needs {e.ShapeText}.");
            var v = new float[info.ElementCount];
            reader.ReadFloat32(info, v);
            result[e.Name] = v;
        }
        return result;
    }

    /// <summary>The linear head of a task's checkpoint (<c>classifier.weight</c> (K, E), <c>classifier.bias</c> (K)).</summary>
    /// <exception cref="CheckpointFormatException">Missing tensors, or a head of the wrong width.</exception>
    public TaskHead Head(ICheckpointReader reader) => TaskHead.Read(reader, EmbeddingSize);

    /// <summary>Copies every parameter from <paramref name="weights"/> (called with each layout name, without prefix).</summary>
    /// <exception cref="ArgumentException">A tensor has the wrong length.</exception>
    public void Load(Func<string, float[]> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var p = Model.Parameters;
        for (int i = 0; i < p.Layout.Entries.Count; i++)
        {
            var e = p.Layout.Entries[i];
            var v = weights(e.Name);
            if (v.Length != e.Length) throw new ArgumentException($"tensor '{Prefix}{e.Name}' has {v.Length} values; the {Model.ArchitectureName} encoder expects {e.ShapeText}.");
            v.CopyTo(p.Value(i));
        }
    }

    /// <summary>Embeddings (N, E) with <paramref name="weights"/>, not cached (trainable weights change between calls).</summary>
    /// <exception cref="ArgumentException">Examples of the wrong size, or a tensor of the wrong length.</exception>
    public float[] Embed(Func<string, float[]> weights, TaskDataset data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(data);
        lock (_gate)
        {
            Load(weights);
            return EmbedLoaded(data, cancellationToken);
        }
    }

    /// <summary>Embeddings of several datasets with the same <paramref name="weights"/> (loaded once), not cached.</summary>
    public float[][] Embed(Func<string, float[]> weights, IReadOnlyList<TaskDataset> sets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(sets);
        lock (_gate)
        {
            Load(weights);
            return sets.Select(d => EmbedLoaded(d, cancellationToken)).ToArray();
        }
    }

    /// <summary>Embeddings (N, E) with immutable weights identified by <paramref name="weightsKey"/> (a checkpoint reader, a
    /// merged model), cached per key, task and dataset while the key is alive.</summary>
    public float[] EmbedCached(object weightsKey, string task, Func<string, float[]> weights, TaskDataset data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(weightsKey);
        ArgumentNullException.ThrowIfNull(data);
        var perWeights = _cache.GetValue(weightsKey, _ => new Dictionary<(string, TaskDataset), float[]>(new KeyComparer()));
        lock (perWeights)
            if (perWeights.TryGetValue((task, data), out var hit)) return hit;
        var result = Embed(weights, data, cancellationToken);
        lock (perWeights) perWeights[(task, data)] = result;
        return result;
    }

    /// <summary><c>f_t(x)</c> (N, E) of a checkpoint's encoder (weights read once per call, embeddings cached per reader).</summary>
    public float[] EmbedCheckpoint(ICheckpointReader reader, TaskDataset data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        Dictionary<string, float[]>? w = null;
        return EmbedCached(reader, "", name => (w ??= ReadWeights(reader))[name], data, cancellationToken);
    }

    /// <summary>Embeddings (N, E) with the weights the encoder holds now (callers hold the session, e.g. while training).</summary>
    /// <exception cref="ArgumentException">Examples of the wrong size.</exception>
    public float[] EmbedLoaded(TaskDataset data, CancellationToken cancellationToken = default) => Embed(Model, data, cancellationToken);

    /// <summary>Embeddings (N, E) of <paramref name="data"/> through any encoder with the weights it holds, in batches of
    /// <see cref="BatchSize"/>.</summary>
    /// <exception cref="ArgumentException">Examples of the wrong size.</exception>
    public static float[] Embed(IDenseEncoder model, TaskDataset data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (data.FeatureLength != model.InputSize)
            throw new ArgumentException($"task '{data.Name}' has examples of {data.FeatureLength} values; the {model.ArchitectureName} encoder expects {model.InputSize}.");
        return Nn.Inference.EncoderInference.Embed(model, data.Features, data.Count, BatchSize, cancellationToken);
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
