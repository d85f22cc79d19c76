using System.Numerics.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// LiNeS (layer-increasing network scaling) for multi-task merging: the multi-task vector τm of task arithmetic
/// (<c>Σt wt τt</c>), TIES (trimmed, sign-elected disjoint mean) or consensus merging (<c>c ⊙ Σt τt</c>) is scaled by a factor that grows linearly with the
/// depth of the block a tensor sits in, so shallow blocks stay near the pretrained weights and deep ones keep the tasks'
/// specialisation: <c>θ = θ0 + λ(ℓ)·τm</c> with <c>λ(ℓ) = α + β·ℓ/(L − 1)</c> for a tensor of block ℓ ∈ {0 … L−1} and
/// <c>λ = α</c> for tensors outside the blocks (embeddings, final norms, projections) or when the model has one block.
/// <c>α</c> defaults to <c>(‖Σt τt‖ / ‖τm‖) / T</c> over the whole model (exactly <c>1/T</c> for unweighted task
/// arithmetic), so the shallowest block gets the plain average's norm; β is selected on held-out data.
/// Wang, Dimitriadis, Favero, Ortiz-Jiménez, Fleuret and Frossard 2025, "LiNeS: Post-training Layer Scaling Prevents
/// Forgetting and Enhances Model Merging", ICLR, arXiv:2410.17146.
/// </summary>
internal sealed class Lines : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "lines";

    /// <inheritdoc />
    public override string Reference => "Wang et al. 2025, LiNeS: Post-training Layer Scaling Prevents Forgetting and Enhances Model Merging, arXiv:2410.17146";

    /// <inheritdoc />
    public override string Summary => "TA, TIES or consensus multi-task vector scaled α + β·ℓ/(L−1) by block depth";

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Choice("merge", "The multi-task vector τm: task arithmetic's Σ wt τt, TIES's trimmed, sign-elected disjoint mean, or consensus merging's c ⊙ Σ τt.", "ta", "ties", "consensus"),
        MethodParameter.Number("beta", 0.5, "β: the scale's increase from the first block to the last (selected on validation; the authors' grid is (0, 1]).", -100, 100),
        MethodParameter.Number("alpha", double.NaN, "α: the scale of the first block and of tensors outside the blocks; default (‖Σt τt‖ / ‖τm‖) / T.", -100, 100),
        CommonParameters.Weight(),
        CommonParameters.Keep(0.2),
        MethodParameter.Number("kappa", 0.4, "κ of merge: consensus (its task masks |τt| ≥ κ |Σ τ − τt|).", 0, 1e6),
        MethodParameter.Integer("k", 2, "k of merge: consensus (the task masks an element needs).", 0, 1_000_000),
    ];

    /// <inheritdoc />
    public override IEnumerable<(string Key, string Message)> DegenerateSettings(MergeParameters parameters, MergePlan plan) =>
        parameters.Choice("merge") == "consensus" ? Consensus.KAboveModels(parameters, plan) : [];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters)
    {
        string merge = parameters.Choice("merge");
        bool ties = merge == "ties";
        var shape = ties
            ? new TaskArithmeticShape(SparsificationKind.MagnitudeGlobal, false, true, true)
            : new TaskArithmeticShape(SparsificationKind.None, false, false, false);
        // The inner run only combines: its trim passes run exactly (no deferred merge), and λ is this run's.
        var inner = new GeneralizedTaskArithmeticRun(plan with { RewritableOutput = false }, parameters, shape);
        return new LinesRun(plan, parameters, inner, merge);
    }
}

/// <summary>
/// The run of <see cref="Lines"/>: the inner run's passes (TIES's trim thresholds), then — when α is not given and τm
/// may differ from Σt τt (TIES, consensus, or weights other than 1) — one pass for the two squared norms, summed per
/// tensor in plan order, then the merge.
/// </summary>
internal sealed class LinesRun : MergeRun
{
    private readonly MergePlan _plan;
    private readonly MergeParameters _p;
    private readonly GeneralizedTaskArithmeticRun _inner;
    private readonly bool _normPass;
    private double _alpha;

    private readonly bool _consensus;

