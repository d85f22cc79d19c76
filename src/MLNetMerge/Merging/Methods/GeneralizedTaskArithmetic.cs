using System.Collections.Concurrent;
using MLNetMerge.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// The shape of a generalised task-arithmetic merge (mergekit's view of TA, TIES, DARE, Breadcrumbs and DELLA as one
/// family): optional DARE drop → sparsify → optional TIES sign election → sum or mean → <c>θ = θ0 + λ·τm</c>.
/// </summary>
/// <param name="Sparsify">How each task vector is thinned.</param>
/// <param name="RandomDrop">Apply DARE's random drop (parameters <c>drop</c>, <c>rescale</c>) before <paramref name="Sparsify"/>.</param>
/// <param name="SignConsensus">TIES elect + disjoint merge.</param>
/// <param name="Mean">Divide by the (agreeing) weight sum instead of summing.</param>
/// <param name="ZeroSumPositive">Elect + where the weighted sum is exactly 0 (mergekit), instead of the model's majority sign.</param>
internal sealed record TaskArithmeticShape(SparsificationKind Sparsify, bool RandomDrop, bool SignConsensus, bool Mean, bool ZeroSumPositive = false);

/// <summary>
/// The run of a generalised task arithmetic. Passes: with a global magnitude trim, two radix-select passes find each
/// task's exact threshold over the whole flattened task vector; with sign consensus, the majority sign <c>sign(Σ γ)</c>
/// used where <c>Σt wt·τ̂t = 0</c> is counted in the second of them (<see cref="DeferredSignBalance"/>: the few elements
/// that need the exact thresholds are counted after it), or in a pass of its own without a global trim — or when the
/// elements set aside would hold more than <see cref="DefaultDeferredLimitBytes"/> (a model whose task vectors pile up on
/// their thresholds, e.g. quantised ones): the run then drops them and asks for that third pass instead.
/// TIES into a sink that rewrites what it wrote (<see cref="MergePlan.RewritableOutput"/>, no tasks materialized, finite
/// inputs) goes further: the first pass reads a sample (<see cref="TrimInterval"/>) that places each threshold in a narrow
/// interval, the merge pass finishes the trim (<see cref="DeferredDisjointMerge"/>) — the elements it cannot settle yet are
/// kept, within the same limit, and settled after it (<see cref="MergeRun.LateElements"/>) — so the checkpoints are read
/// once; where the sample misses or the room runs out, the exact passes follow and the merge runs again.
/// Per element with consensus: <c>γ = sign(Σt wt τ̂t)</c>, <c>τm = Σ_{t: sign τ̂t = γ} wt τ̂t / max(1, Σ_{same t} wt)</c> (mean)
/// or the numerator alone (sum); without: <c>τm = Σt wt τ̂t</c> (divided by Σ wt for mean).
/// </summary>
internal sealed partial class GeneralizedTaskArithmeticRun : MergeRun, IDisposable
{
    private readonly MergePlan _plan;
    private readonly MergeParameters _p;
    private readonly TaskArithmeticShape _shape;
    private readonly float[] _threshold;
    private readonly int[] _bucket; // per task, after a full pass 1 of the trim: the threshold's coarse bucket, or −1 where it is already known
    private readonly int[] _low;    // per task, after pass 1: the interval of magnitude bits holding the threshold (its bucket after a full
    private readonly int[] _high;   // pass, a narrow range after a sampled one), or −1 where the threshold is already known
    private readonly long[] _above; // per task: τ above the interval, counted by the merge pass
    private readonly long _elements; // N: elements of every merged tensor, per task
    private int _passBase;          // the pass that is the trim's first: 1 after a sampled pass that could not be used
    private volatile bool _deferredDropped;
    private readonly int _trimPasses;
    private readonly long _deferredLimit;
    private long _deferredBytes;
    private volatile bool _signPassNeeded;
    private ThreadLocal<MagnitudeHistogram[]>? _local;
    private ThreadLocal<SampleSpread>? _spread; // the sampled first pass: the groups' spread of each task's sample
    private MagnitudeHistogram[]? _global;
    private float _majority = 1f;
    private bool _mergeDefers;   // the merge pass finishes the trim (decided at the start, confirmed after pass 1)
    private bool _oneTrimPass;   // the trim has one pass before the merge (the merge pass finishes it), also after the merge
    private readonly ConcurrentQueue<KeptItem> _kept = new();
    private long _certain;       // Σ sign(s) of the elements the merge pass settled
    private long _undecidedLimit;
    private long _undecidedBytes;
    private volatile bool _undecidedDropped;
    private bool _mergeAgain;
    private List<LateElements>? _late;


