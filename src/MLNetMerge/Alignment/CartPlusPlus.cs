using MLNetMerge.Merging;
using static MLNetMerge.Alignment.CoefficientMergeRun;
using MLNetMerge.Merging.Methods;

namespace MLNetMerge.Alignment;

/// <summary>Settings of <see cref="CartPlusPlus"/> (defaults from METHODS.md §1–2).</summary>
public sealed class CartPlusPlusOptions
{
    /// <summary>CART's rank ratio r / min(m, n) (default 0.12).</summary>
    public double RankRatio { get; init; } = 0.12;

    /// <summary>Starting coefficient: CART's λ (default 2.0; not clamped).</summary>
    public double InitialCoefficient { get; init; } = 2.0;

    /// <summary>One coefficient per task, or per task and tensor (default: layer-wise).</summary>
    public CoefficientGranularity Granularity { get; init; } = CoefficientGranularity.Layer;

    /// <summary>Adam steps (default 500).</summary>
    public int Steps { get; init; } = 500;

    /// <summary>Unlabeled examples per task per step (default 16).</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Adam's learning rate (default 1e-3).</summary>
    public double LearningRate { get; init; } = 1e-3;

}

/// <summary>
/// CART++ (Choi et al. 2024, arXiv:2412.12153): AdaMerging's entropy-learned coefficients over CART's centered low-rank
/// task vectors, <c>θ^l = θavg^l + Σt λt^l lowrank_r(ct^l)</c>, initialised at CART's λ and not clamped. The vectors
/// come from the library's CART (the per-task "indexing" run at λ = 1 gives <c>θavg</c> and <c>θavg + lowrank(ct)</c>;
/// tensors outside the blocks keep their full <c>ct</c>, which sum to zero, so at the start CART++ is CART exactly).
/// Transductive: consumes unlabeled test inputs.
/// </summary>
public sealed class CartPlusPlus : IAlignmentEstimator
{
    /// <summary>Recipe name.</summary>
    public const string MethodName = "cart_plus_plus";

    private readonly CartPlusPlusOptions _o;
    private readonly ulong _seed;

    /// <summary>Creates the estimator.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Rank ratio outside [0, 1], non-positive batch, negative steps.</exception>
    public CartPlusPlus(CartPlusPlusOptions options, ulong seed)
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
        var p = new StageParameters(MethodName, parameters);
        var options = new CartPlusPlusOptions
        {
            RankRatio = p.Number("rank_ratio", 0.12, 0, 1),
            InitialCoefficient = p.Number("init", 2.0, -100, 100),
            Granularity = p.Choice("granularity", "layer", "layer", "task") == "task" ? CoefficientGranularity.Task : CoefficientGranularity.Layer,
            Steps = p.Integer("steps", 500, 0, 1_000_000),
            BatchSize = p.Integer("batch_size", 16, 1, 1_000_000),
            LearningRate = p.Number("learning_rate", 1e-3, 0, 10),
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
        ["granularity"] = T(_o.Granularity == CoefficientGranularity.Task ? "task" : "layer"),
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
        var cart = MergeExecutor.RunInMemory(family, method, parameters, new MergeExecutionOptions { Seed = seed }, null, cancellationToken);
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
