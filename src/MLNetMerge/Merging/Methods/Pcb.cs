using System.Numerics.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// PCB merging (parameter competition balancing): every element of every task vector gets a score from its competition
/// within its task (its clipped magnitude, min-max normalised over the task vector, squared: <c>exp(T·s²)</c>) and across
/// tasks (agreement with the other tasks' sum: <c>tanh(τt ⊙ Σk τk)</c>); each task keeps the fraction <c>keep</c> of its
/// elements with the highest scores, weighted by their min-max normalised score, and the merge is the score-weighted mean
/// of the clipped task vectors, <c>θ = θ0 + λ·Σt st ⊙ τ̃t / max(Σt st, 1e-12)</c>. Every statistic is global over the
/// model (docs/methods/pcb.md). Du, Lee, Li, Jiang, Guo, Yu, Liu, Goh, Tang, He and Zhang 2024, "Parameter Competition
/// Balancing for Model Merging", NeurIPS, arXiv:2410.02396.
/// </summary>
internal sealed class Pcb : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "pcb";

    /// <inheritdoc />
    public override string Reference => "Du et al. 2024, Parameter Competition Balancing for Model Merging, arXiv:2410.02396";

    /// <inheritdoc />
    public override string Summary => "intra- and inter-task competition scores, top-k per task, score-weighted mean";

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Number("keep", 0.1, "Fraction of each task vector's elements with the highest balance score kept (the authors' pcb_ratio).", 0, 1)
            with { PerModel = true, Aliases = [new("pcb_ratio")] },
        CommonParameters.Scale(0.3),
        MethodParameter.Number("clip", 1e-4, "Fraction of each task vector's magnitudes clipped at either end before scoring (outliers).", 0, 0.5),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) => new PcbRun(plan, parameters);
}

/// <summary>
/// The run of <see cref="Pcb"/>. Passes, each a two-pass radix select over the whole model per task
/// (<see cref="Tensors.MagnitudeHistogram"/>, exact and independent of thread order): (0, 1) the clip bounds of |τt|, the
/// ascending ⌊d·c⌋-th and ⌊d(1 − c)⌋−1-th of its d magnitudes; (2, 3) the score threshold, the ascending ⌊d(1 − keep)⌋-th
/// score, found among the positive scores when enough are positive (else passes 3 and 4 find it among the others), with
/// each task's largest score; then the merge.
/// </summary>
internal sealed class PcbRun : MergeRun, IDisposable
{
    private readonly MergePlan _plan;
    private readonly MergeParameters _p;
    private readonly int _tasks;
    private readonly long _elements;           // d: elements of every merged tensor, per task
    private readonly float[] _low, _high;      // (T) |τt| clip bounds
    private readonly float[] _threshold, _top; // (T) score threshold and largest score
    private readonly long[] _rank;              // (T) the threshold's rank from the top (0: nothing kept)
    private readonly bool[] _negative;          // (T) the threshold is not positive: passes 3 and 4 look at −score
    private PcbSelection? _selection;
    private bool _negativePasses;

    public PcbRun(MergePlan plan, MergeParameters p)
    {
        _plan = plan;
        _p = p;
        _tasks = plan.TaskCount;
        p.RequireUniform("keep", plan, "each model keeps one share of its elements over the whole model");
        p.RequireUniform("clip", plan, "each model's magnitudes are clipped at one pair of quantiles over the whole model");
        foreach (var tensor in plan.Tensors) _elements += tensor.ElementCount;
        (_low, _high, _threshold, _top) = (new float[_tasks], new float[_tasks], new float[_tasks], new float[_tasks]);
        _rank = new long[_tasks];
        _negative = new bool[_tasks];
        for (int t = 0; t < _tasks; t++) _rank[t] = _elements - Math.Min(_elements, (long)Math.Floor(_elements * (1.0 - p.Number("keep", t))));
        _selection = new PcbSelection(_tasks);
    }

    /// <inheritdoc />
    public override MergeParameters Parameters => _p;

    /// <summary>Element-wise: every statistic is over the whole model, so a slice of a tensor merges as that slice of the whole.</summary>
    public override bool IsElementwise => true;

    /// <inheritdoc />
    public override int PassCount => _elements == 0 || _tasks == 0 ? 0 : _negativePasses ? 5 : 4;

    /// <inheritdoc />
    public override void Prepare(MergeTensorContext ctx) => NonFiniteInputs.ZeroTaskVectors(ctx);

