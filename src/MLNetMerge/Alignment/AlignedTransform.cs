using MLNetMerge.Tensors;
using MLNetMerge.Data;
using MLNetMerge.Encoders;
using MLNetMerge.Merging;

namespace MLNetMerge.Alignment;

/// <summary>
/// Aligned transformations (Kong et al. 2024, arXiv:2412.13526, Table 1; docs/methods/aligned-transforms.md): per task, a map <c>A</c> of merged features onto the fine-tuned
/// model's features, fitted on the k-shot unlabeled inputs (<see cref="TransformFitting"/>), then classification through
/// the frozen fine-tuned head: <c>softmax(W_t A(f_m(x)) + b_t)</c>. Recipe name <c>aligned_transform</c>; parameters
/// <c>transform</c> (affine | linear | invertible | euclidean | orthogonal | scaling; default orthogonal), <c>solver</c>
/// (closed_form | trained; default closed_form), <c>shots</c> (k per class, default 5; 0 = every input), <c>ridge</c>
/// (1e-3, least-squares kinds), and for the trained solver <c>steps</c> (1000), <c>learning_rate</c> (1e-2), <c>beta</c>
/// (weight of <c>‖WᵀW − I‖²</c>: 10 for orthogonal and Euclidean, 0.01 for invertible, 0 otherwise).
/// </summary>
internal sealed class AlignedTransformEstimator : IFewShotAlignmentEstimator
{
    /// <summary>Recipe name.</summary>
    public const string MethodName = "aligned_transform";

    /// <summary>The stage's parameters: the one declaration of their names, defaults, ranges and meaning.</summary>
    internal static readonly IReadOnlyList<MethodParameter> Declared =
    [
        MethodParameter.Choice("transform", "The family member mapping merged features to fine-tuned ones.",
            ["orthogonal", .. FeatureTransform.Names.Where(n => n != "orthogonal")]),
        MethodParameter.Choice("solver", "Closed form, or Adam with the β‖WᵀW − I‖² penalty.", "closed_form", "trained"),
        MethodParameter.Integer("shots", 5, "Unlabeled examples per class k (labels only balance the draw); 0 = every input.", 0, 1_000_000),
        MethodParameter.Number("ridge", 1e-3, "Ridge λ of the least-squares kinds, relative to the mean feature energy (not orthogonal or Euclidean).", 0, 1e6),
        MethodParameter.Integer("steps", 1000, "Trained solver: Adam steps.", 1, 1_000_000),
        MethodParameter.Number("learning_rate", 1e-2, "Trained solver: learning rate.", 0, 10),
        MethodParameter.Number("beta", double.NaN, "Trained solver: β; default 10 for orthogonal and Euclidean, 0.01 for invertible, 0 otherwise.", 0, 1e9),
    ];


    /// <summary>Creates the stage from recipe parameters.</summary>
    /// <exception cref="RecipeException">Unknown parameter or bad value.</exception>
    public AlignedTransformEstimator(IReadOnlyDictionary<string, ParameterValue>? parameters = null, ulong seed = 0)
    {
        var p = new StageParameters(MethodName, Declared, parameters);
        Kind = FeatureTransform.Parse(p.Choice("transform"));
        Trained = p.Choice("solver") == "trained";
        ShotsPerClass = p.Integer("shots");
        if (Kind is not (TransformKind.Orthogonal or TransformKind.Euclidean)) Ridge = p.Number("ridge");
        if (Trained)
        {
            double beta = Kind switch { TransformKind.Orthogonal or TransformKind.Euclidean => 10, TransformKind.Invertible => 0.01, _ => 0 };
            Training = new TransformTraining(p.Integer("steps"), p.Number("learning_rate"), p.Number("beta", fallback: beta));
        }
        Parameters = p.Finish();
        Seed = seed;
    }

    /// <summary>The transform family member.</summary>
    public TransformKind Kind { get; }

    /// <summary>Trained (Adam with the orthogonality penalty) rather than closed form.</summary>
    public bool Trained { get; }

    /// <summary>Ridge λ of the least-squares kinds.</summary>
    public double Ridge { get; } = 1e-3;

    /// <summary>Settings of the trained solver (null for closed form).</summary>
    public TransformTraining? Training { get; }

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

    /// <inheritdoc />
    public IFewShotAlignmentEstimator WithSeed(ulong seed) => new AlignedTransformEstimator(Parameters, seed);

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
        string stage = $"{Name} {FeatureTransform.Names[(int)Kind]} seed {Seed}";
        long total = data.Count * (long)(Training?.Steps ?? 1), done = 0;
        progress?.Report(new MergeProgress(stage, 0, total));
        var transforms = new Dictionary<string, FeatureTransform>(StringComparer.Ordinal);
        var heads = new Dictionary<string, TaskHead>(StringComparer.Ordinal);
        foreach (var (task, d) in data)
        {
            heads[task] = HeadAlignedModel.FineTunedHead(merged, task, e);
            var idx = AlignmentInputs.FewShotIndices(d, ShotsPerClass, RandomStreams.Key(Seed, "aligned_transform.shots", 0, task));
            var reader = inputs.Family.Tasks.First(t => t.Name == task).Reader;
            var zm = Rows.Gather(encoder.EmbedMerged(merged, task, d, cancellationToken), idx, e);   // (n, E)
            var zt = Rows.Gather(encoder.EmbedCheckpoint(reader, d, cancellationToken), idx, e);     // (n, E)
            if (Training is null)
            {
                transforms[task] = TransformFitting.ClosedForm(Kind, zm, zt, idx.Length, e, Ridge);
                progress?.Report(new MergeProgress(stage, ++done, total));
            }
            else
            {
                long before = done;
                transforms[task] = TransformFitting.Trained(Kind, zm, zt, idx.Length, e, Training,
                    (step, loss) => { done = before + step; if (step % 50 == 0 || step == Training.Steps) progress?.Report(new MergeProgress(stage, done, total, loss)); },
                    cancellationToken);
            }
        }
        return new AlignedTransformModel(merged, encoder, transforms, heads, Parameters);
    }
}

