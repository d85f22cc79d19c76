using System.Numerics.Tensors;
using MLNetMerge.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// Task arithmetic in a trust region (TATR), its data-free variant: the elements where the task vectors conflict most —
/// a large <c>Ω = Σ_{i≠j} |τi| ⊙ |τj|</c>, |τi| standing in for task i's loss gradient at θ0 — are left at θ0, and task
/// arithmetic merges the rest: <c>θ = θ0 + λ Σt [Ω &lt; q] τt</c> with q the ascending ⌊N·quantile⌋-th Ω over the model
/// (docs/methods/tatr.md). Sun, Li, Wang, Geng and Li 2025, "Task Arithmetic in Trust Region: A Training-Free Model Merging
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
        CommonParameters.Scale(0.3),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) => new TatrRun(plan, parameters);
}

/// <summary>
/// The run of <see cref="Tatr"/>: two passes select the threshold q over the whole model exactly (a radix select over Ω's
/// float bits, <see cref="MagnitudeHistogram"/>, counted per thread and summed: independent of thread order), then the merge.
/// </summary>
internal sealed class TatrRun : MergeRun, IDisposable
{
    private readonly MergeParameters _p;
    private readonly long _elements;   // N: elements of every merged tensor
    private ThreadLocal<MagnitudeHistogram>? _local;
    private MagnitudeHistogram? _summed;
    private float _threshold;

    public TatrRun(MergePlan plan, MergeParameters p)
    {
        _p = p;
        foreach (var tensor in plan.Tensors) _elements += tensor.ElementCount;
        _local = new ThreadLocal<MagnitudeHistogram>(() => new MagnitudeHistogram(), trackAllValues: true);
    }

    /// <inheritdoc />
    public override MergeParameters Parameters => _p;

    /// <summary>Element-wise: every statistic is over the whole model, so a slice of a tensor merges as that slice of the whole.</summary>
    public override bool IsElementwise => true;

    /// <inheritdoc />
    public override int PassCount => _elements == 0 ? 0 : 2;

    /// <summary>Rank from the top of q: the ascending index ⌊N·quantile⌋, held inside [0, N − 1].</summary>
    private long Rank => _elements - Math.Clamp((long)Math.Floor(_elements * _p.Number("quantile")), 0, _elements - 1);

    /// <inheritdoc />
    public override object? Visit(int pass, MergeTensorContext ctx)
    {
        ZeroNonFinite(ctx);
        var omega = ctx.OutputArray.AsSpan(0, ctx.Length);               // (n) Ω
        TatrKernels.Conflict(ctx, omega);
        if (pass == 0) _local!.Value!.AddCoarse(omega);
        else _local!.Value!.AddFine(omega);
        return null;
    }

    /// <inheritdoc />
    public override void EndPass(int pass, object?[] partials)
    {
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
        Dispose();
    }

    /// <summary>Under allow_nonfinite a non-finite element counts as τ = 0 in Ω (the executor keeps it non-finite in the output).</summary>
    private static void ZeroNonFinite(MergeTensorContext ctx)
    {
        foreach (int i in ctx.NonFinite)
            for (int t = 0; t < ctx.TaskCount; t++) ctx.Task(t)[i] = 0;
    }

    /// <inheritdoc />
    public override void Merge(MergeTensorContext ctx, Span<float> output)
    {
        ZeroNonFinite(ctx);
        var omega = ctx.Scratch;                                           // (n) Ω
        TatrKernels.Conflict(ctx, omega);
        output.Clear();                                                    // (n) Σt τt
        for (int t = 0; t < ctx.TaskCount; t++) TensorPrimitives.Add(output, ctx.Task(t), output);
        TatrKernels.KeepBelow(omega, _threshold, output);
        TensorPrimitives.MultiplyAdd(output, (float)_p.Number("scale"), ctx.Base, output);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _local?.Dispose();
        _local = null;
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Notes() => new Dictionary<string, string>
    {
        ["trust region threshold"] = _threshold.ToString("G6", System.Globalization.CultureInfo.InvariantCulture),
    };
}
