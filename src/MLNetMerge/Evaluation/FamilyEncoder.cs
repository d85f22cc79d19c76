using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Nn;
using MLNetMerge.Nn.Inference;

namespace MLNetMerge.Evaluation;

/// <summary>
/// A family's encoder architecture with everything evaluation and alignment need around it: the checkpoint name
/// prefix of the encoder tensors (<c>""</c> or <c>vit.</c>, …), each task's head read from its fine-tuned checkpoint,
/// and weight lookups for the base, a fine-tuned model or a merged model's per-task tensors.
/// </summary>
public sealed class FamilyEncoder
{
    private FamilyEncoder(ModelFamily family, DatasetEncoder encoder, string prefix)
    {
        Family = family;
        Encoder = encoder;
        Prefix = prefix;
    }

    /// <summary>The family.</summary>
    public ModelFamily Family { get; }

    /// <summary>The encoder (one set of buffers; weights replaced per use).</summary>
    public DatasetEncoder Encoder { get; }

    /// <summary>Prefix of the encoder tensors in the family's checkpoints.</summary>
    public string Prefix { get; }

    /// <summary>
    /// Builds the encoder from the <c>config.json</c> beside the family's base checkpoint (or <paramref name="configPath"/>),
    /// as <see cref="EncoderLoader"/> does for inference, loaded with the base weights.
    /// </summary>
    /// <exception cref="MergeException">No usable config, or an architecture without a dense encoder.</exception>
    public static FamilyEncoder Create(ModelFamily family, string? configPath = null)
    {
        ArgumentNullException.ThrowIfNull(family);
        var loaded = EncoderLoader.Load(family.Base.Path, null, configPath);
        var dense = loaded.Dense ?? throw new MergeException(family.Base.Path, null, $"architecture {loaded.Kind} has no dense encoder for evaluation or alignment.");
        return Create(family, dense);
    }

    /// <summary>Wraps an existing encoder model for <paramref name="family"/>.</summary>
    /// <exception cref="CheckpointFormatException">The base lacks the encoder's first tensor under every known prefix.</exception>
    public static FamilyEncoder Create(ModelFamily family, IDenseEncoder model)
    {
        ArgumentNullException.ThrowIfNull(family);
        ArgumentNullException.ThrowIfNull(model);
        string first = model.Parameters.Layout.Entries[0].Name;
        string? prefix = new[] { "", "vit.", "model.", "encoder.", "bert." }.FirstOrDefault(p => family.Base.TryGetTensor(p + first, out _));
        if (prefix is null) throw new CheckpointFormatException(family.Base.Path, first, $"is missing; the {model.ArchitectureName} encoder needs it (looked with no prefix and with vit., model., encoder., bert.).");
        return new FamilyEncoder(family, new DatasetEncoder(model), prefix);
    }

    /// <summary>Width E of the embeddings.</summary>
    public int EmbeddingSize => Encoder.EmbeddingSize;

    /// <summary>The head of <paramref name="task"/>, read from its fine-tuned checkpoint.</summary>
    /// <exception cref="ArgumentException">No task of that name.</exception>
    /// <exception cref="CheckpointFormatException">Missing head tensors, or a head of the wrong width.</exception>
    public TaskHead Head(string task) => TaskHead.Read(Reader(task), EmbeddingSize);

    /// <summary>Encoder weights (layout name → values) of a checkpoint of the family.</summary>
    /// <exception cref="CheckpointFormatException">A tensor is missing or has the wrong size.</exception>
    public Dictionary<string, float[]> ReadWeights(ICheckpointReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var e in Encoder.Model.Parameters.Layout.Entries)
        {
            if (!reader.TryGetTensor(Prefix + e.Name, out var info) || info.ElementCount != e.Length)
                throw new CheckpointFormatException(reader.Path, Prefix + e.Name, $"is missing or of the wrong size; the {Encoder.Model.ArchitectureName} encoder needs shape {e.ShapeText}.");
            var v = new float[info.ElementCount];
            reader.ReadFloat32(info, v);
            result[e.Name] = v;
        }
        return result;
    }

    /// <summary>The fine-tuned checkpoint of <paramref name="task"/>.</summary>
    /// <exception cref="ArgumentException">No task of that name.</exception>
    public ICheckpointReader Reader(string task) =>
        Family.Tasks.FirstOrDefault(t => t.Name == task)?.Reader
        ?? throw new ArgumentException($"the family has no task '{task}' (tasks: {string.Join(", ", Family.Tasks.Select(t => t.Name))}).", nameof(task));

    /// <summary>Weight lookup for <paramref name="task"/> in a merged model (its own tensors for per-task methods).</summary>
    public Func<string, float[]> MergedWeights(MergedModel merged, string task)
    {
        ArgumentNullException.ThrowIfNull(merged);
        return name => merged.TensorFor(task, Prefix + name);
    }
}
