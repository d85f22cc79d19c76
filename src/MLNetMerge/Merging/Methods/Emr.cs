using System.Runtime.Intrinsics;
using MLNetMerge.Checkpoints;
using MLNetMerge.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// EMR-Merging (elect, mask, rescale), tuning-free and per task:
/// <c>ε = sign(Σt τt)</c> (+1 where the sum is &gt; 0, else −1); <c>|τuni| = max_t |Mt ⊙ τt|</c> with
/// <c>Mt = [τt ⊙ ε &gt; 0]</c>; <c>τuni = ε ⊙ |τuni|</c>; rescalers <c>γt = Σ|τt| / Σ|Mt ⊙ τuni|</c> over the whole
/// model (float64); task t runs with <c>θ̂t = θ0 + γt (Mt ⊙ τuni)</c>. Stored: unified weights <c>θ0 + τuni</c>, T bit
/// masks, T rescalers. Ablations (<c>mode</c>): <c>elect</c> θ0 + τuni; <c>elect_mask</c> θ0 + Mt ⊙ τuni;
/// <c>elect_rescale</c> θ0 + γ't τuni with γ't = Σ|τt| / Σ|τuni|. With <c>merge: ta</c> or <c>ties</c> the masks and
/// rescalers apply to that method's merged vector τm instead, with masks <c>[τt ⊙ τm &gt; 0]</c> of the untrimmed τt (the paper's "w/ M&amp;R").
/// Huang et al. 2024, "EMR-Merging: Tuning-Free High-Performance Model Merging", NeurIPS, arXiv:2405.17461.
/// </summary>
internal sealed class Emr : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "emr";

    /// <inheritdoc />
    public override string Reference => "Huang et al. 2024, EMR-Merging: Tuning-Free High-Performance Model Merging, arXiv:2405.17461";

    /// <inheritdoc />
    public override string Summary => "unified τ by elected sign and max magnitude; per-task masks and rescalers";

    /// <inheritdoc />
    public override bool IsPerTask => true;

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Choice("mode", "Which parts of elect/mask/rescale the per-task models use.", "full", "elect", "elect_mask", "elect_rescale"),
        MethodParameter.Choice("merge", "Unified vector: EMR's election, or task arithmetic's / TIES's merged vector.", "emr", "ta", "ties"),
        MethodParameter.Choice("rescaler", "γt from whole-model sums (paper) or sums of per-tensor means (authors' code).", "sum", "mean"),
        MethodParameter.Number("scale", double.NaN, "λ of merge: ta (default 0.3) or ties (default 1.0).", -100, 100) with { Aliases = [new("lambda")] },
        CommonParameters.Keep(0.2),
        CommonParameters.Weight(),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters)
    {
        string merge = parameters.Choice("merge");
        GeneralizedTaskArithmeticRun? inner = null;
        if (merge != "emr")
        {
            parameters = WithDependentDefaults(parameters);
            var shape = merge == "ta"
                ? new TaskArithmeticShape(SparsificationKind.None, false, false, false)
                : new TaskArithmeticShape(SparsificationKind.MagnitudeGlobal, false, true, true);
            inner = new GeneralizedTaskArithmeticRun(plan with { RewritableOutput = false }, parameters, shape); // EMR's merge needs exact thresholds
        }
        return new EmrRun(plan, parameters, inner);
    }

    /// <summary>With <c>merge: ta</c> or <c>ties</c>, λ defaults to 0.3 and 1.0 (docs/methods/emr.md); EMR's own merge has no λ.</summary>
    public override MergeParameters WithDependentDefaults(MergeParameters parameters) => parameters.Choice("merge") switch
    {
        "emr" => parameters,
        "ta" => parameters.WithDefault("scale", 0.3),
        _ => parameters.WithDefault("scale", 1.0),
    };
}

