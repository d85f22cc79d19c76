using MLNetMerge.Merging;
using MLNetMerge.Tensors;
using static MLNetMerge.Alignment.CoefficientMergeRun;

namespace MLNetMerge.Alignment;

/// <summary>Settings of <see cref="TrustRegionMerging"/>.</summary>
internal sealed class TrustRegionConfig
{
    /// <summary>Inputs per task the mean absolute gradient is averaged over.</summary>
    public required int Samples { get; init; }

    /// <summary>Share of the encoder's elements, from the lowest conflict up, inside the trust region.</summary>
    public required double Quantile { get; init; }

    /// <summary>λ of the task-arithmetic merge inside the trust region.</summary>
    public required double Scale { get; init; }

    /// <summary>Labels from the labeled validation split (true) or the fine-tuned models' predictions on unlabeled inputs.</summary>
    public bool ValidationLabels { get; init; }
}

/// <summary>
/// TATR with gradients (Sun, Li, Wang, Geng and Li 2025, arXiv:2501.15065; docs/methods/tatr.md): each task's mean
/// absolute loss gradient at θ0 (<see cref="MeanAbsoluteGradient"/>, its head on its inputs) measures where the other tasks'
/// vectors would hurt it, <c>Ω = Σ_i G_i ⊙ Σ_{j≠i} |τj|</c>; task arithmetic merges only where Ω is below its
/// <c>quantile</c> over the encoder, <c>θ = θ0 + λ Σt τt ⊙ [Ω &lt; q]</c>. Labels: with <c>labels: validation</c> the
/// labeled validation split's, as the paper takes labeled examples; by default (<c>labels: predicted</c>) the fine-tuned
/// model's predictions (its task's model and head) on unlabeled inputs (the test inputs here: transductive). Replaces the
/// merge.
/// </summary>
internal sealed class TrustRegionMerging : IAlignmentEstimator
{
    /// <summary>Recipe name.</summary>
    public const string MethodName = "trust_region";

    /// <summary>The stage's parameters: the one declaration of their names, defaults, ranges and meaning.</summary>
    internal static readonly IReadOnlyList<MethodParameter> Declared =
    [
        MethodParameter.Integer("samples", 128, "Inputs per task the mean absolute gradient is averaged over (the authors' max_samples).", 1, 10_000_000),
        MethodParameter.Number("quantile", 0.99, "Share of the encoder's elements, by conflict Ω from the lowest, inside the trust region (the authors' threshold_quantile).", 0, 1),
        MethodParameter.Number("scale", 0.3, "λ of the task-arithmetic merge inside the trust region.", -100, 100),
        MethodParameter.Choice("labels", "The gradients' labels: the fine-tuned models' predictions on unlabeled inputs, or the labeled validation split's.", "predicted", "validation"),
    ];

    private readonly TrustRegionConfig _o;

    /// <summary>Creates the estimator.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Non-positive samples or a quantile outside [0, 1].</exception>
    public TrustRegionMerging(TrustRegionConfig options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Samples);
        if (!(options.Quantile is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(options), $"quantile is {options.Quantile}; expected 0 … 1.");
        _o = options;
    }

    /// <summary>Builds the estimator from recipe parameters: <c>samples</c>, <c>quantile</c>, <c>scale</c>.</summary>
    /// <exception cref="RecipeException">Unknown key or bad value.</exception>
    public static TrustRegionMerging FromParameters(IReadOnlyDictionary<string, ParameterValue>? parameters)
    {
        var p = new StageParameters(MethodName, Declared, parameters);
        var options = new TrustRegionConfig
        {
            Samples = p.Integer("samples"), Quantile = p.Number("quantile"), Scale = p.Number("scale"),
            ValidationLabels = p.Choice("labels") == "validation",
        };
        p.Finish();
        return new TrustRegionMerging(options);
    }

    /// <inheritdoc />
    public string Name => MethodName;

    /// <inheritdoc />
    public DataRequirement Consumes => _o.ValidationLabels ? DataRequirement.LabeledValidation : DataRequirement.UnlabeledTest;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, ParameterValue> Parameters => new Dictionary<string, ParameterValue>
    {
        ["samples"] = N(_o.Samples),
        ["quantile"] = N(_o.Quantile),
        ["scale"] = N(_o.Scale),
        ["labels"] = T(_o.ValidationLabels ? "validation" : "predicted"),
    };