    /// <summary>Releases the per-thread histograms of an interrupted trim pass (a completed pass releases them itself).</summary>
    public void Dispose()
    {
        _local?.Dispose();
        _local = null;
        _spread?.Dispose();
        _spread = null;
    }

    /// <summary>Most bytes of τ values the majority-sign count may set aside in the trim's second pass (256 MiB).</summary>
    internal const long DefaultDeferredLimitBytes = 256L << 20;

    /// <summary>Replaces <see cref="DefaultDeferredLimitBytes"/> for runs begun in this async flow (tests).</summary>
    internal static readonly AsyncLocal<long?> DeferredLimitOverride = new();

    /// <summary>Starts the run.</summary>
    public GeneralizedTaskArithmeticRun(MergePlan plan, MergeParameters parameters, TaskArithmeticShape shape)
    {
        _plan = plan;
        _p = parameters;
        _shape = shape;
        _threshold = new float[plan.TaskCount];
        _bucket = new int[plan.TaskCount];
        _low = new int[plan.TaskCount];
        _high = new int[plan.TaskCount];
        _above = new long[plan.TaskCount];
        foreach (var tensor in plan.Tensors) _elements += tensor.ElementCount;
        _deferredLimit = DeferredLimitOverride.Value ?? DefaultDeferredLimitBytes;
        _trimPasses = shape.Sparsify == SparsificationKind.MagnitudeGlobal ? 2 : 0;
        if (shape.SignConsensus) RefuseNegativeWeights(plan, parameters);
        if (_trimPasses > 0)
        {
            for (int t = 0; t < plan.TaskCount; t++)
                if (!parameters.IsUniform("keep", t))
                    throw new RecipeException(null, $"'keep' (mergekit's 'density') for model '{plan.TaskNames[t]}' varies over layers, but the global trim has one threshold per model; give one number, or set 'trim: tensor' to trim each tensor with its own keep.");
            NewLocal(useBuckets: false);
            _mergeDefers = _oneTrimPass = shape.SignConsensus && plan.RewritableOutput && plan.Materialized.Count == 0 && !plan.AllowNonFinite;
            if (_mergeDefers) _spread = new ThreadLocal<SampleSpread>(() => new SampleSpread(plan.TaskCount), trackAllValues: true);
        }
    }

    /// <summary>
    /// A negative per-model weight under sign election is refused: the election weighs τ by w, but the agreement and the
    /// divisor would then mix signs (a kept value can oppose the elected sign and the divisor shrink toward 0); mergekit
    /// elects on w·τ instead. Negate a task with task arithmetic.
    /// </summary>
    private static void RefuseNegativeWeights(MergePlan plan, MergeParameters parameters)
    {
        for (int t = 0; t < plan.TaskCount; t++)
            if (parameters.Numbers("weight", t).Any(w => w < 0))
                throw new RecipeException(null, $"model '{plan.TaskNames[t]}' has a negative weight, but {parameters.Method.Name} elects a sign per element; " +
                    "with sign election weights must be ≥ 0 (negate a task vector with task_arithmetic).");
    }

    /// <summary>Per-task global trim thresholds (after the passes).</summary>
    public IReadOnlyList<float> Thresholds => _threshold;

    /// <inheritdoc />
    public override bool IsElementwise => !_shape.RandomDrop && _shape.Sparsify is SparsificationKind.None or SparsificationKind.MagnitudeGlobal;

