using MLNetMerge.Data;
using MLNetMerge.Encoders;
using MLNetMerge.Merging;

namespace MLNetMerge.Alignment;

/// <summary>
/// Base of the aligned models that keep the merged encoder as it is and add per-task parts after it: a task's
/// features are <c>g_t(f_m(x))</c> (a transform, identity by default) and its probabilities
/// <c>softmax(W g_t(f_m(x)) + b)</c> with a head per task (a new one, or the frozen fine-tuned one).
/// The encoder is the merged model's own (<see cref="MergedModel.Session"/>), so <c>Restore(merged, parameters, state)</c>
/// needs nothing else.
/// </summary>
internal abstract class HeadAlignedModel : AlignedModel
{
    /// <summary>Creates the model.</summary>
    /// <param name="merged">The merged model.</param>
    /// <param name="encoder">Its encoder.</param>
    /// <param name="taskNames">Tasks it predicts.</param>
    /// <param name="parameters">The stage's settings.</param>
    private protected HeadAlignedModel(MergedModel merged, EncoderSession encoder, IReadOnlyList<string> taskNames,
        IReadOnlyDictionary<string, ParameterValue> parameters) : base(merged)
    {
        Encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        TaskNames = taskNames ?? throw new ArgumentNullException(nameof(taskNames));
        Parameters = parameters ?? throw new ArgumentNullException(nameof(parameters));
    }

    /// <summary>The encoder the model runs.</summary>
    internal EncoderSession Encoder { get; }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, ParameterValue> Parameters { get; }

    /// <inheritdoc />
    public override IReadOnlyList<string> TaskNames { get; }

    /// <summary>The head that classifies <paramref name="task"/>'s features.</summary>
    public abstract TaskHead HeadOf(string task);

    /// <inheritdoc />
    internal override TaskExport? ExportTask(string task)
    {
        RequireTask(task);
        if (ExportHead(task) is not { } head) return null;
        string prefix = Encoder.Prefix;
        return new TaskExport(name => Merged.Tensors.ContainsKey(prefix + name) ? Merged.TensorFor(task, prefix + name) : null, head,
            Merged.Summary.Method.IsPerTask ? (Merged, task) : Merged, ExportAdapter(task));
    }

    /// <summary>The surgery module an exported graph runs before <see cref="ExportHead"/>, or null (default: none).</summary>
    internal virtual SurgeryAdapter? ExportAdapter(string task) => null;

    /// <summary>The head an encoder-plus-head graph uses for <paramref name="task"/>: <see cref="HeadOf"/> with any feature
    /// transform fused into it, or null when the transform is not linear. Default: <see cref="HeadOf"/> (no transform).</summary>
    internal virtual TaskHead? ExportHead(string task) => HeadOf(task);

    /// <summary>Maps merged embeddings <c>z = f_m(x)</c> (N, E) to the features that feed the head (default: identity).</summary>
    /// <param name="task">The task.</param>
    /// <param name="z">Merged embeddings (N, E).</param>
    /// <param name="n">N.</param>
    public virtual float[] TransformFeatures(string task, float[] z, int n) => z;

    /// <summary>Probabilities (N, K) from precomputed merged embeddings (N, E), skipping the encoder.</summary>
    public float[] PredictFromMergedEmbeddings(string task, float[] z, int n)
    {
        RequireTask(task);
        ArgumentNullException.ThrowIfNull(z);
        return HeadOf(task).Probabilities(TransformFeatures(task, z, n), n);
    }

    /// <inheritdoc />
    public override float[] Embed(string task, TaskDataset data, CancellationToken cancellationToken = default)
    {
        RequireTask(task);
        ArgumentNullException.ThrowIfNull(data);
        if (data.FeatureLength != Encoder.InputSize)
            throw new ArgumentException($"task '{task}': examples of {data.FeatureLength} values; the encoder expects {Encoder.InputSize}.", nameof(data));
        return TransformFeatures(task, EncoderFeatures(task, data, cancellationToken), data.Count);
    }

    /// <summary>The encoder output for <paramref name="task"/> before any transform: by default the merged model's
    /// (cached). Stages that learn encoder weights (coefficients, tinted layers) override it with their own weights.</summary>
    protected virtual float[] EncoderFeatures(string task, TaskDataset data, CancellationToken cancellationToken) =>
        Encoder.EmbedMerged(Merged, task, data, cancellationToken);

    /// <inheritdoc />
    public override float[] PredictProbabilities(string task, TaskDataset data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return HeadOf(task).Probabilities(Embed(task, data, cancellationToken), data.Count);
    }

    /// <summary>Throws <see cref="ArgumentException"/> for a task the model does not predict.</summary>
    protected void RequireTask(string task)
    {
        if (!TaskNames.Contains(task))
            throw new ArgumentException($"the aligned model has no task '{task}' (tasks: {string.Join(", ", TaskNames)}).", nameof(task));
    }

    /// <summary>The fine-tuned head of <paramref name="task"/> as the merged model carries it (never merged).</summary>
    /// <exception cref="CheckpointFormatException">The head is missing or not a (K, <paramref name="width"/>) weight with a (K) bias.</exception>
    public static TaskHead FineTunedHead(MergedModel merged, string task, int width)
    {
        ArgumentNullException.ThrowIfNull(merged);
        string wKey = $"{task}.{TaskHead.WeightName}", bKey = $"{task}.{TaskHead.BiasName}";
        if (!merged.HeadEntries.TryGetValue(wKey, out var w) || !merged.HeadEntries.TryGetValue(bKey, out var b))
            throw new CheckpointFormatException(null, wKey, $"is missing from the merged model; task '{task}' needs {TaskHead.WeightName} and {TaskHead.BiasName} among its heads.");
        int classes = (int)b.ElementCount;
        if (w.Shape.Length != 2 || w.Shape[1] != width || w.Shape[0] != classes)
            throw new CheckpointFormatException(null, wKey, $"has shape [{string.Join(", ", w.Shape)}] with a bias of {classes}; expected (K, {width}) for the {width}-wide embedding.");
        return new TaskHead(merged.HeadFloat32(task, TaskHead.WeightName), merged.HeadFloat32(task, TaskHead.BiasName), classes, width);
    }

    /// <summary>The state tensor called <paramref name="name"/> with <paramref name="length"/> values.</summary>
    /// <exception cref="AlignmentDataException">Missing, or of another size.</exception>
    public static float[] StateTensor(IReadOnlyList<AlignedTensor> state, string name, int length)
    {
        ArgumentNullException.ThrowIfNull(state);
        var t = state.FirstOrDefault(s => s.Name == name)
            ?? throw new AlignmentDataException(null, $"saved state lacks tensor '{name}' (has {string.Join(", ", state.Select(s => s.Name))}).");
        if (t.Values.Length != length) throw new AlignmentDataException(null, $"saved tensor '{name}' has {t.Values.Length} values; expected {length}.");
        return (float[])t.Values.Clone();
    }
}