    /// <inheritdoc />
    /// <exception cref="AlignmentDataException">Missing, extra, empty or mis-shaped task data; with <c>labels: validation</c>, unlabeled data.</exception>
    /// <exception cref="IncompatibleModelsException">The family's tasks are not the merged model's.</exception>
    /// <exception cref="CheckpointFormatException">A head is missing or of the wrong width.</exception>
    public AlignedModel Fit(MergedModel merged, MergeInputs inputs, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var ws = EncoderWorkspace.Open(MethodName, merged, inputs);
        var model = ws.Model;
        int tasks = ws.TaskNames.Count;
        var theta0 = ws.Flatten(ws.Family.Base);
        var thetas = new float[tasks][];
        var gradients = new float[tasks][];
        for (int t = 0; t < tasks; t++)
        {
            var data = ws.Take(t, _o.Samples);
            thetas[t] = ws.Flatten(ws.Family.Reader(ws.TaskNames[t]));
            if (_o.ValidationLabels && data.Labels is null)
                throw new AlignmentDataException(ws.TaskNames[t], $"{MethodName} with labels: validation needs labeled inputs for task '{ws.TaskNames[t]}'; these have no labels (labels: predicted labels them with the fine-tuned model).");
            int[] labels = _o.ValidationLabels ? data.Labels! : Predict(model, thetas[t], ws.Heads[t], data, cancellationToken);
            theta0.CopyTo(model.Parameters.Values, 0);
            gradients[t] = MeanAbsoluteGradient.Compute(model, ws.Heads[t], data, labels, cancellationToken);
            progress?.Report(new MergeProgress($"{MethodName}: gradients of '{ws.TaskNames[t]}'", t + 1, tasks));
        }
        var weights = new float[ws.ParameterCount];                       // (P)
        float q = Merge(weights, theta0, thetas, gradients, _o.Quantile, (float)_o.Scale, out long kept);
        // The strict Ω < q (the authors' rule) keeps nothing when at least the quantile's share of Ω ties at its minimum:
        // parameters no input reaches (unused embedding rows) have G = 0, so Ω = 0 there. The model would be the base.
        if (kept == 0 && _o.Quantile > 0)
        {
            long ties = weights.Length == 0 ? 0 : CountAtMost(theta0, thetas, gradients, q);
            throw new AlignmentDataException(null, $"{MethodName}: the trust region holds no element (quantile {_o.Quantile} puts q at {q}, and Ω < q leaves out " +
                $"the {ties} of {weights.Length} elements ({100.0 * ties / weights.Length:F1} %) at Ω ≤ q: parameters no input reaches, such as unused embedding rows, " +
                $"have Ω = 0), so the model would be the base; choose a quantile above {(double)ties / weights.Length:F3}.");
        }
        return new MergedEncoderModel(merged, MethodName, Parameters, model, ws.Session.Prefix, weights, ws.TaskNames, ws.Heads, null);
    }

    private static int[] Predict(Nn.IDenseEncoder model, float[] theta, Encoders.TaskHead head, Data.TaskDataset data, CancellationToken cancellationToken)
    {
        theta.CopyTo(model.Parameters.Values, 0);
        return MeanAbsoluteGradient.Predict(model, head, data, cancellationToken);
    }

    /// <summary>
    /// <c>output = θ0 + λ Σt τt ⊙ [Ω &lt; q]</c> with <c>τt = θt − θ0</c>, <c>Ω = Σ_i G_i ⊙ Σ_{j≠i} |τj|</c> (float64 per
    /// element; Σ_{j≠i} |τj| as the sum of the others, never a difference) and q the ascending
    /// min(max(⌊P·quantile⌋, 0), P − 1)-th Ω. Returns q.
    /// </summary>
    public static float Merge(Span<float> output, ReadOnlySpan<float> theta0, IReadOnlyList<float[]> thetas, IReadOnlyList<float[]> gradients, double quantile, float scale) =>
        Merge(output, theta0, thetas, gradients, quantile, scale, out _);

    /// <summary>As <see cref="Merge(Span{float}, ReadOnlySpan{float}, IReadOnlyList{float[]}, IReadOnlyList{float[]}, double, float)"/>,
    /// also counting the elements inside the trust region (<paramref name="kept"/>).</summary>
    public static float Merge(Span<float> output, ReadOnlySpan<float> theta0, IReadOnlyList<float[]> thetas, IReadOnlyList<float[]> gradients, double quantile, float scale, out long kept)
    {
        ArgumentNullException.ThrowIfNull(thetas);
        ArgumentNullException.ThrowIfNull(gradients);
        int tasks = thetas.Count, n = output.Length;
        if (gradients.Count != tasks || tasks == 0) throw new ArgumentException($"{tasks} models and {gradients.Count} gradients; expected the same positive number.");
        var omega = Omega(theta0[..n], thetas, gradients);                // (P) Ω
        long index = Math.Clamp((long)Math.Floor(n * quantile), 0, n - 1);
        float q = n == 0 ? 0 : MagnitudeHistogram.KthLargest(omega, n - index);
        kept = 0;
        for (int e = 0; e < n; e++)
        {
            float sum = 0;
            if (omega[e] < q)
            {
                kept++;
                for (int t = 0; t < tasks; t++) sum += thetas[t][e] - theta0[e];
            }
            output[e] = theta0[e] + scale * sum;
        }
        return q;
    }

    /// <summary>How many elements have Ω ≤ <paramref name="q"/>.</summary>
    private static long CountAtMost(ReadOnlySpan<float> theta0, IReadOnlyList<float[]> thetas, IReadOnlyList<float[]> gradients, float q)
    {
        long count = 0;
        foreach (float o in Omega(theta0, thetas, gradients))
            if (o <= q) count++;
        return count;
    }

    /// <summary><c>Ω = Σ_i G_i ⊙ Σ_{j≠i} |τj|</c>, float64 per element (Σ_{j≠i} |τj| as the sum of the others, never a difference).</summary>
    private static float[] Omega(ReadOnlySpan<float> theta0, IReadOnlyList<float[]> thetas, IReadOnlyList<float[]> gradients)
    {
        int tasks = thetas.Count;
        var omega = new float[theta0.Length];                             // (P) Ω
        for (int e = 0; e < omega.Length; e++)
        {
            double o = 0;
            for (int i = 0; i < tasks; i++)
            {
                double others = 0;
                for (int j = 0; j < tasks; j++)
                    if (j != i) others += Math.Abs((double)thetas[j][e] - theta0[e]);
                o += gradients[i][e] * others;
            }
            omega[e] = (float)o;
        }
        return omega;
    }
}
