using System.Numerics.Tensors;
using MLNetMerge.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// Task arithmetic in a trust region (TATR), its data-free variant: the elements where the task vectors conflict most —
/// a large <c>Ω = Σ_{i≠j} |τi| ⊙ |τj|</c>, |τi| standing in for task i's loss gradient at θ0 — are left at θ0, and task
/// arithmetic (or TIES, <c>merge: ties</c>) merges the rest: <c>θ = θ0 + λ Σt wt [Ω &lt; q] τt</c> with q the ascending
/// ⌊N·quantile⌋-th Ω over the model (docs/methods/tatr.md). Sun, Li, Wang, Geng and Li 2025, "Task Arithmetic in Trust Region: A Training-Free Model Merging
/// Approach to Navigate Knowledge Conflicts", arXiv:2501.15065.
/// </summary>
internal sealed class Tatr : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "tatr";

    /// <inheritdoc />
    public override string Reference => "Sun et al. 2025, Task Arithmetic in Trust Region: A Training-Free Model Merging Approach to Navigate Knowledge Conflicts, arXiv:2501.15065";

    /// <inheritdoc />
    public override string Summary => "task arithmetic outside the elements of highest pairwise |τi|·|τj| conflict";

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Number("quantile", 0.99, "Share of the model's elements, by conflict Ω from the lowest, inside the trust region (the authors' threshold_quantile).", 0, 1)
            with { Aliases = [new("threshold_quantile")] },
        MethodParameter.Number("scale", 0.3, "λ; default 0.3 with merge: ta, 1.0 with merge: ties (its disjoint mean).", -100, 100) with { Aliases = [new("lambda")] },
        MethodParameter.Choice("merge", "The merge inside the trust region: task arithmetic's Σ wt τt, or TIES's trimmed, sign-elected disjoint mean of the masked task vectors.", "ta", "ties"),
        CommonParameters.Weight(),
        CommonParameters.Keep(0.2),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters)
    {
        bool ties = parameters.Choice("merge") == "ties";
        var p = WithDependentDefaults(parameters);
        var shape = ties
            ? new TaskArithmeticShape(SparsificationKind.MagnitudeGlobal, false, true, true)
            : new TaskArithmeticShape(SparsificationKind.None, false, false, false);
        // The inner run merges the masked task vectors: its own passes (TIES's trim thresholds) run exactly after q is known.
        var inner = new GeneralizedTaskArithmeticRun(plan with { RewritableOutput = false }, p, shape);
        return new TatrRun(plan, p, inner);
    }

    /// <summary>With <c>merge: ties</c>, λ defaults to 1.0 (TIES's disjoint mean), else the declared 0.3.</summary>
    public override MergeParameters WithDependentDefaults(MergeParameters parameters) =>
        parameters.Choice("merge") == "ties" ? parameters.WithDefault("scale", 1.0) : parameters;
}

/// <summary>
/// The run of <see cref="Tatr"/>: two passes select the threshold q over the whole model exactly (a radix select over Ω's
/// float bits, <see cref="MagnitudeHistogram"/>, counted per thread and summed: independent of thread order); from then on
/// every τt is zeroed outside the trust region before the inner run (task arithmetic or TIES) sees it, through its own
/// passes and the merge.
/// </summary>
internal sealed class TatrRun : MergeRun, IDisposable
{
    private readonly MergeParameters _p;
    private readonly GeneralizedTaskArithmeticRun _inner;
    private readonly long _elements;   // N: elements of every merged tensor
    private ThreadLocal<MagnitudeHistogram>? _local;
    private MagnitudeHistogram? _summed;
    private float _threshold;
    private bool _resolved;

    public TatrRun(MergePlan plan, MergeParameters p, GeneralizedTaskArithmeticRun inner)
    {
        p.RequireUniform("quantile", plan, "the trust region is one quantile of Ω over the whole model");
        _p = p;
        _inner = inner;
        foreach (var tensor in plan.Tensors) _elements += tensor.ElementCount;
        _local = new ThreadLocal<MagnitudeHistogram>(() => new MagnitudeHistogram(), trackAllValues: true);
    }

    /// <inheritdoc />
    public override MergeParameters Parameters => _p;

    /// <summary>Element-wise: Ω and the mask are per element, q is over the whole model, and the inner merges are element-wise.</summary>
    public override bool IsElementwise => _inner.IsElementwise;

    /// <inheritdoc />
    public override int PassCount => _elements == 0 ? 0 : 2 + _inner.PassCount;

    /// <inheritdoc />
    internal override int PassSampling(int pass) => pass < 2 ? 1 : _inner.PassSampling(pass - 2);

    /// <summary>Rank from the top of q: the ascending index ⌊N·quantile⌋, held inside [0, N − 1].</summary>
    private long Rank => _elements - Math.Clamp((long)Math.Floor(_elements * _p.Number("quantile")), 0, _elements - 1);

    /// <summary>Zeroes non-finite positions (allow_nonfinite) and, once q is known, every τt outside the trust region; then the inner run's.</summary>
    public override void Prepare(MergeTensorContext ctx)
    {
        NonFiniteInputs.ZeroTaskVectors(ctx);
        if (_resolved)
        {
            var omega = ctx.Scratch;                                       // (n) Ω
            TatrKernels.Conflict(ctx, omega);
            for (int t = 0; t < ctx.TaskCount; t++) TatrKernels.KeepBelow(omega, _threshold, ctx.Task(t));
        }
        _inner.Prepare(ctx);
    }

    /// <inheritdoc />
    public override object? Visit(int pass, MergeTensorContext ctx)
    {
        if (pass >= 2) return _inner.Visit(pass - 2, ctx);
        var omega = ctx.OutputArray.AsSpan(0, ctx.Length);               // (n) Ω
        TatrKernels.Conflict(ctx, omega);
        if (pass == 0) _local!.Value!.AddCoarse(omega);
        else _local!.Value!.AddFine(omega);
        return null;
    }

    /// <inheritdoc />
    public override object? CombinePartials(object? first, object? second) => _inner.CombinePartials(first, second);

    /// <inheritdoc />
    public override void EndPass(int pass, object?[] partials)
    {
        if (pass >= 2) { _inner.EndPass(pass - 2, partials); return; }
        if (pass == 0)
        {
            _summed = new MagnitudeHistogram();
            foreach (var h in _local!.Values) _summed.MergeCoarse(h);
            _summed.ResolveCoarse(Rank);
            _local.Dispose();
            int bucket = _summed.Bucket;
            _local = new ThreadLocal<MagnitudeHistogram>(() => { var h = new MagnitudeHistogram(); h.UseBucket(bucket); return h; }, trackAllValues: true);
            return;
        }
        foreach (var h in _local!.Values) _summed!.MergeFine(h);
        _threshold = _summed!.Resolve();
        _resolved = true;
        _local.Dispose();
        _local = null;
    }

    /// <inheritdoc />
    public override void Merge(MergeTensorContext ctx, Span<float> output) => _inner.Merge(ctx, output);

    /// <inheritdoc />
    public void Dispose()
    {
        _local?.Dispose();
        _local = null;
        _inner.Dispose();
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Notes() => new Dictionary<string, string>(_inner.Notes())
    {
        ["trust region threshold"] = _threshold.ToString("G6", System.Globalization.CultureInfo.InvariantCulture),
    };
}