    /// <inheritdoc />
    public override int PassCount => _passBase + TrimPasses + (_shape.SignConsensus && (_trimPasses == 0 || _signPassNeeded) ? 1 : 0);

    /// <inheritdoc />
    internal override int PassSampling(int pass) => _mergeDefers && pass == 0 ? TrimInterval.SampleEvery : 1;

    /// <summary>Radix-select passes over the checkpoints before the merge pass.</summary>
    private int TrimPasses => _oneTrimPass ? 1 : _trimPasses;

    /// <inheritdoc />
    public override void Prepare(MergeTensorContext ctx)
    {
        for (int t = 0; t < ctx.TaskCount; t++)
        {
            var tau = ctx.Task(t);
            if (_shape.RandomDrop)
                Sparsification.RandomDrop(tau, ctx.Number("drop", t), _p.Flag("rescale"), RandomStreams.Key(_plan.Seed, "dare.drop", t, ctx.Name));
            switch (_shape.Sparsify)
            {
                case SparsificationKind.MagnitudeTensor:
                    Sparsification.MagnitudeTensor(tau, ctx.Number("keep", t));
                    break;
                case SparsificationKind.MagnitudeTopK:
                    Sparsification.MagnitudeTopK(tau, ctx.Number("keep", t));
                    break;
                case SparsificationKind.Breadcrumbs:
                    Sparsification.Breadcrumbs(tau, ctx.Number("density", t), ctx.Number("gamma", t));
                    break;
                case SparsificationKind.Della:
                    int row = ctx.Info.Shape.Length >= 2 ? ctx.Info.Shape[^1] : ctx.Length;
                    Sparsification.Della(tau, row, ctx.Number("density", t), ctx.Number("epsilon", t), _p.Flag("rescale"),
                        RandomStreams.Key(_plan.Seed, "della.drop", t, ctx.Name));
                    break;
            }
        }
    }

    /// <inheritdoc />
    public override object? Visit(int pass, MergeTensorContext ctx)
    {
        pass -= _passBase;
        if (pass < TrimPasses)
        {
            var hist = _local!.Value!;
            for (int t = 0; t < ctx.TaskCount; t++)
            {
                if (pass == 0) hist[t].AddCoarse(ctx.Task(t));
                else if (_threshold[t] < 0) hist[t].AddFine(ctx.Task(t));
            }
            if (pass == 0 && ctx.Sampled && _spread is not null) // a full pass needs no spread: its buckets are exact
            {
                var spread = _spread.Value!;
                int group = SampleSpread.GroupOf(ctx.Name, ctx.Offset);
                for (int t = 0; t < ctx.TaskCount; t++) spread.Add(t, group, ctx.Task(t));
            }
            if (pass == 1 && _shape.SignConsensus && !_signPassNeeded)
            {
                var balance = new DeferredSignBalance();
                balance.Add(ctx.TaskArrays, Weights(ctx), _bucket, ctx.Length);
                if (Interlocked.Add(ref _deferredBytes, balance.DeferredCount * ctx.TaskCount * sizeof(float)) <= _deferredLimit) return balance;
                _signPassNeeded = true; // too much set aside: count the majority sign in a pass of its own
            }
            return null;
        }
        return TaskVectorKernels.SignBalance(ctx.TaskArrays, Weights(ctx), TrimThresholds, ctx.Length);
    }

    /// <inheritdoc />
    public override object? CombinePartials(object? first, object? second) =>
        first is long a && second is long b ? a + b
        : first is DeferredSignBalance x && second is DeferredSignBalance y ? x.Absorb(y)
        : base.CombinePartials(first, second);

