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
            parameters = parameters.WithDefault("scale", merge == "ta" ? 0.3 : 1.0);
            var shape = merge == "ta"
                ? new TaskArithmeticShape(SparsificationKind.None, false, false, false)
                : new TaskArithmeticShape(SparsificationKind.MagnitudeGlobal, false, true, true);
            inner = new GeneralizedTaskArithmeticRun(plan, parameters, shape);
        }
        return new EmrRun(plan, parameters, inner);
    }
}

/// <summary>The run of <see cref="Emr"/>: the inner method's passes (if any), one rescaler pass, then the merge.</summary>
internal sealed class EmrRun : MergeRun
{
    private readonly MergePlan _plan;
    private readonly MergeParameters _p;
    private readonly string _mode;
    private readonly bool _meanRescaler;
    private readonly GeneralizedTaskArithmeticRun? _inner;
    private readonly float[] _gamma;

    public EmrRun(MergePlan plan, MergeParameters p, GeneralizedTaskArithmeticRun? inner)
    {
        _plan = plan;
        _p = p;
        _mode = p.Choice("mode");
        _meanRescaler = p.Choice("rescaler") == "mean";
        _inner = inner;
        _gamma = new float[plan.TaskCount];
        Array.Fill(_gamma, 1f);
    }

    public override MergeParameters Parameters => _p;

    private int InnerPasses => _inner?.PassCount ?? 0;

    private bool UsesMasks => _mode is "full" or "elect_mask";

    private bool UsesRescalers => _mode is "full" or "elect_rescale";

    public override int PassCount => InnerPasses + (UsesRescalers ? 1 : 0);

    public override void Prepare(MergeTensorContext ctx) => _inner?.Prepare(ctx);

    /// <summary>τm into <paramref name="output"/>: EMR's unified vector, or the inner method's λ-scaled merged vector.</summary>
    private void Unified(MergeTensorContext ctx, Span<float> output)
    {
        if (_inner is not null)
        {
            _inner.Combine(ctx, output);
            System.Numerics.Tensors.TensorPrimitives.Multiply(output, (float)ctx.Number("scale"), output);
            return;
        }
        TaskVectorKernels.ElectMaxMagnitude(ctx.TaskArrays, ctx.TaskCount, ctx.Length, output);
    }

    public override object? Visit(int pass, MergeTensorContext ctx)
    {
        if (pass < InnerPasses) return _inner!.Visit(pass, ctx);
        // Sums and masks use the untrimmed τt: the inner TIES trim applies only inside its combine kernel.
        int tasks = ctx.TaskCount;
        var sums = new double[2 * tasks + 1];
        for (int t = 0; t < tasks; t++) sums[t] = TaskVectorKernels.AbsSum(ctx.Task(t));
        var um = ctx.Scratch;
        Unified(ctx, um);
        for (int t = 0; t < tasks; t++) sums[tasks + t] = TaskVectorKernels.AgreeingAbsSum(ctx.Task(t), um);
        sums[2 * tasks] = TaskVectorKernels.AbsSum(um);
        if (_meanRescaler && ctx.Length > 0)
            for (int j = 0; j < sums.Length; j++) sums[j] /= ctx.Length;
        return sums;
    }

    public override void EndPass(int pass, object?[] partials)
    {
        if (pass < InnerPasses) { _inner!.EndPass(pass, partials); return; }
        int tasks = _plan.TaskCount;
        var total = new double[2 * tasks + 1];
        foreach (var o in partials)
        {
            var s = (double[])o!;
            for (int j = 0; j < total.Length; j++) total[j] += s[j];
        }
        for (int t = 0; t < tasks; t++)
        {
            double den = _mode == "elect_rescale" ? total[2 * tasks] : total[tasks + t];
            _gamma[t] = den == 0 ? 1f : (float)(total[t] / den);
        }
    }

    /// <summary>Writes θ0 + τm and keeps τm in the context's scratch for the masks and the task models.</summary>
    public override void Merge(MergeTensorContext ctx, Span<float> output)
    {
        Unified(ctx, ctx.Scratch);
        System.Numerics.Tensors.TensorPrimitives.Add(ctx.Scratch, ctx.Base, output);
    }

    public override IReadOnlyList<TensorEntry> ModulatorsFor(TensorInfo tensor) =>
        UsesMasks ? _plan.TaskNames.Select(t => MaskBits.Entry(t, tensor)).ToList() : [];

    public override IReadOnlyList<(TensorEntry Entry, float[] Values)> GlobalModulators() =>
        UsesRescalers ? [(new TensorEntry("rescalers", DType.F32, [_plan.TaskCount]), _gamma)] : [];

    public override void WriteModulators(MergeTensorContext ctx, ReadOnlySpan<float> merged, IModulatorWriter writer)
    {
        if (!UsesMasks) return;
        var bits = new byte[MaskBits.ByteCount(ctx.Length)];
        for (int t = 0; t < ctx.TaskCount; t++)
        {
            TaskVectorKernels.PackAgreement(ctx.Task(t), ctx.Scratch, bits);
            writer.WriteBytes($"masks.{_plan.TaskNames[t]}.{ctx.Name}", bits);
        }
    }

    public override void MaterializeTask(MergeTensorContext ctx, ReadOnlySpan<float> merged, int task, Span<float> output)
    {
        var b = ctx.Base;
        var um = ctx.Scratch;
        var tau = ctx.TaskArrays[task];
        float gamma = UsesRescalers ? _gamma[task] : 1f;
        for (int i = 0; i < output.Length; i++)
        {
            float u = um[i];
            bool keep = !UsesMasks || tau[i] * u > 0;
            output[i] = keep ? b[i] + gamma * u : b[i];
        }
    }

    public override IReadOnlyDictionary<string, string> Notes()
    {
        var notes = new Dictionary<string, string>(_inner?.Notes() ?? new Dictionary<string, string>());
        if (UsesRescalers) notes["rescalers"] = string.Join(", ", _gamma.Select((g, t) => $"{_plan.TaskNames[t]}={g:G6}"));
        return notes;
    }
}