    /// <inheritdoc />
    public override object? Visit(int pass, MergeTensorContext ctx)
    {
        var local = _selection!.Local;                                 // this thread's counts
        if (pass < 2)
        {
            for (int t = 0; t < _tasks; t++) local.AddMagnitudes(pass, t, ctx.Task(t));
            return null;
        }
        var sum = ctx.Scratch;                                         // (n) Σk τk
        PcbKernels.TaskSum(ctx, sum);
        var score = ctx.OutputArray.AsSpan(0, ctx.Length);              // (n) pt
        for (int t = 0; t < _tasks; t++)
        {
            if (pass > 2 && (_rank[t] == 0 || (pass == 4 && !_negative[t]))) continue;
            PcbKernels.Score(ctx.Task(t), sum, _low[t], _high[t], _tasks, score);
            local.AddScores(pass, t, score, _negative[t]);
        }
        return null;
    }

    /// <inheritdoc />
    public override void EndPass(int pass, object?[] partials)
    {
        var s = _selection!;
        switch (pass)
        {
            case 0:
                s.ResolveCoarseMagnitudes(ClipRank(lowEnd: true), ClipRank(lowEnd: false));
                break;
            case 1:
                s.ResolveMagnitudes(_low, _high);
                break;
            case 2:
                s.SumScoreCounts();
                for (int t = 0; t < _tasks; t++)
                {
                    _top[t] = s.Top(t);
                    _negative[t] = _rank[t] > 0 && s.Positive(t) < _rank[t];
                }
                _negativePasses = _negative.Any(n => n);
                s.ResolveCoarseScores(_rank, _negative);
                break;
            case 3:
                s.ResolvePositiveScores(_threshold, _rank, _negative, _elements);
                break;
            case 4:
                s.ResolveNegativeScores(_threshold, _rank, _negative);
                break;
        }
        if (pass == PassCount - 1) { s.Dispose(); _selection = null; }
    }

    /// <summary>Rank from the top of each task's clip bound: ascending ⌊d·c⌋ (low end) or ⌊d(1 − c)⌋ − 1 (high end).</summary>
    private long[] ClipRank(bool lowEnd)
    {
        double c = _p.Number("clip");
        long index = lowEnd ? (long)Math.Floor(_elements * c) : (long)Math.Floor(_elements * (1.0 - c)) - 1;
        index = Math.Clamp(index, 0, _elements - 1);
        return Enumerable.Repeat(_elements - index, _tasks).ToArray();
    }

    /// <inheritdoc />
    public override void Merge(MergeTensorContext ctx, Span<float> output)
    {
        int n = ctx.Length;
        var sum = ctx.Scratch;                                          // (n) Σk τk
        PcbKernels.TaskSum(ctx, sum);
        var pool = Tensors.BufferPool<float>.Shared;
        float[] scoreArray = pool.Rent(n), weightArray = pool.Rent(n), clippedArray = pool.Rent(n);
        try
        {
            var score = scoreArray.AsSpan(0, n);                        // (n) pt, then st, then st ⊙ τ̃t
            var weights = weightArray.AsSpan(0, n);                     // (n) Σt st
            var clipped = clippedArray.AsSpan(0, n);                    // (n) τ̃t
            output.Clear();                                             // (n) Σt st ⊙ τ̃t
            weights.Clear();
            for (int t = 0; t < _tasks; t++)
            {
                if (_rank[t] == 0) continue;
                PcbKernels.Score(ctx.Task(t), sum, _low[t], _high[t], _tasks, score);
                PcbKernels.Weight(score, _threshold[t], _top[t]);
                TensorPrimitives.Add(weights, score, weights);
                PcbKernels.Clip(ctx.Task(t), _low[t], _high[t], clipped);
                TensorPrimitives.Multiply(score, clipped, score);
                TensorPrimitives.Add(output, score, output);
            }
            TensorPrimitives.Max(weights, 1e-12f, weights);
            TensorPrimitives.Divide(output, weights, output);
            TensorPrimitives.MultiplyAdd(output, (float)ctx.Number("scale"), ctx.Base, output);   // λ per tensor (per-layer, filters)
        }
        finally
        {
            pool.Return(scoreArray);
            pool.Return(weightArray);
            pool.Return(clippedArray);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _selection?.Dispose();
        _selection = null;
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Notes()
    {
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        return new Dictionary<string, string>
        {
            ["score thresholds"] = string.Join(", ", Enumerable.Range(0, _tasks).Select(t => $"{_plan.TaskNames[t]}={_threshold[t].ToString("G6", ci)}")),
        };
    }
}