/// <summary>
/// The run of <see cref="Emr"/>. The rescaler sums are counted in the merge pass — with its own election
/// (<c>merge: emr</c>) in the election sweep (<see cref="EmrKernels.Sweep"/>) over θt read range by range — so the
/// checkpoints are read once (after an inner TIES's own passes); tasks to materialize then need the rescalers after that
/// pass, and the run keeps each tensor's unified vector and those tasks' masks until θ0 is streamed once more
/// (<see cref="MergeRun.MaterializesAfterMerge"/>) — when they fit in <see cref="DefaultRetainLimitBytes"/> and the
/// inputs must be finite; otherwise the sums take a pass of their own first.
/// </summary>
internal sealed class EmrRun : MergeRun
{
    /// <summary>Most bytes of u and masks the run keeps for tasks materialized after the merge pass: 1 GiB (ViT-B/32: 351 MB).</summary>
    internal const long DefaultRetainLimitBytes = 1L << 30;

    /// <summary>Replaces <see cref="DefaultRetainLimitBytes"/> for runs begun in this async flow (tests).</summary>
    internal static readonly AsyncLocal<long?> RetainLimitOverride = new();

    private readonly MergePlan _plan;
    private readonly MergeParameters _p;
    private readonly string _mode;
    private readonly bool _meanRescaler;
    private readonly GeneralizedTaskArithmeticRun? _inner;
    private readonly float[] _gamma;
    private readonly bool _sumsInMerge;    // rescaler sums counted in the merge sweep (no pass of their own)
    private readonly bool _retain;         // u and masks kept for tasks materialized after the merge pass
    private readonly double[]?[] _sums;    // per tensor: the 2T + 1 rescaler sums of the merge sweep
    private readonly float[]?[] _unified;  // per tensor (when retained): u (n), or null while it waits in the sink's scratch
    private readonly byte[][]?[] _masks;   // per tensor: every task's packed mask (n / 8), until written and materialized
    private readonly bool[] _materialized; // per task: named in the plan's Materialized

    public EmrRun(MergePlan plan, MergeParameters p, GeneralizedTaskArithmeticRun? inner)
    {
        _plan = plan;
        _p = p;
        _mode = p.Choice("mode");
        _meanRescaler = p.Choice("rescaler") == "mean";
        _inner = inner;
        _gamma = new float[plan.TaskCount];
        Array.Fill(_gamma, 1f);
        _materialized = new bool[plan.TaskCount];
        foreach (int t in plan.Materialized) _materialized[t] = true;
        long elements = plan.Tensors.Sum(t => t.ElementCount);
        long retained = elements * sizeof(float) + plan.Materialized.Count * (elements / 8 + plan.Tensors.Count);
        bool canRetain = !plan.AllowNonFinite && retained <= (RetainLimitOverride.Value ?? DefaultRetainLimitBytes);
        _sumsInMerge = UsesRescalers && (plan.Materialized.Count == 0 || canRetain);
        _retain = _sumsInMerge && plan.Materialized.Count > 0;
        _sums = new double[]?[plan.Tensors.Count];
        _unified = new float[]?[_retain ? plan.Tensors.Count : 0];
        _masks = new byte[][]?[plan.Tensors.Count];
    }

    public override MergeParameters Parameters => _p;

    private int InnerPasses => _inner?.PassCount ?? 0;

    private bool UsesMasks => _mode is "full" or "elect_mask";

    private bool UsesRescalers => _mode is "full" or "elect_rescale";

    public override int PassCount => InnerPasses + (UsesRescalers && !_sumsInMerge ? 1 : 0);

    public override bool MaterializesAfterMerge => _retain;

    public override void Prepare(MergeTensorContext ctx) => _inner?.Prepare(ctx);

    /// <summary>τm into <paramref name="output"/>: the inner method's λ-scaled merged vector.</summary>
    private void InnerUnified(MergeTensorContext ctx, Span<float> output)
    {
        _inner!.Combine(ctx, output);
        System.Numerics.Tensors.TensorPrimitives.Multiply(output, (float)ctx.Number("scale"), output);
    }