    /// <inheritdoc />
    public override void EndPass(int pass, object?[] partials)
    {
        pass -= _passBase;
        if (pass == 0 && _trimPasses > 0)
        {
            _global = MergeLocal();
            bool sampled = _plan.TaskCount > 0 && _global[0].Count != _elements;
            SampleSpread? spread = null;
            if (_spread is not null)
            {
                if (sampled)
                {
                    spread = new SampleSpread(_plan.TaskCount);
                    foreach (var s in _spread.Values) spread.Absorb(s);
                }
                _spread.Dispose();
                _spread = null;
            }
            long bound = 0; // bytes the merge pass may keep: every element with a τ in its task's interval
            for (int t = 0; t < _plan.TaskCount; t++)
            {
                long rank = Sparsification.ThresholdRank(_elements, _p.Number("keep", t));
                if (rank == 0) { _threshold[t] = 0f; _bucket[t] = _low[t] = _high[t] = -1; continue; }
                _threshold[t] = -1f; // resolved by the fine pass or after the merge pass
                long inside;
                _bucket[t] = -1;
                if (sampled) (_low[t], _high[t], inside) = TrimInterval.Estimate(_global[t], rank, _elements, spread, t);
                else
                {
                    _global[t].ResolveCoarse(rank);
                    _bucket[t] = _global[t].Bucket;
                    (_low[t], _high[t], inside) = (_bucket[t] << 16, _bucket[t] << 16 | 0xFFFF, _global[t].BucketCount);
                }
                bound += inside * (sizeof(int) + (_plan.TaskCount + 1) * sizeof(float));
            }
            if (_mergeDefers)
            {
                // Kept for sure within the limit after a full pass; after a sample only if the estimate is well inside it.
                if (sampled && bound > _deferredLimit * TrimInterval.SampledBoundShare)
                {
                    // Too wide: a full first pass gives each threshold's bucket, and the merge pass finishes the trim from it.
                    _passBase += pass + 1;
                    NewLocal(useBuckets: false);
                    return;
                }
                _mergeDefers = _oneTrimPass = sampled || bound <= _deferredLimit;
                _undecidedLimit = Math.Max(0, _deferredLimit - bound);
            }
            if (_mergeDefers) { _local!.Dispose(); _local = null; }
            else if (sampled) StartOver(pass + _passBase + 1); // a sample's buckets are not the thresholds'
            else NewLocal(useBuckets: true);
        }
        else if (pass == 1 && _trimPasses > 0)
        {
            var fine = _local!.Values;
            for (int t = 0; t < _plan.TaskCount; t++)
            {
                if (_threshold[t] >= 0) continue;
                foreach (var h in fine) _global![t].MergeFine(h[t]);
                _threshold[t] = _global![t].Resolve();
            }
            _local.Dispose();
            _local = null;
            if (_shape.SignConsensus && !_signPassNeeded)
            {
                long balance = 0;
                foreach (var o in partials)
                    if (o is DeferredSignBalance d) balance += d.Resolve(_threshold);
                _majority = Majority(balance);
            }
        }
        else
        {
            long sum = partials.Sum(o => (long)o!);
            _majority = Majority(sum);
        }
    }

    /// <summary>The sign an exact cancellation takes: the majority of the counted signs, or + with <see cref="TaskArithmeticShape.ZeroSumPositive"/> (the count still runs; its result is not used).</summary>
    private float Majority(long balance) => _shape.ZeroSumPositive || balance >= 0 ? 1f : -1f;

    /// <summary>The exact passes from pass <paramref name="passBase"/> on: a full radix select, the majority sign with it.</summary>
    private void StartOver(int passBase)
    {
        _passBase = passBase;
        _mergeDefers = _oneTrimPass = false;
        _deferredBytes = 0;
        _signPassNeeded = false;
        NewLocal(useBuckets: false);
    }

    private MagnitudeHistogram[] MergeLocal()
    {
        var all = _local!.Values;
        var merged = Enumerable.Range(0, _plan.TaskCount).Select(_ => new MagnitudeHistogram()).ToArray();
        foreach (var h in all)
            for (int t = 0; t < merged.Length; t++) merged[t].MergeCoarse(h[t]);
        _local.Dispose();
        return merged;
    }

