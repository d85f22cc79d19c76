using System.Numerics.Tensors;
using MLNetMerge.Merging;
using static MLNetMerge.Alignment.CoefficientMergeRun;
using MLNetMerge.Nn;

namespace MLNetMerge.Alignment;

/// <summary>Settings of <see cref="RegMean"/>.</summary>
internal sealed class RegMeanConfig
{
    /// <summary>Off-diagonal factor α of the Gram matrices.</summary>
    public required double Alpha { get; init; }

    /// <summary>Unlabeled examples per task whose linear-layer inputs form the Gram matrices.</summary>
    public required int Samples { get; init; }

    /// <summary>Examples per forward pass.</summary>
    public required int BatchSize { get; init; }

}

/// <summary>
/// RegMean (Jin et al. 2023, ICLR, arXiv:2212.09849): every linear layer of the encoder is merged in closed form from
/// each fine-tuned model's weight and the Gram matrix of that layer's inputs when the fine-tuned model runs on its own
/// task's examples (<see cref="RegMeanSolver"/>); every other tensor (embeddings, norms, biases, patch projection) is the
/// average of the fine-tuned models. The Grams are gathered with a <see cref="GramCollector"/> on the engine's linear
/// layers, so any architecture built from them works. Consumes unlabeled inputs (the test inputs here: transductive).
/// </summary>
internal sealed class RegMean : IAlignmentEstimator
{
    /// <summary>Recipe name.</summary>
    public const string MethodName = "regmean";

    /// <summary>The stage's parameters: the one declaration of their names, defaults, ranges and meaning.</summary>
    internal static readonly IReadOnlyList<MethodParameter> Declared =
    [
        MethodParameter.Number("alpha", 0.95, "Scale of the Gram matrices' off-diagonal entries (RegMean's α; 1 = exact least squares).", 0, 1),
        MethodParameter.Integer("samples", 256, "Unlabeled inputs per task whose linear-layer inputs form the Gram matrices.", 1, 10_000_000),
        MethodParameter.Integer("batch_size", 64, "Inputs per forward pass.", 1, 100_000),
    ];

    private readonly RegMeanConfig _o;

    /// <summary>Creates the estimator.</summary>
    /// <exception cref="ArgumentOutOfRangeException">α outside [0, 1], or non-positive counts.</exception>
    public RegMean(RegMeanConfig options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.Alpha >= 0 && options.Alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(options), $"alpha is {options.Alpha}; expected [0, 1].");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Samples);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        _o = options;
    }

    /// <summary>Builds the estimator from recipe parameters: <c>alpha</c>, <c>samples</c>, <c>batch_size</c>, optional <c>config</c>.</summary>
    /// <exception cref="RecipeException">Unknown key or bad value.</exception>
    public static RegMean FromParameters(IReadOnlyDictionary<string, ParameterValue>? parameters)
    {
        var p = new StageParameters(MethodName, Declared, parameters);
        var options = new RegMeanConfig
        {
            Alpha = p.Number("alpha"),
            Samples = p.Integer("samples"),
            BatchSize = p.Integer("batch_size"),
        };
        p.Finish();
        return new RegMean(options);
    }

    /// <inheritdoc />
    public string Name => MethodName;

    /// <inheritdoc />
    public DataRequirement Consumes => DataRequirement.UnlabeledTest;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, ParameterValue> Parameters => (new Dictionary<string, ParameterValue>
    {
        ["alpha"] = N(_o.Alpha),
        ["samples"] = N(_o.Samples),
        ["batch_size"] = N(_o.BatchSize),
    });

    /// <inheritdoc />
    /// <exception cref="AlignmentDataException">Missing, extra, empty or mis-shaped task data.</exception>
    /// <exception cref="IncompatibleModelsException">The family's tasks are not the merged model's.</exception>
    /// <exception cref="CheckpointFormatException">A head is missing or of the wrong width.</exception>
    public AlignedModel Fit(MergedModel merged, MergeInputs inputs, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var ws = EncoderWorkspace.Open(MethodName, merged, inputs);
        var model = ws.Model;
        var arena = model.Parameters;
        int tasks = ws.TaskNames.Count;
        int samples = Enumerable.Range(0, tasks).Min(t => Math.Min(_o.Samples, ws.Data[t].Count)); // the same count for every task
        var thetas = new float[tasks][];
        var grams = new IReadOnlyDictionary<int, float[]>[tasks];
        for (int t = 0; t < tasks; t++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            thetas[t] = ws.Flatten(ws.Family.Reader(ws.TaskNames[t]));
            grams[t] = Collect(model, thetas[t], ws.Take(t, samples), _o.BatchSize, cancellationToken);
            progress?.Report(new MergeProgress($"{MethodName}: Gram matrices of '{ws.TaskNames[t]}'", t + 1, tasks + 1));
        }
        var weights = new float[arena.Layout.TotalLength];                // (P)
        var entries = arena.Layout.Entries;
        for (int l = 0; l < entries.Count; l++)
        {
            var e = entries[l];
            var dst = weights.AsSpan(e.Offset, e.Length);
            if (e.Shape.Length == 2 && grams.All(g => g.ContainsKey(l)))
            {
                var layerWeights = thetas.Select(th => th.AsSpan(e.Offset, e.Length).ToArray()).ToList();
                RegMeanSolver.Merge(dst, layerWeights, grams.Select(g => g[l]).ToList(), e.Shape[0], e.Shape[1], _o.Alpha);
                continue;
            }
            foreach (var th in thetas) TensorPrimitives.Add(dst, th.AsSpan(e.Offset, e.Length), dst);
            TensorPrimitives.Multiply(dst, 1f / tasks, dst);
        }
        progress?.Report(new MergeProgress($"{MethodName}: merged", tasks + 1, tasks + 1));
        return new MergedEncoderModel(merged, MethodName, Parameters, model, ws.Session.Prefix, weights,
            ws.TaskNames, ws.Heads, null);
    }

    /// <summary>Gram matrices of every linear layer's inputs when the encoder with <paramref name="theta"/> runs on <paramref name="data"/>.</summary>
    public static IReadOnlyDictionary<int, float[]> Collect(IDenseEncoder model, float[] theta, Data.TaskDataset data, int batchSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(theta);
        ArgumentNullException.ThrowIfNull(data);
        theta.CopyTo(model.Parameters.Values, 0);
        var collector = new GramCollector(model.Parameters);
        using (LinearInputTap.Install(collector))
        {
            int f = data.FeatureLength;
            for (int start = 0; start < data.Count; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int b = Math.Min(batchSize, data.Count - start);
                model.Forward(data.Features.AsSpan(start * f, b * f), b);
            }
        }
        return collector.Grams;
    }
}