    public override object? Visit(int pass, MergeTensorContext ctx)
    {
        if (pass < InnerPasses) return _inner!.Visit(pass, ctx);
        // Sums and masks use the untrimmed τt: the inner TIES trim applies only inside its combine kernel.
        int tasks = ctx.TaskCount;
        var sums = new double[2 * tasks + 1];
        if (_inner is null) EmrKernels.Sweep(ctx.TaskArrays, tasks, raw: false, ctx.Base, ctx.Scratch, ctx.OutputArray, sums, null, ctx.Length); // same values as the merge's sweep
        else
        {
            InnerUnified(ctx, ctx.Scratch);
            InnerSums(ctx, ctx.Scratch, sums);
        }
        return PerTensorSums(ctx, sums);
    }

    /// <summary>The rescaler sums over an inner method's merged vector <paramref name="um"/> and the untrimmed τt.</summary>
    private static void InnerSums(MergeTensorContext ctx, ReadOnlySpan<float> um, double[] sums)
    {
        int tasks = ctx.TaskCount;
        for (int t = 0; t < tasks; t++) sums[t] = TaskVectorKernels.AbsSum(ctx.Task(t));
        for (int t = 0; t < tasks; t++) sums[tasks + t] = TaskVectorKernels.AgreeingAbsSum(ctx.Task(t), um);
        sums[2 * tasks] = TaskVectorKernels.AbsSum(um);
    }

    private double[] PerTensorSums(MergeTensorContext ctx, double[] sums)
    {
        if (_meanRescaler && ctx.Length > 0)
            for (int j = 0; j < sums.Length; j++) sums[j] /= ctx.Length;
        return sums;
    }

    public override void EndPass(int pass, object?[] partials)
    {
        if (pass < InnerPasses) { _inner!.EndPass(pass, partials); return; }
        SetRescalers(partials.Select(o => (double[])o!));
    }

    public override void EndMerge()
    {
        if (_sumsInMerge) SetRescalers(_sums.Select(s => s!));
    }

    /// <summary>γt from the per-tensor sums, added in plan order.</summary>
    private void SetRescalers(IEnumerable<double[]> perTensor)
    {
        int tasks = _plan.TaskCount;
        var total = new double[2 * tasks + 1];
        foreach (var s in perTensor)
            for (int j = 0; j < total.Length; j++) total[j] += s[j];
        for (int t = 0; t < tasks; t++)
        {
            double den = _mode == "elect_rescale" ? total[2 * tasks] : total[tasks + t];
            _gamma[t] = den == 0 ? 1f : (float)(total[t] / den);
        }
    }

    /// <summary>Writes θ0 + τm and keeps τm in the context's scratch (when retained, in the run or the sink's scratch instead) for the masks and the task models.</summary>
    public override void Merge(MergeTensorContext ctx, Span<float> output)
    {
        if (_inner is not null)
        {
            var um = UnifiedBuffer(ctx);
            var m = um.AsSpan(0, ctx.Length);
            InnerUnified(ctx, m);
            System.Numerics.Tensors.TensorPrimitives.Add(m, ctx.Base, output);
            if (UsesMasks) _masks[ctx.Index] = PackAgreements(ctx, m);
            if (_sumsInMerge)
            {
                var sums = new double[2 * ctx.TaskCount + 1];
                InnerSums(ctx, m, sums);
                _sums[ctx.Index] = PerTensorSums(ctx, sums);
            }
            Keep(ctx, um);
            return;
        }
        Elect(ctx, raw: false, output);
    }

    /// <summary>With its own election and no pass before the merge, the sweep forms τt = θt − θ0 itself, chunk by chunk.</summary>
    public override bool MergesRaw => _inner is null;

    /// <inheritdoc />
    public override bool MergeRaw(MergeTensorContext ctx, Span<float> output) =>
        _inner is null ? Elect(ctx, raw: true, output) : base.MergeRaw(ctx, output);