    private void NewLocal(bool useBuckets)
    {
        _local = new ThreadLocal<MagnitudeHistogram[]>(() =>
        {
            var h = Enumerable.Range(0, _plan.TaskCount).Select(_ => new MagnitudeHistogram()).ToArray();
            if (useBuckets)
                for (int t = 0; t < h.Length; t++) h[t].UseBucket(_global![t].Bucket);
            return h;
        }, trackAllValues: true);
    }

    /// <summary>Global trim thresholds once resolved (0 = keep all); all zero without a global trim.</summary>
    private float[] TrimThresholds => _trimPasses == 0 ? new float[_plan.TaskCount] : _threshold;

    /// <inheritdoc />
    public override MergeParameters Parameters => _p;

    private static float[] Weights(MergeTensorContext ctx)
    {
        var w = new float[ctx.TaskCount];
        for (int t = 0; t < w.Length; t++) w[t] = (float)ctx.Number("weight", t);
        return w;
    }

    /// <summary>Per-model weights of the plain weighted sum: wt, divided by Σ wt for a mean (a zero sum divides by 1).</summary>
    private float[] SumWeights(MergeTensorContext ctx)
    {
        var w = Weights(ctx);
        float wsum = w.Sum();
        float norm = _shape.Mean ? (wsum == 0 ? 1 : 1 / wsum) : 1;
        for (int t = 0; t < w.Length; t++) w[t] *= norm;
        return w;
    }

    /// <summary>Writes the combined task vector τm (before λ) into <paramref name="output"/>; the task buffers are left as they are.</summary>
    public void Combine(MergeTensorContext ctx, Span<float> output)
    {
        if (!_shape.SignConsensus)
        {
            var w = SumWeights(ctx);
            if (_trimPasses > 0)
                for (int t = 0; t < w.Length; t++) Sparsification.KeepAtLeast(ctx.Task(t), _threshold[t]);
            output.Clear();
            for (int t = 0; t < w.Length; t++)
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(ctx.Task(t), w[t], output, output);
            return;
        }
        TaskVectorKernels.DisjointMerge(ctx.TaskArrays, Weights(ctx), TrimThresholds, ctx.Length, _majority, _shape.Mean, output);
    }

    /// <inheritdoc />
    public override bool MergesRaw => _shape is { Sparsify: SparsificationKind.None, RandomDrop: false, SignConsensus: false };

    /// <inheritdoc />
    public override bool MergeRawChecksOutput => MergesRaw;

    /// <summary>Slices read in place: the fused sweep reads each value once, from the page cache where a checkpoint maps it.</summary>
    internal override bool MergesRawInPlace => MergesRaw;

    /// <inheritdoc />
    public override unsafe bool MergeRaw(MergeTensorContext ctx, Span<float> output)
    {
        if (!MergesRaw) return base.MergeRaw(ctx, output);
        float lambda = (float)ctx.Number("scale");
        if (ctx.InputsByAddress)
            return RawTaskArithmeticKernel.Merge(output, new ReadOnlySpan<float>((float*)ctx.RangeBase, ctx.Length), ctx.RangeTasks, SumWeights(ctx), lambda, ctx.Length);
        return RawTaskArithmeticKernel.Merge(output, ctx.Base, ctx.TaskArrays, SumWeights(ctx), lambda, ctx.Length);
    }

    /// <inheritdoc />
    public override void Merge(MergeTensorContext ctx, Span<float> output)
    {
        float lambda = (float)ctx.Number("scale");
        if (_mergeDefers)
        {
            MergeDeferring(ctx, output, lambda); // θ0 + λ·τm in the same sweep
            return;
        }
        Combine(ctx, output);
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(output, lambda, ctx.Base, output);
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Notes()
    {
        var notes = new Dictionary<string, string>();
        if (_trimPasses > 0)
            notes["trim_thresholds"] = string.Join(", ", _threshold.Select((v, t) => $"{_plan.TaskNames[t]}={v:G6}"));
        if (_shape.SignConsensus) notes["majority_sign"] = _majority > 0 ? "+1" : "-1";
        return notes;
    }
}