    public LinesRun(MergePlan plan, MergeParameters p, GeneralizedTaskArithmeticRun inner, string merge)
    {
        _plan = plan;
        _p = p;
        _inner = inner;
        _consensus = merge == "consensus";
        double alpha = p.Number("alpha");
        bool unitWeights = Enumerable.Range(0, plan.TaskCount).All(t => p.IsUniform("weight", t) && p.Number("weight", t) == 1);
        _normPass = double.IsNaN(alpha) && (merge != "ta" || !unitWeights);
        _alpha = double.IsNaN(alpha) ? (plan.TaskCount == 0 ? 0 : 1.0 / plan.TaskCount) : alpha;
    }

    /// <inheritdoc />
    public override MergeParameters Parameters => _p;

    /// <inheritdoc />
    public override int PassCount => _inner.PassCount + (_normPass ? 1 : 0);

    /// <inheritdoc />
    public override void Prepare(MergeTensorContext ctx) => _inner.Prepare(ctx);

    /// <summary>The norm pass: (Σ (Σt τt)², Σ τm²) of the context's tensor.</summary>
    public override object? Visit(int pass, MergeTensorContext ctx)
    {
        if (pass < _inner.PassCount) return _inner.Visit(pass, ctx);
        var sum = ctx.Scratch;                                          // (n) Σt τt
        sum.Clear();
        for (int t = 0; t < ctx.TaskCount; t++) TensorPrimitives.Add(sum, ctx.Task(t), sum);
        foreach (int i in ctx.NonFinite) sum[i] = 0;                    // allow_nonfinite: such positions count in neither norm
        double summed = SquaredNorm(sum);
        var merged = ctx.OutputArray.AsSpan(0, ctx.Length);              // (n) τm
        Combine(ctx, merged);
        foreach (int i in ctx.NonFinite) merged[i] = 0;
        return new[] { summed, SquaredNorm(merged) };
    }

    /// <summary>
    /// Σ x² over the finite x, in float64 over float32 partial sums of 1024 elements (a chunk's rounding stays near 1e-7
    /// of it); a chunk whose float32 sum is not finite (a NaN or infinity under allow_nonfinite, or squares past float32's
    /// range) is summed again in float64 without its non-finite elements, so one bad input does not make α NaN.
    /// </summary>
    internal static double SquaredNorm(ReadOnlySpan<float> x)
    {
        double total = 0;
        for (int i = 0; i < x.Length; i += 1024)
        {
            var chunk = x.Slice(i, Math.Min(1024, x.Length - i));
            float sum = TensorPrimitives.SumOfSquares(chunk);
            if (float.IsFinite(sum)) { total += sum; continue; }
            foreach (float v in chunk)
                if (float.IsFinite(v)) total += (double)v * v;
        }
        return total;
    }

    /// <inheritdoc />
    public override void EndPass(int pass, object?[] partials)
    {
        if (pass < _inner.PassCount) { _inner.EndPass(pass, partials); return; }
        double summed = 0, merged = 0;
        foreach (var o in partials)
        {
            var s = (double[])o!;
            summed += s[0];
            merged += s[1];
        }
        _alpha = merged == 0 ? 1.0 / _plan.TaskCount : Math.Sqrt(summed) / Math.Sqrt(merged) / _plan.TaskCount;
    }

    /// <summary>τm of the context's tensor: the inner run's combination, or the consensus vector.</summary>
    private void Combine(MergeTensorContext ctx, Span<float> output)
    {
        if (_consensus) Consensus.Combine(ctx, (float)ctx.Number("kappa"), ctx.Number("k"), output);
        else _inner.Combine(ctx, output);
    }

    /// <summary>λ of the context's tensor: α + β·ℓ/(L − 1) inside block ℓ of L &gt; 1, else α.</summary>
    internal static double Scale(double alpha, double beta, int layer, int layerCount) =>
        layer >= 0 && layerCount > 1 ? alpha + beta * layer / (layerCount - 1) : alpha;

    /// <inheritdoc />
    public override void Merge(MergeTensorContext ctx, Span<float> output)
    {
        Combine(ctx, output);
        float lambda = (float)Scale(_alpha, ctx.Number("beta"), ctx.Layer, _plan.LayerCount);
        TensorPrimitives.MultiplyAdd(output, lambda, ctx.Base, output);
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Notes()
    {
        var notes = new Dictionary<string, string>(_inner.Notes()) { ["alpha"] = _alpha.ToString("G6", System.Globalization.CultureInfo.InvariantCulture) };
        notes["blocks"] = _plan.LayerCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return notes;
    }
}