    /// <summary>
    /// The raw election reads θ0 and θt range by range when no task is materialized inside the merge pass (that needs
    /// the whole θ0 in the context): the rescaler sums are one float64 accumulator per tensor, carried across ranges.
    /// </summary>
    internal override bool ReadsRanges => _inner is null && Vector256.IsHardwareAccelerated && (_plan.Materialized.Count == 0 || _retain) && !_plan.AllowNonFinite;

    /// <summary>One task written after the merge pass reads θ0 range by range too.</summary>
    internal override bool ReadsRangesAfterMerge => _retain && _plan.Materialized.Count == 1;

    /// <summary>The election sweep of the context's tensor (task buffers τt, or θt when <paramref name="raw"/>); false when a τt is not finite.</summary>
    private bool Elect(MergeTensorContext ctx, bool raw, Span<float> output)
    {
        int tasks = ctx.TaskCount;
        byte[][]? bits = null;
        if (UsesMasks)
        {
            bits = new byte[tasks][];
            for (int t = 0; t < tasks; t++) bits[t] = new byte[MaskBits.ByteCount(ctx.Length)];
        }
        var sums = new double[2 * tasks + 1];
        // Under allow_nonfinite the non-finite positions count as τ = 0 in the election, the masks and the rescaler sums
        // (an infinite τ made a clean task's γ 0, a NaN one's γ NaN): the executor zeroes task-vector buffers, the raw
        // sweep's weights are zeroed here (θt = θ0 = 0), and Keep makes the positions non-finite in every output again.
        if (raw && _plan.AllowNonFinite) NonFiniteInputs.ZeroInputs(ctx, taskVectors: false);
        var u = UnifiedBuffer(ctx);
        bool finite = ctx.Ranges is null
            ? EmrKernels.Sweep(ctx.TaskArrays, tasks, raw, ctx.Base, u, output, sums, bits, ctx.Length)
            : SweepRanges(ctx, u, output, sums, bits);
        if (_sumsInMerge) _sums[ctx.Index] = PerTensorSums(ctx, sums);
        Keep(ctx, u);
        _masks[ctx.Index] = bits;
        return finite;
    }

    /// <summary>
    /// Where the merge writes u (or τm): an array of its own when it is kept in memory for the tasks after the merge pass,
    /// else the context's scratch buffer (also when the sink keeps it in the task's own output).
    /// </summary>
    private float[] UnifiedBuffer(MergeTensorContext ctx) =>
        _retain && ctx.Stash is null ? GC.AllocateUninitializedArray<float>(ctx.Length) : ctx.ScratchArray;

    /// <summary>
    /// Keeps u of the context's tensor for the tasks written after the merge pass: in the sink's scratch (the task's own
    /// output file, no memory) when it takes it, else in <paramref name="u"/> itself or, when that is the context's
    /// scratch buffer, a copy. Null in <see cref="_unified"/> then means "in the scratch".
    /// </summary>
    private void Keep(MergeTensorContext ctx, float[] u)
    {
        if (!_retain) return;
        if (ctx.Stash is null) _unified[ctx.Index] = u;
        else if (!ctx.Stash.TryWrite(ctx.Name, u.AsSpan(0, ctx.Length))) _unified[ctx.Index] = u.AsSpan(0, ctx.Length).ToArray();
    }

    /// <summary>The raw sweep over the tensor's ranges, one at a time, each in place in its checkpoint's mapping or read into
    /// the context's input buffers (<see cref="TensorRangeReader"/>; the same bits as one sweep).</summary>
    private static unsafe bool SweepRanges(MergeTensorContext ctx, float[] u, Span<float> output, double[] sums, byte[][]? bits)
    {
        int tasks = ctx.TaskCount, n = ctx.Length;
        Span<Vector256<double>> lanes = stackalloc Vector256<double>[2 * tasks + 1];
        lanes.Clear();
        for (int start = 0; ; start += TensorRangeReader.RangeElements)
        {
            int count = Math.Min(TensorRangeReader.RangeElements, n - start);
            ctx.ReadRange(start, count);
            var theta0 = new ReadOnlySpan<float>((float*)ctx.RangeBase, count);
            var uRange = u.AsSpan(start, count);
            var outRange = output.Slice(start, count);
            int done = EmrKernels.SweepBlocks(ctx.RangeTasks.AsSpan(0, tasks), raw: true, theta0, uRange, outRange, lanes, bits, start >> 3, count);
            if (start + count == n)
                return EmrKernels.SweepTail(ctx.RangeTasks.AsSpan(0, tasks), raw: true, theta0, uRange, outRange, lanes, sums, bits, start >> 3, done, count);
        }
    }

