using MLNetMerge.Encoders;
using MLNetMerge.Merging;
using MLNetMerge.Tensors;

namespace MLNetMerge.Alignment;

/// <summary>
/// Representation Surgery (Yang et al. 2024; baseline): per task, <c>z' = z − B·ReLU(A z)</c> on the merged features,
/// trained with L1 to the fine-tuned model's features on the unlabeled inputs (<see cref="SurgeryTraining"/>), then the
/// frozen fine-tuned head. Recipe name <c>surgery</c>; parameters <c>rank</c> (16), <c>steps</c> (500),
/// <c>learning_rate</c> (1e-3), <c>batch</c> (32), optional <c>config</c>.
/// </summary>
internal sealed class SurgeryEstimator : IAlignmentEstimator
{
    /// <summary>Recipe name.</summary>
    public const string MethodName = "surgery";

    /// <summary>The stage's parameters: the one declaration of their names, defaults, ranges and meaning.</summary>
    internal static readonly IReadOnlyList<MethodParameter> Declared =
    [
        MethodParameter.Integer("rank", 16, "Bottleneck width r of each task's adapter.", 1, 1_000_000),
        MethodParameter.Integer("steps", 500, "Adam steps per task.", 1, 1_000_000),
        MethodParameter.Number("learning_rate", 1e-3, "Adam's learning rate.", 0, 10),
        MethodParameter.Integer("batch", 32, "Examples per step.", 1, 1_000_000),
    ];


    /// <summary>Creates the stage from recipe parameters.</summary>
    /// <exception cref="RecipeException">Unknown parameter or bad value.</exception>
    public SurgeryEstimator(IReadOnlyDictionary<string, ParameterValue>? parameters = null, ulong seed = 0)
    {
        var p = new StageParameters(MethodName, Declared, parameters);
        Settings = new SurgerySettings(p.Integer("rank"), p.Integer("steps"), p.Number("learning_rate"), p.Integer("batch"));
        Parameters = p.Finish();
        Seed = seed;
    }

    /// <summary>Rank, steps, learning rate, batch.</summary>
    public SurgerySettings Settings { get; }

    /// <summary>Seed of the initialisation and batch order.</summary>
    public ulong Seed { get; }

    /// <inheritdoc />
    public string Name => MethodName;

    /// <inheritdoc />
    public DataRequirement Consumes => DataRequirement.UnlabeledTest;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, ParameterValue> Parameters { get; }

    /// <inheritdoc />
    /// <exception cref="AlignmentDataException">Missing, extra or empty task data.</exception>
    /// <exception cref="CheckpointFormatException">A head of the wrong width.</exception>
    public AlignedModel Fit(MergedModel merged, MergeInputs inputs, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(merged);
        ArgumentNullException.ThrowIfNull(inputs);
        var encoder = inputs.Family.Session;
        var data = AlignmentInputs.Check(Name, merged, inputs, encoder);
        int e = encoder.EmbeddingSize;
        long total = data.Count * (long)Settings.Steps, done = 0;
        progress?.Report(new MergeProgress(Name, 0, total));
        var adapters = new Dictionary<string, (float[] Down, float[] Up)>(StringComparer.Ordinal);
        var heads = new Dictionary<string, TaskHead>(StringComparer.Ordinal);
        foreach (var (task, d) in data)
        {
            heads[task] = HeadAlignedModel.FineTunedHead(merged, task, e);
            var reader = inputs.Family.Tasks.First(t => t.Name == task).Reader;
            var zm = encoder.EmbedMerged(merged, task, d, cancellationToken);      // (N, E)
            var zt = encoder.EmbedCheckpoint(reader, d, cancellationToken);        // (N, E)
            long before = done;
            adapters[task] = SurgeryTraining.Train(zm, zt, d.Count, e, Settings, RandomStreams.Key(Seed, "surgery.adapter", 0, task),
                (step, loss) => { done = before + step; if (step % 25 == 0 || step == Settings.Steps) progress?.Report(new MergeProgress(Name, done, total, loss)); },
                cancellationToken);
        }
        return new SurgeryModel(merged, encoder, Settings.Rank, adapters, heads, Parameters);
    }
}