/// <summary>The merged encoder, a feature transform per task and the frozen fine-tuned heads. State per task:
/// <c>{task}.transform.weight</c> (E, E) and <c>{task}.transform.bias</c> (E) where the kind has them, or
/// <c>{task}.transform.scale</c> (E).</summary>
internal sealed class AlignedTransformModel : HeadAlignedModel
{
    private readonly IReadOnlyDictionary<string, FeatureTransform> _transforms;
    private readonly IReadOnlyDictionary<string, TaskHead> _heads;

    internal AlignedTransformModel(MergedModel merged, EncoderSession encoder, IReadOnlyDictionary<string, FeatureTransform> transforms,
        IReadOnlyDictionary<string, TaskHead> heads, IReadOnlyDictionary<string, ParameterValue> parameters)
        : base(merged, encoder, merged.TaskNames.Where(transforms.ContainsKey).ToList(), parameters)
    {
        _transforms = transforms;
        _heads = heads;
    }

    /// <inheritdoc />
    public override string Method => AlignedTransformEstimator.MethodName;

    /// <summary>The fitted transform of a task.</summary>
    public FeatureTransform TransformOf(string task)
    {
        RequireTask(task);
        return _transforms[task];
    }

    /// <inheritdoc />
    public override TaskHead HeadOf(string task)
    {
        RequireTask(task);
        return _heads[task];
    }

    /// <inheritdoc />
    public override float[] TransformFeatures(string task, float[] z, int n) => TransformOf(task).Apply(z, n);

    /// <summary>The head with the map fused in: <c>H (W z + b) + c = (H W) z + (H b + c)</c>, or for scaling
    /// <c>H diag(s) z + c</c>.</summary>
    internal override TaskHead? ExportHead(string task)
    {
        var h = HeadOf(task);
        var t = TransformOf(task);
        int k = h.ClassCount, e = h.InputSize;
        var w = new float[k * e];                                          // (K, E)
        var b = (float[])h.Bias.Clone();                                   // (K)
        for (int r = 0; r < k; r++)
        {
            var hr = h.Weight.AsSpan(r * e, e);
            if (t.Scale is { } s)
            {
                for (int j = 0; j < e; j++) w[r * e + j] = hr[j] * s[j];
                continue;
            }
            for (int i = 0; i < e; i++)
            {
                float hi = hr[i];
                if (hi == 0) continue;
                var wi = t.Weight.AsSpan(i * e, e);                           // row i of W (out i, in j)
                for (int j = 0; j < e; j++) w[r * e + j] += hi * wi[j];
                if (t.Bias is { } tb) b[r] += hi * tb[i];
            }
        }
        return new TaskHead(w, b, k, e);
    }

    /// <inheritdoc />
    public override IReadOnlyList<AlignedTensor> State
    {
        get
        {
            var list = new List<AlignedTensor>();
            foreach (var t in TaskNames)
            {
                var tr = _transforms[t];
                if (tr.Weight is not null) list.Add(new AlignedTensor($"{t}.transform.weight", [tr.Size, tr.Size], (float[])tr.Weight.Clone()));
                if (tr.Bias is not null) list.Add(new AlignedTensor($"{t}.transform.bias", [tr.Size], (float[])tr.Bias.Clone()));
                if (tr.Scale is not null) list.Add(new AlignedTensor($"{t}.transform.scale", [tr.Size], (float[])tr.Scale.Clone()));
            }
            return list;
        }
    }

    /// <summary>Rebuilds a fitted model from its merged model, parameters (<c>transform</c>, <c>config</c>) and <see cref="State"/>.</summary>
    /// <exception cref="AlignmentDataException">A transform tensor is missing or of the wrong size.</exception>
    public static AlignedTransformModel Restore(MergedModel merged, IReadOnlyDictionary<string, ParameterValue> parameters, IReadOnlyList<AlignedTensor> state)
    {
        ArgumentNullException.ThrowIfNull(merged);
        ArgumentNullException.ThrowIfNull(state);
        var encoder = merged.Session;
        var kind = FeatureTransform.Parse(parameters.TryGetValue("transform", out var tv) ? tv.ResolveText("") : "orthogonal");
        int e = encoder.EmbeddingSize;
        var transforms = new Dictionary<string, FeatureTransform>(StringComparer.Ordinal);
        var heads = new Dictionary<string, TaskHead>(StringComparer.Ordinal);
        foreach (var task in merged.TaskNames.Where(t => state.Any(s => s.Name.StartsWith(t + ".transform.", StringComparison.Ordinal))))
        {
            transforms[task] = kind == TransformKind.Scaling
                ? new FeatureTransform(kind, e, null, null, StateTensor(state, $"{task}.transform.scale", e))
                : new FeatureTransform(kind, e, StateTensor(state, $"{task}.transform.weight", e * e),
                    FeatureTransform.HasBias(kind) ? StateTensor(state, $"{task}.transform.bias", e) : null, null);
            heads[task] = FineTunedHead(merged, task, e);
        }
        if (transforms.Count == 0) throw new AlignmentDataException(null, $"saved aligned-transform state has no transform of any task of the merged model ({string.Join(", ", merged.TaskNames)}).");
        return new AlignedTransformModel(merged, encoder, transforms, heads, parameters);
    }
}
