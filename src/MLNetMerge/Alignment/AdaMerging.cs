using MLNetMerge.Merging;
using static MLNetMerge.Alignment.CoefficientMergeRun;

namespace MLNetMerge.Alignment;

/// <summary>Settings of <see cref="AdaMerging"/> (defaults from METHODS.md §2 and the authors' code).</summary>
public sealed class AdaMergingOptions
{
    /// <summary>One coefficient per task, or per task and tensor (default: layer-wise).</summary>
    public CoefficientGranularity Granularity { get; init; } = CoefficientGranularity.Layer;

    /// <summary>Merge TIES-trimmed task vectors instead of plain ones (AdaMerging++; default false).</summary>
    public bool TiesVectors { get; init; }

    /// <summary>TIES's keep fraction for AdaMerging++ (default 0.2).</summary>
    public double Keep { get; init; } = 0.2;

    /// <summary>Adam steps, each on one batch of every task (default 500).</summary>
    public int Steps { get; init; } = 500;

    /// <summary>Unlabeled examples per task per step (default 16).</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Adam's learning rate (default 1e-3).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Starting coefficient (default 0.3).</summary>
    public double InitialCoefficient { get; init; } = 0.3;

    /// <summary>Clamp coefficients to [0, 1] in the forward pass (default true, as the authors' code).</summary>
    public bool Clamp { get; init; } = true;

}

/// <summary>
/// AdaMerging (Yang et al. 2024, ICLR, arXiv:2310.02575): <c>θ^l = θ0^l + Σt clamp(λt^l, 0, 1) τt^l</c> with the
/// coefficients learned by minimising the entropy of every task's predictions (through its own fine-tuned head) on
/// unlabeled test inputs; task-wise (one λ per task) or layer-wise (one per task and tensor). AdaMerging++ uses TIES-trimmed
/// task vectors. Transductive: consumes unlabeled test inputs. The incoming merge's weights are not used (the coefficients
/// define the merge); its task list and heads are.
/// </summary>
public sealed class AdaMerging : IAlignmentEstimator
{
    /// <summary>Recipe name.</summary>
    public const string MethodName = "adamerging";

    private readonly AdaMergingOptions _o;
    private readonly ulong _seed;

    /// <summary>Creates the estimator.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Non-positive steps or batch size, or keep outside (0, 1].</exception>
    public AdaMerging(AdaMergingOptions options, ulong seed)
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
        var p = new StageParameters(MethodName, parameters);
        var options = new AdaMergingOptions
        {
            Granularity = p.Choice("granularity", "layer", "layer", "task") == "task" ? CoefficientGranularity.Task : CoefficientGranularity.Layer,
            TiesVectors = p.Choice("vectors", "plain", "plain", "ties") == "ties",
            Keep = p.Number("keep", 0.2, 1e-9, 1),
            Steps = p.Integer("steps", 500, 0, 1_000_000),
            BatchSize = p.Integer("batch_size", 16, 1, 1_000_000),
            LearningRate = p.Number("learning_rate", 1e-3, 0, 10),
            InitialCoefficient = p.Number("init", 0.3, -100, 100),
            Clamp = p.Choice("clamp", "true", "true", "false") == "true",
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
        ["granularity"] = T(_o.Granularity == CoefficientGranularity.Task ? "task" : "layer"),
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
            foreach (var tau in vectors) TiesTrim.Apply(tau, _o.Keep);
        var search = new CoefficientSearch(_o.Granularity, _o.Steps, _o.BatchSize, _o.LearningRate, (float)_o.InitialCoefficient, _o.Clamp, _seed);
        return CoefficientMergeRun.Fit(MethodName, Parameters, merged, ws, theta0, vectors, search, progress, cancellationToken);
    }
}
