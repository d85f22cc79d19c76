using MLNetMerge.Data;
using MLNetMerge.Merging;
using MLNetMerge.Nn;
using MLNetMerge.Encoders;

namespace MLNetMerge.Alignment;

/// <summary>
/// The result of a stage that produces new encoder weights (AdaMerging, AdaMerging++, CART++, RegMean, Fisher merging):
/// one merged encoder shared by every task, each task's original fine-tuned head, and the learned coefficients when
/// the stage learns some. <see cref="AlignedModel.State"/> holds <c>encoder.NAME</c> (every encoder tensor under its
/// checkpoint name), <c>TASK.classifier.weight</c> / <c>TASK.classifier.bias</c>, and <c>coefficients</c>
/// ((T) task-wise or (T, L) layer-wise) when present; <see cref="Restore"/> rebuilds the model from it.
/// </summary>
internal sealed class MergedEncoderModel : AlignedModel
{
    private readonly IDenseEncoder _encoder;
    private readonly float[] _weights;                                    // (P) in the encoder's arena layout
    private readonly IReadOnlyList<TaskHead> _heads;
    private readonly string _prefix;
    private readonly object _gate = new();

    /// <summary>Creates the fitted model.</summary>
    /// <param name="merged">The merged model the stage was fitted on.</param>
    /// <param name="method">Recipe name of the stage.</param>
    /// <param name="parameters">The stage's parameters.</param>
    /// <param name="encoder">An encoder of the right architecture (its weights are replaced before each use).</param>
    /// <param name="prefix">Prefix of the encoder tensors in checkpoints.</param>
    /// <param name="weights">The merged encoder weights (P), in <paramref name="encoder"/>'s arena layout.</param>
    /// <param name="taskNames">Tasks.</param>
    /// <param name="heads">Each task's head, in <paramref name="taskNames"/> order.</param>
    /// <param name="coefficients">Learned coefficients, or null.</param>
    public MergedEncoderModel(MergedModel merged, string method, IReadOnlyDictionary<string, ParameterValue> parameters,
        IDenseEncoder encoder, string prefix, float[] weights, IReadOnlyList<string> taskNames, IReadOnlyList<TaskHead> heads,
        AlignedTensor? coefficients) : base(merged)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Length != encoder.Parameters.Layout.TotalLength)
            throw new ArgumentException($"{weights.Length} weights for an encoder of {encoder.Parameters.Layout.TotalLength} parameters.", nameof(weights));
        if (heads.Count != taskNames.Count) throw new ArgumentException($"{heads.Count} heads for {taskNames.Count} tasks.", nameof(heads));
        Method = method;
        Parameters = parameters;
        _encoder = encoder;
        _prefix = prefix;
        _weights = weights;
        TaskNames = taskNames;
        _heads = heads;
        Coefficients = coefficients;
    }

    /// <inheritdoc />
    public override string Method { get; }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, ParameterValue> Parameters { get; }

    /// <inheritdoc />
    public override IReadOnlyList<string> TaskNames { get; }

    /// <summary>The learned coefficients ((T) or (T, L)), or null for stages without coefficients.</summary>
    public AlignedTensor? Coefficients { get; }

    /// <summary>The merged encoder weights by checkpoint name (prefix included).</summary>
    public IReadOnlyDictionary<string, float[]> EncoderWeights =>
        _encoder.Parameters.Layout.Entries.ToDictionary(e => _prefix + e.Name, e => _weights.AsSpan(e.Offset, e.Length).ToArray(), StringComparer.Ordinal);

    private TaskHead Head(string task)
    {
        int i = -1;
        for (int t = 0; t < TaskNames.Count && i < 0; t++) if (TaskNames[t] == task) i = t;
        return i >= 0 ? _heads[i] : throw new ArgumentException($"the model has no task '{task}' (tasks: {string.Join(", ", TaskNames)}).", nameof(task));
    }

    /// <inheritdoc />
    internal override TaskExport? ExportTask(string task)
    {
        var head = Head(task);
        var layout = _encoder.Parameters.Layout;
        return new TaskExport(name => layout.Entries.FirstOrDefault(e => e.Name == name) is { } e ? _weights.AsSpan(e.Offset, e.Length).ToArray() : null, head, this);
    }

    /// <inheritdoc />
    public override float[] Embed(string task, TaskDataset data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        _ = Head(task);
        lock (_gate)
        {
            _weights.CopyTo(_encoder.Parameters.Values, 0);
            return EncoderSession.Embed(_encoder, data, cancellationToken);
        }
    }

    /// <inheritdoc />
    public override float[] PredictProbabilities(string task, TaskDataset data, CancellationToken cancellationToken = default)
    {
        var head = Head(task);
        var emb = Embed(task, data, cancellationToken);                   // (N, E)
        return head.Probabilities(emb, data.Count);
    }

    /// <inheritdoc />
    public override IReadOnlyList<AlignedTensor> State
    {
        get
        {
            var state = new List<AlignedTensor>();
            if (Coefficients is not null) state.Add(Coefficients);
            foreach (var e in _encoder.Parameters.Layout.Entries)
                state.Add(new AlignedTensor("encoder." + _prefix + e.Name, (int[])e.Shape.Clone(), _weights.AsSpan(e.Offset, e.Length).ToArray()));
            for (int t = 0; t < TaskNames.Count; t++)
            {
                var h = _heads[t];
                state.Add(new AlignedTensor($"{TaskNames[t]}.{TaskHead.WeightName}", [h.ClassCount, h.InputSize], (float[])h.Weight.Clone()));
                state.Add(new AlignedTensor($"{TaskNames[t]}.{TaskHead.BiasName}", [h.ClassCount], (float[])h.Bias.Clone()));
            }
            return state;
        }
    }

    /// <summary>Rebuilds a fitted model from its parameters and saved <see cref="AlignedModel.State"/>.</summary>
    /// <exception cref="CheckpointFormatException">A tensor the encoder or a head needs is missing or of the wrong size.</exception>
    /// <exception cref="MergeException">The merged model does not know its encoder's architecture.</exception>
    public static MergedEncoderModel Restore(MergedModel merged, string method, IReadOnlyDictionary<string, ParameterValue> parameters, IReadOnlyList<AlignedTensor> state)
    {
        ArgumentNullException.ThrowIfNull(merged);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(state);
        var encoder = merged.Session.Architecture.CreateEncoder();        // own buffers: the weights are copied in per use
        string prefix = merged.Session.Prefix;
        var byName = state.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var weights = new float[encoder.Parameters.Layout.TotalLength];   // (P)
        foreach (var e in encoder.Parameters.Layout.Entries)
        {
            string name = "encoder." + prefix + e.Name;
            if (!byName.TryGetValue(name, out var v) || v.Values.Length != e.Length)
                throw new CheckpointFormatException(null, name, $"is missing from the saved {method} state or of the wrong size; expected shape {e.ShapeText}.");
            v.Values.CopyTo(weights, e.Offset);
        }
        var heads = new List<TaskHead>();
        foreach (var task in merged.TaskNames)
        {
            if (!byName.TryGetValue($"{task}.{TaskHead.WeightName}", out var w) || !byName.TryGetValue($"{task}.{TaskHead.BiasName}", out var b))
                throw new CheckpointFormatException(null, $"{task}.{TaskHead.WeightName}", $"is missing from the saved {method} state.");
            if (w.Shape.Length != 2 || w.Shape[1] != encoder.EmbeddingSize || w.Shape[0] != b.Values.Length)
                throw new CheckpointFormatException(null, $"{task}.{TaskHead.WeightName}", $"has shape [{string.Join(", ", w.Shape)}]; expected (K, {encoder.EmbeddingSize}) with a bias of K values.");
            heads.Add(new TaskHead(w.Values, b.Values, w.Shape[0], w.Shape[1]));
        }
        byName.TryGetValue("coefficients", out var coefficients);
        return new MergedEncoderModel(merged, method, parameters, encoder, prefix, weights, merged.TaskNames, heads, coefficients);
    }
}
