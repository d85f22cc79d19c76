using MLNetMerge.Merging;
using static MLNetMerge.Alignment.CoefficientMergeRun;
using MLNetMerge.Merging.Methods;

namespace MLNetMerge.Alignment;

/// <summary>Settings of <see cref="CartPlusPlus"/>.</summary>
internal sealed class CartPlusPlusConfig
{
    /// <summary>CART's rank ratio r / min(m, n).</summary>
    public required double RankRatio { get; init; }

    /// <summary>Starting coefficient: CART's λ.</summary>
    public required double InitialCoefficient { get; init; }

    /// <summary>One coefficient per task, or per task and tensor.</summary>
    public required CoefficientScope Granularity { get; init; }

    /// <summary>Adam steps.</summary>
    public required int Steps { get; init; }

    /// <summary>Unlabeled examples per task per step.</summary>
    public required int BatchSize { get; init; }

    /// <summary>Adam's learning rate.</summary>
    public required double LearningRate { get; init; }

}

/// <summary>
/// CART++ (Choi et al. 2024, arXiv:2412.12153): AdaMerging's entropy-learned coefficients over CART's centered low-rank
/// task vectors, <c>θ^l = θavg^l + Σt λt^l lowrank_r(ct^l)</c>, initialised at CART's λ and not clamped. The vectors
/// come from the library's CART (the per-task "indexing" run at λ = 1 gives <c>θavg</c> and <c>θavg + lowrank(ct)</c>;
/// tensors outside the blocks keep their full <c>ct</c>, which sum to zero, so at the start CART++ is CART exactly).
/// Transductive: consumes unlabeled test inputs.
/// </summary>
internal sealed class CartPlusPlus : IAlignmentEstimator
{
    /// <summary>Recipe name.</summary>
    public const string MethodName = "cart_plus_plus";

    /// <summary>The stage's parameters: the one declaration of their names, defaults, ranges and meaning.</summary>
    internal static readonly IReadOnlyList<MethodParameter> Declared =
    [
        MethodParameter.Number("rank_ratio", 0.12, "CART's rank ratio r / min(m, n) of the low-rank task vectors.", 0, 1),
        MethodParameter.Number("init", 2.0, "Starting coefficient (CART's λ).", -100, 100),
        MethodParameter.Choice("granularity", "One coefficient per task and tensor (layer) or per task (task).", "layer", "task"),
        MethodParameter.Integer("steps", 500, "Adam steps, each on one batch of every task.", 0, 1_000_000),
        MethodParameter.Integer("batch_size", 16, "Unlabeled examples per task per step.", 1, 1_000_000),
        MethodParameter.Number("learning_rate", 1e-3, "Adam's learning rate.", 0, 10),
    ];

    private readonly CartPlusPlusConfig _o;
    private readonly ulong _seed;

    /// <summary>Creates the estimator.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Rank ratio outside [0, 1], non-positive batch, negative steps.</exception>
    public CartPlusPlus(CartPlusPlusConfig options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.RankRatio >= 0 && options.RankRatio <= 1)) throw new ArgumentOutOfRangeException(nameof(options), $"rank ratio is {options.RankRatio}; expected [0, 1].");
        ArgumentOutOfRangeException.ThrowIfNegative(options.Steps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        _o = options;
        _seed = seed;
    }

    /// <summary>Builds the estimator from recipe parameters: <c>rank_ratio</c>, <c>init</c>, <c>granularity</c>,
    /// <c>steps</c>, <c>batch_size</c>, <c>learning_rate</c>, optional <c>config</c>.</summary>
    /// <exception cref="RecipeException">Unknown key or bad value.</exception>
    public static CartPlusPlus FromParameters(IReadOnlyDictionary<string, ParameterValue>? parameters, ulong seed)
    {
        var p = new StageParameters(MethodName, Declared, parameters);
        var options = new CartPlusPlusConfig
        {
            RankRatio = p.Number("rank_ratio"),
            InitialCoefficient = p.Number("init"),
            Granularity = p.Choice("granularity") == "task" ? CoefficientScope.Task : CoefficientScope.Layer,
            Steps = p.Integer("steps"),
            BatchSize = p.Integer("batch_size"),
            LearningRate = p.Number("learning_rate"),
        };
        p.Finish();
        return new CartPlusPlus(options, seed);
    }

    /// <inheritdoc />
    public string Name => MethodName;

    /// <inheritdoc />
    public DataRequirement Consumes => DataRequirement.UnlabeledTest;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, ParameterValue> Parameters => (new Dictionary<string, ParameterValue>
    {
        ["rank_ratio"] = N(_o.RankRatio),
        ["init"] = N(_o.InitialCoefficient),
        ["granularity"] = T(_o.Granularity == CoefficientScope.Task ? "task" : "layer"),
        ["steps"] = N(_o.Steps),
        ["batch_size"] = N(_o.BatchSize),
        ["learning_rate"] = N(_o.LearningRate),
    });

    /// <inheritdoc />
    /// <exception cref="AlignmentDataException">Missing, extra, empty or mis-shaped task data.</exception>
    /// <exception cref="IncompatibleModelsException">The family's tasks are not the merged model's.</exception>
    /// <exception cref="CheckpointFormatException">A head is missing or of the wrong width.</exception>
    public AlignedModel Fit(MergedModel merged, MergeInputs inputs, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var ws = EncoderWorkspace.Open(MethodName, merged, inputs);
        var (average, vectors) = LowRankCenteredVectors(ws, inputs.Family, _o.RankRatio, _seed, cancellationToken);
        var search = new CoefficientSearch(_o.Granularity, _o.Steps, _o.BatchSize, _o.LearningRate, (float)_o.InitialCoefficient, Clamp: false, _seed);
        return CoefficientMergeRun.Fit(MethodName, Parameters, merged, ws, average, vectors, search, progress, cancellationToken);
    }

    /// <summary>
    /// θavg (P) and each task's <c>lowrank_r(ct)</c> (T × P; full <c>ct</c> outside the block matrices) from the library's
    /// CART indexing merge at λ = 1: <c>θ̂t − θavg</c>.
    /// </summary>
    internal static (float[] Average, float[][] Vectors) LowRankCenteredVectors(EncoderWorkspace workspace, Encoders.ModelFamily family,
        double rankRatio, ulong seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        var method = MergeMethods.All.OfType<CartIndexing>().Single();
        var parameters = new MergeParameters(method,
            new Dictionary<string, ParameterValue> { ["rank_ratio"] = new ParameterValue.Scalar(rankRatio), ["scale"] = new ParameterValue.Scalar(1.0) },
            family.TaskNames.Select(_ => (IReadOnlyDictionary<string, ParameterValue>?)null).ToList());
        var cart = MergeExecutor.RunInMemory(family, method, parameters, new MergeExecutionOptions { Seed = seed }, cancellationToken: cancellationToken);
        var average = workspace.Flatten(name => cart.Tensors[workspace.Session.Prefix + name]);
        var vectors = new float[workspace.TaskNames.Count][];
        for (int t = 0; t < vectors.Length; t++)
        {
            vectors[t] = workspace.Flatten(cart, workspace.TaskNames[t]);
            System.Numerics.Tensors.TensorPrimitives.Subtract(vectors[t], average, vectors[t]);
        }
        return (average, vectors);
    }
}
