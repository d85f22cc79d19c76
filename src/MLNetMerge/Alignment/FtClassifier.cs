using MLNetMerge.Data;
using MLNetMerge.Encoders;
using MLNetMerge.Merging;
using MLNetMerge.Tensors;

namespace MLNetMerge.Alignment;

/// <summary>
/// FT-Classifier (Kong et al. 2024, arXiv:2412.13526; docs/methods/ft-classifier.md): per task, a new head initialised from the fine-tuned head and trained with
/// KL(fine-tuned ‖ merged) on a k-shot unlabeled sample (<see cref="FtClassifierTraining"/>); the encoder is the merged
/// one, frozen; the deployed structure is unchanged (same head shapes). Recipe name <c>ft_classifier</c>; parameters
/// <c>shots</c> (k per class, default 5; 0 = every input), <c>epochs</c> (5), <c>learning_rate</c> (5e-4), <c>batch</c> (1),
/// optional <c>config</c> (the encoder's config.json; default beside the base checkpoint).
/// </summary>
internal sealed class FtClassifierEstimator : IFewShotAlignmentEstimator
{
    /// <summary>Recipe name.</summary>
    public const string MethodName = "ft_classifier";

    /// <summary>The stage's parameters: the one declaration of their names, defaults, ranges and meaning.</summary>
    internal static readonly IReadOnlyList<MethodParameter> Declared =
    [
        MethodParameter.Integer("shots", 5, "Unlabeled examples per class k (labels only balance the draw); 0 = every input.", 0, 1_000_000),
        MethodParameter.Integer("epochs", 5, "Passes over the sample.", 1, 1_000_000),
        MethodParameter.Number("learning_rate", 5e-4, "Adam's learning rate.", 0, 10),
        MethodParameter.Integer("batch", 1, "Examples per step (the paper's: 1).", 1, 1_000_000),
    ];


    /// <summary>Creates the stage from recipe parameters.</summary>
    /// <exception cref="RecipeException">Unknown parameter or bad value.</exception>
    public FtClassifierEstimator(IReadOnlyDictionary<string, ParameterValue>? parameters = null, ulong seed = 0)
    {
        var p = new StageParameters(MethodName, Declared, parameters);
        ShotsPerClass = p.Integer("shots");
        Settings = new FtClassifierSettings(p.Integer("epochs"), p.Number("learning_rate"), p.Integer("batch"));
        Parameters = p.Finish();
        Seed = seed;
    }

    /// <inheritdoc />
    public string Name => MethodName;

    /// <inheritdoc />
    public DataRequirement Consumes => DataRequirement.UnlabeledTest;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, ParameterValue> Parameters { get; }

    /// <inheritdoc />
    public int ShotsPerClass { get; }

    /// <inheritdoc />
    public ulong Seed { get; }

    /// <summary>Epochs, learning rate, batch.</summary>
    public FtClassifierSettings Settings { get; }

    /// <inheritdoc />
    public IFewShotAlignmentEstimator WithSeed(ulong seed) => new FtClassifierEstimator(Parameters, seed);

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
        var draws = data.Select(d => (d.Task, d.Data, Idx: AlignmentInputs.FewShotIndices(d.Data, ShotsPerClass, RandomStreams.Key(Seed, "ft_classifier.shots", 0, d.Task)), Head: HeadAlignedModel.FineTunedHead(merged, d.Task, e))).ToList();
        int batch = Settings.Batch;
        long total = draws.Sum(d => (long)((d.Idx.Length + Math.Min(batch, d.Idx.Length) - 1) / Math.Min(batch, d.Idx.Length)) * Settings.Epochs), done = 0;
        string stage = $"{Name} seed {Seed}";
        progress?.Report(new MergeProgress(stage, 0, total));
        var heads = new Dictionary<string, TaskHead>(StringComparer.Ordinal);
        foreach (var (task, d, idx, head) in draws)
        {
            var reader = inputs.Family.Tasks.First(t => t.Name == task).Reader;
            var zm = Rows.Gather(encoder.EmbedMerged(merged, task, d, cancellationToken), idx, e);          // (n, E) student
            var zt = Rows.Gather(encoder.EmbedCheckpoint(reader, d, cancellationToken), idx, e);            // (n, E) teacher
            var teacher = head.Logits(zt, idx.Length);                                                                           // (n, K)
            long before = done;
            heads[task] = FtClassifierTraining.Train(head, zm, teacher, idx.Length, Settings, RandomStreams.Key(Seed, "ft_classifier.batches", 0, task),
                (step, _, loss) => { done = before + step; progress?.Report(new MergeProgress(stage, done, total, loss)); }, cancellationToken);
        }
        return new FtClassifierModel(merged, encoder, heads, Parameters);
    }
}

/// <summary>The merged encoder with a new FT-Classifier head per task. State: <c>{task}.classifier.weight</c> (K, E) and
/// <c>{task}.classifier.bias</c> (K).</summary>
internal sealed class FtClassifierModel : HeadAlignedModel
{
    private readonly IReadOnlyDictionary<string, TaskHead> _heads;

    internal FtClassifierModel(MergedModel merged, EncoderSession encoder, IReadOnlyDictionary<string, TaskHead> heads,
        IReadOnlyDictionary<string, ParameterValue> parameters)
        : base(merged, encoder, merged.TaskNames.Where(heads.ContainsKey).ToList(), parameters) => _heads = heads;

    /// <inheritdoc />
    public override string Method => FtClassifierEstimator.MethodName;

    /// <inheritdoc />
    public override TaskHead HeadOf(string task)
    {
        RequireTask(task);
        return _heads[task];
    }

    /// <inheritdoc />
    public override IReadOnlyList<AlignedTensor> State =>
        TaskNames.SelectMany(t => new[]
        {
            new AlignedTensor($"{t}.{TaskHead.WeightName}", [_heads[t].ClassCount, _heads[t].InputSize], (float[])_heads[t].Weight.Clone()),
            new AlignedTensor($"{t}.{TaskHead.BiasName}", [_heads[t].ClassCount], (float[])_heads[t].Bias.Clone()),
        }).ToList();

    /// <summary>Rebuilds a fitted model from its merged model, parameters and <see cref="State"/>.</summary>
    /// <exception cref="AlignmentDataException">A head tensor is missing or of the wrong size.</exception>
    public static FtClassifierModel Restore(MergedModel merged, IReadOnlyDictionary<string, ParameterValue> parameters, IReadOnlyList<AlignedTensor> state)
    {
        ArgumentNullException.ThrowIfNull(merged);
        var encoder = merged.Session;
        var heads = new Dictionary<string, TaskHead>(StringComparer.Ordinal);
        foreach (var task in merged.TaskNames.Where(t => state.Any(s => s.Name == $"{t}.{TaskHead.WeightName}")))
        {
            var ft = FineTunedHead(merged, task, encoder.EmbeddingSize);
            heads[task] = new TaskHead(StateTensor(state, $"{task}.{TaskHead.WeightName}", ft.Weight.Length),
                StateTensor(state, $"{task}.{TaskHead.BiasName}", ft.Bias.Length), ft.ClassCount, ft.InputSize);
        }
        if (heads.Count == 0) throw new AlignmentDataException(null, $"saved FT-Classifier state has no head of any task of the merged model ({string.Join(", ", merged.TaskNames)}).");
        return new FtClassifierModel(merged, encoder, heads, parameters);
    }
}
