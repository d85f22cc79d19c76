using MLNetMerge.Merging;
using static MLNetMerge.Alignment.CoefficientMergeRun;

namespace MLNetMerge.Alignment;

/// <summary>Settings of <see cref="FisherMerging"/>.</summary>
internal sealed class FisherMergingConfig
{
    /// <summary>Unlabeled examples per task for the Fisher.</summary>
    public required int Samples { get; init; }

    /// <summary>Exact expectation over the model's labels (default) or one sampled label per example.</summary>
    public required FisherLabelSource Labels { get; init; }

    /// <summary>Lower bound on every Fisher value.</summary>
    public required double Floor { get; init; }

}

/// <summary>
/// Fisher merging (Matena &amp; Raffel 2022, NeurIPS, arXiv:2111.09832): each fine-tuned encoder's diagonal Fisher
/// (<see cref="DiagonalFisher"/>, labels from the model's own predictions through its head, on its task's unlabeled
/// inputs) weighs an element-wise average, <c>θ = Σt F̂t θt / Σt F̂t</c> with <c>F̂t = max(Ft, floor)</c>.
/// Consumes unlabeled inputs (the test inputs here: transductive).
/// </summary>
internal sealed class FisherMerging : IAlignmentEstimator
{
    /// <summary>Recipe name.</summary>
    public const string MethodName = "fisher";

    /// <summary>The stage's parameters: the one declaration of their names, defaults, ranges and meaning.</summary>
    internal static readonly IReadOnlyList<MethodParameter> Declared =
    [
        MethodParameter.Integer("samples", 256, "Unlabeled inputs per task the diagonal Fisher is averaged over.", 1, 10_000_000),
        MethodParameter.Choice("labels", "Expected over the model's predictive distribution, or one label sampled from it.", "expected", "sampled"),
        MethodParameter.Number("floor", 1e-6, "Added to every Fisher entry so that parameters no task informs fall back to averaging.", 0, 1),
    ];

    private readonly FisherMergingConfig _o;
    private readonly ulong _seed;

    /// <summary>Creates the estimator.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Non-positive samples or a negative floor.</exception>
    public FisherMerging(FisherMergingConfig options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Samples);
        if (!(options.Floor >= 0)) throw new ArgumentOutOfRangeException(nameof(options), $"floor is {options.Floor}; expected ≥ 0.");
        _o = options;
        _seed = seed;
    }

    /// <summary>Builds the estimator from recipe parameters: <c>samples</c>, <c>labels: expected|sampled</c>, <c>floor</c>, optional <c>config</c>.</summary>
    /// <exception cref="RecipeException">Unknown key or bad value.</exception>
    public static FisherMerging FromParameters(IReadOnlyDictionary<string, ParameterValue>? parameters, ulong seed)
    {
        var p = new StageParameters(MethodName, Declared, parameters);
        var options = new FisherMergingConfig
        {
            Samples = p.Integer("samples"),
            Labels = p.Choice("labels") == "sampled" ? FisherLabelSource.Sampled : FisherLabelSource.Expected,
            Floor = p.Number("floor"),
        };
        p.Finish();
        return new FisherMerging(options, seed);
    }

    /// <inheritdoc />
    public string Name => MethodName;

    /// <inheritdoc />
    public DataRequirement Consumes => DataRequirement.UnlabeledTest;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, ParameterValue> Parameters => (new Dictionary<string, ParameterValue>
    {
        ["samples"] = N(_o.Samples),
        ["labels"] = T(_o.Labels == FisherLabelSource.Sampled ? "sampled" : "expected"),
        ["floor"] = N(_o.Floor),
    });

    /// <inheritdoc />
    /// <exception cref="AlignmentDataException">Missing, extra, empty or mis-shaped task data.</exception>
    /// <exception cref="IncompatibleModelsException">The family's tasks are not the merged model's.</exception>
    /// <exception cref="CheckpointFormatException">A head is missing or of the wrong width.</exception>
    public AlignedModel Fit(MergedModel merged, MergeInputs inputs, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var ws = EncoderWorkspace.Open(MethodName, merged, inputs);
        var model = ws.Model;
        int tasks = ws.TaskNames.Count;
        var thetas = new float[tasks][];
        var fishers = new float[tasks][];
        for (int t = 0; t < tasks; t++)
        {
            thetas[t] = ws.Flatten(ws.Family.Reader(ws.TaskNames[t]));
            thetas[t].CopyTo(model.Parameters.Values, 0);
            fishers[t] = DiagonalFisher.Compute(model, ws.Heads[t], ws.Take(t, _o.Samples), _o.Labels, _seed, t, cancellationToken);
            progress?.Report(new MergeProgress($"{MethodName}: Fisher of '{ws.TaskNames[t]}'", t + 1, tasks));
        }
        var weights = new float[ws.ParameterCount];                       // (P)
        DiagonalFisher.Merge(weights, thetas, fishers, (float)_o.Floor);
        return new MergedEncoderModel(merged, MethodName, Parameters, model, ws.Session.Prefix, weights,
            ws.TaskNames, ws.Heads, null);
    }
}
