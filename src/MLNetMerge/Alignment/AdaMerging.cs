using MLNetMerge.Merging;
using static MLNetMerge.Alignment.CoefficientMergeRun;

namespace MLNetMerge.Alignment;

/// <summary>Settings of <see cref="AdaMerging"/>, read from its declared parameters (<see cref="AdaMerging.Declared"/>).</summary>
internal sealed class AdaMergingConfig
{
    /// <summary>One coefficient per task, or per task and tensor.</summary>
    public required CoefficientScope Granularity { get; init; }

    /// <summary>Merge TIES-trimmed task vectors instead of plain ones (AdaMerging++; default false).</summary>
    public required bool TiesVectors { get; init; }

    /// <summary>TIES's keep fraction for AdaMerging++.</summary>
    public required double Keep { get; init; }

    /// <summary>Adam steps, each on one batch of every task.</summary>
    public required int Steps { get; init; }

    /// <summary>Unlabeled examples per task per step.</summary>
    public required int BatchSize { get; init; }

    /// <summary>Adam's learning rate.</summary>
    public required double LearningRate { get; init; }

    /// <summary>Starting coefficient.</summary>
    public required double InitialCoefficient { get; init; }

    /// <summary>Clamp coefficients to [0, 1] in the forward pass.</summary>
    public required bool Clamp { get; init; }

}

/// <summary>
/// AdaMerging (Yang et al. 2024, ICLR, arXiv:2310.02575): <c>θ^l = θ0^l + Σt clamp(λt^l, 0, 1) τt^l</c> with the
/// coefficients learned by minimising the entropy of every task's predictions (through its own fine-tuned head) on
/// unlabeled test inputs; task-wise (one λ per task) or layer-wise (one per task and tensor). AdaMerging++ uses TIES-trimmed
/// task vectors. Transductive: consumes unlabeled test inputs. The incoming merge's weights are not used (the coefficients
/// define the merge); its task list and heads are.
/// </summary>
internal sealed class AdaMerging : IAlignmentEstimator
{
    /// <summary>Recipe name.</summary>
    public const string MethodName = "adamerging";

    /// <summary>The stage's parameters: the one declaration of their names, defaults, ranges and meaning.</summary>
    internal static readonly IReadOnlyList<MethodParameter> Declared =
    [
        MethodParameter.Choice("granularity", "One coefficient per task and tensor (layer) or per task (task).", "layer", "task"),
        MethodParameter.Choice("vectors", "Plain task vectors, or TIES-trimmed ones (AdaMerging++).", "plain", "ties"),
        MethodParameter.Number("keep", 0.2, "TIES keep fraction of AdaMerging++'s trimmed vectors.", 1e-9, 1),
        MethodParameter.Integer("steps", 500, "Adam steps, each on one batch of every task.", 0, 1_000_000),
        MethodParameter.Integer("batch_size", 16, "Unlabeled examples per task per step.", 1, 1_000_000),
        MethodParameter.Number("learning_rate", 1e-3, "Adam's learning rate.", 0, 10),
        MethodParameter.Number("init", 0.3, "Starting coefficient.", -100, 100),
        MethodParameter.Flag("clamp", true, "Clamp coefficients to [0, 1] in the forward pass (the authors' code)."),
    ];

    private readonly AdaMergingConfig _o;
    private readonly ulong _seed;

    /// <summary>Creates the estimator.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Non-positive steps or batch size, or keep outside (0, 1].</exception>
    public AdaMerging(AdaMergingConfig options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Steps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        if (!(options.Keep > 0 && options.Keep <= 1)) throw new ArgumentOutOfRangeException(nameof(options), $"keep is {options.Keep}; expected (0, 1].");
        _o = options;
        _seed = seed;
    }

    /// <summary>Builds the estimator from recipe parameters: <c>granularity: task|layer</c>, <c>vectors: plain|ties</c>,
    /// <c>keep</c>, <c>steps</c>, <c>batch_size</c>, <c>learning_rate</c>, <c>init</c>, <c>clamp</c>, optional <c>config</c>.</summary>
    /// <exception cref="RecipeException">Unknown key or bad value.</exception>
    public static AdaMerging FromParameters(IReadOnlyDictionary<string, ParameterValue>? parameters, ulong seed)
    {
        var p = new StageParameters(MethodName, Declared, parameters);
        var options = new AdaMergingConfig
        {
            Granularity = p.Choice("granularity") == "task" ? CoefficientScope.Task : CoefficientScope.Layer,
            TiesVectors = p.Choice("vectors") == "ties",
            Keep = p.Number("keep"),
            Steps = p.Integer("steps"),
            BatchSize = p.Integer("batch_size"),
            LearningRate = p.Number("learning_rate"),
            InitialCoefficient = p.Number("init"),
            Clamp = p.Flag("clamp"),
        };
        p.Finish();
        return new AdaMerging(options, seed);
    }

    /// <inheritdoc />
    public string Name => MethodName;

    /// <inheritdoc />
    public DataRequirement Consumes => DataRequirement.UnlabeledTest;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, ParameterValue> Parameters => (new Dictionary<string, ParameterValue>
    {
        ["granularity"] = T(_o.Granularity == CoefficientScope.Task ? "task" : "layer"),
        ["vectors"] = T(_o.TiesVectors ? "ties" : "plain"),
        ["keep"] = N(_o.Keep),
        ["steps"] = N(_o.Steps),
        ["batch_size"] = N(_o.BatchSize),
        ["learning_rate"] = N(_o.LearningRate),
        ["init"] = N(_o.InitialCoefficient),
        ["clamp"] = T(_o.Clamp ? "true" : "false"),
    });

    /// <inheritdoc />
    /// <exception cref="AlignmentDataException">Missing, extra, empty or mis-shaped task data.</exception>
    /// <exception cref="IncompatibleModelsException">The family's tasks are not the merged model's.</exception>
    /// <exception cref="CheckpointFormatException">A head is missing or of the wrong width.</exception>
    public AlignedModel Fit(MergedModel merged, MergeInputs inputs, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var ws = EncoderWorkspace.Open(MethodName, merged, inputs);
        var (theta0, vectors) = CoefficientMergeRun.PlainTaskVectors(ws);
        if (_o.TiesVectors)
            foreach (var tau in vectors) TiesTrimming.Apply(tau, _o.Keep);
        var search = new CoefficientSearch(_o.Granularity, _o.Steps, _o.BatchSize, _o.LearningRate, (float)_o.InitialCoefficient, _o.Clamp, _seed);
        return CoefficientMergeRun.Fit(MethodName, Parameters, merged, ws, theta0, vectors, search, progress, cancellationToken);
    }
}