/// <summary>The merged encoder, a surgery adapter per task and the frozen fine-tuned heads. State per task:
/// <c>{task}.surgery.down.weight</c> (r, E) and <c>{task}.surgery.up.weight</c> (E, r).</summary>
internal sealed class SurgeryModel : HeadAlignedModel
{
    private readonly int _rank;
    private readonly IReadOnlyDictionary<string, (float[] Down, float[] Up)> _adapters;
    private readonly IReadOnlyDictionary<string, TaskHead> _heads;

    internal SurgeryModel(MergedModel merged, EncoderSession encoder, int rank, IReadOnlyDictionary<string, (float[] Down, float[] Up)> adapters,
        IReadOnlyDictionary<string, TaskHead> heads, IReadOnlyDictionary<string, ParameterValue> parameters)
        : base(merged, encoder, merged.TaskNames.Where(adapters.ContainsKey).ToList(), parameters)
    {
        _rank = rank;
        _adapters = adapters;
        _heads = heads;
    }

    /// <inheritdoc />
    public override string Method => SurgeryEstimator.MethodName;

    /// <inheritdoc />
    public override TaskHead HeadOf(string task)
    {
        RequireTask(task);
        return _heads[task];
    }

    /// <summary>The graph runs the adapter (<see cref="ExportAdapter"/>) and then the frozen fine-tuned head.</summary>
    internal override TaskHead? ExportHead(string task) => HeadOf(task);

    /// <inheritdoc />
    internal override SurgeryAdapter? ExportAdapter(string task)
    {
        RequireTask(task);
        var (down, up) = _adapters[task];
        return new SurgeryAdapter(down, up, _rank);
    }

    /// <inheritdoc />
    public override float[] TransformFeatures(string task, float[] z, int n)
    {
        RequireTask(task);
        var (down, up) = _adapters[task];
        return SurgeryTraining.Apply(z, down, up, n, Encoder.EmbeddingSize, _rank);
    }

    /// <inheritdoc />
    public override IReadOnlyList<AlignedTensor> State =>
        TaskNames.SelectMany(t => new[]
        {
            new AlignedTensor($"{t}.surgery.down.weight", [_rank, Encoder.EmbeddingSize], (float[])_adapters[t].Down.Clone()),
            new AlignedTensor($"{t}.surgery.up.weight", [Encoder.EmbeddingSize, _rank], (float[])_adapters[t].Up.Clone()),
        }).ToList();

    /// <summary>Rebuilds a fitted model from its merged model, parameters (<c>rank</c>, <c>config</c>) and <see cref="State"/>.</summary>
    /// <exception cref="AlignmentDataException">An adapter tensor is missing or of the wrong size.</exception>
    public static SurgeryModel Restore(MergedModel merged, IReadOnlyDictionary<string, ParameterValue> parameters, IReadOnlyList<AlignedTensor> state)
    {
        ArgumentNullException.ThrowIfNull(merged);
        ArgumentNullException.ThrowIfNull(state);
        var encoder = merged.Session;
        int rank = parameters.TryGetValue("rank", out var rv) ? (int)rv.ResolveNumber("", -1, 0) : 16, e = encoder.EmbeddingSize;
        var adapters = new Dictionary<string, (float[], float[])>(StringComparer.Ordinal);
        var heads = new Dictionary<string, TaskHead>(StringComparer.Ordinal);
        foreach (var task in merged.TaskNames.Where(t => state.Any(s => s.Name == $"{t}.surgery.down.weight")))
        {
            adapters[task] = (StateTensor(state, $"{task}.surgery.down.weight", rank * e), StateTensor(state, $"{task}.surgery.up.weight", e * rank));
            heads[task] = FineTunedHead(merged, task, e);
        }
        if (adapters.Count == 0) throw new AlignmentDataException(null, $"saved surgery state has no adapter of any task of the merged model ({string.Join(", ", merged.TaskNames)}).");
        return new SurgeryModel(merged, encoder, rank, adapters, heads, parameters);
    }
}