    private static byte[][] PackAgreements(MergeTensorContext ctx, ReadOnlySpan<float> um)
    {
        var bits = new byte[ctx.TaskCount][];
        for (int t = 0; t < bits.Length; t++)
        {
            bits[t] = new byte[MaskBits.ByteCount(ctx.Length)];
            TaskVectorKernels.PackAgreement(ctx.Task(t), um, bits[t]);
        }
        return bits;
    }

    public override IReadOnlyList<TensorEntry> ModulatorsFor(TensorInfo tensor) =>
        UsesMasks ? _plan.TaskNames.Select(t => MaskBits.Entry(t, tensor)).ToList() : [];

    public override IReadOnlyList<(TensorEntry Entry, float[] Values)> GlobalModulators() =>
        UsesRescalers ? [(new TensorEntry("rescalers", DType.F32, [_plan.TaskCount]), _gamma)] : [];

    /// <summary>Writes the masks <see cref="Merge"/> packed; keeps only those of tasks still to materialize.</summary>
    public override void WriteModulators(MergeTensorContext ctx, ReadOnlySpan<float> merged, IModulatorWriter writer)
    {
        if (_masks[ctx.Index] is not { } bits) return;
        for (int t = 0; t < ctx.TaskCount; t++)
        {
            writer.WriteBytes($"masks.{_plan.TaskNames[t]}.{ctx.Name}", bits[t]);
            if (!_materialized[t]) bits[t] = null!;
        }
    }

    /// <summary>θ0 + γt (Mt ⊙ τm): τm from the context's scratch, or from the run once the merge pass is over (retained).</summary>
    public override unsafe void MaterializeTask(MergeTensorContext ctx, ReadOnlySpan<float> merged, int task, Span<float> output)
    {
        float gamma = UsesRescalers ? _gamma[task] : 1f;
        ReadOnlySpan<float> u = !_retain ? ctx.Scratch : _unified[ctx.Index] ?? ReadKept(ctx);
        var mask = UsesMasks ? _masks[ctx.Index]![task] : null;
        if (ctx.Ranges is null) EmrKernels.Materialize(ctx.Base, u, mask, gamma, output[..ctx.Length]);
        else
        {
            // After the merge pass, θ0 range by range (the executor read nothing).
            for (int start = 0; start < ctx.Length; start += TensorRangeReader.RangeElements)
            {
                int count = Math.Min(TensorRangeReader.RangeElements, ctx.Length - start);
                ctx.ReadBaseRange(start, count);
                EmrKernels.Materialize(new ReadOnlySpan<float>((float*)ctx.RangeBase, count), u.Slice(start, count), mask, start >> 3, gamma, output.Slice(start, count));
            }
        }
        if (mask is not null) _masks[ctx.Index]![task] = null!;
        if (_retain && _plan.Materialized[^1] == task) _unified[ctx.Index] = null;
    }

    /// <summary>u of the context's tensor, back from the sink's scratch into the context's scratch buffer.</summary>
    private static float[] ReadKept(MergeTensorContext ctx)
    {
        ctx.Stash!.Read(ctx.Name, ctx.Scratch);
        return ctx.ScratchArray;
    }

    public override IReadOnlyDictionary<string, string> Notes()
    {
        var notes = new Dictionary<string, string>(_inner?.Notes() ?? new Dictionary<string, string>());
        if (UsesRescalers) notes["rescalers"] = string.Join(", ", _gamma.Select((g, t) => $"{_plan.TaskNames[t]}={g:G6}"));
        return notes;
    }
}
