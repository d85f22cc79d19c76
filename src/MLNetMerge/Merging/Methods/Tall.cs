using MLNetMerge.Checkpoints;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// TALL masks, per task: unified weights <c>θ0 + λ τMTL</c> (stored), task masks <c>mt = [|τt| ≥ κ |τMTL − τt|]</c>
/// (stored as bits), and task t runs with <c>θ̂t = θ0 + λ (mt ⊙ τMTL)</c>.
/// Wang et al. 2024, "Localizing Task Information for Improved Model Merging and Compression", arXiv:2405.07813.
/// </summary>
internal sealed class Tall : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "tall";

    /// <inheritdoc />
    public override string Reference => "Wang et al. 2024, Localizing Task Information (TALL masks), arXiv:2405.07813";

    /// <inheritdoc />
    public override string Summary => "per task: θ0 + λ (mt ⊙ τMTL)";

    /// <inheritdoc />
    public override bool IsPerTask => true;

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Number("kappa", 0.4, "κ: mask threshold factor.", 0, 1e6),
        CommonParameters.Scale(0.3),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) => new Run(plan);

    private sealed class Run(MergePlan plan) : MergeRun
    {
        public override IReadOnlyList<TensorEntry> ModulatorsFor(TensorInfo tensor) =>
            plan.TaskNames.Select(t => MaskBits.Entry(t, tensor)).ToList();

        /// <summary>θ0 + λ τMTL; keeps τMTL in the scratch buffer for the masks and task models.</summary>
        public override void Merge(MergeTensorContext ctx, Span<float> output)
        {
            var sum = ctx.Scratch;
            sum.Clear();
            for (int t = 0; t < ctx.TaskCount; t++) System.Numerics.Tensors.TensorPrimitives.Add(sum, ctx.Task(t), sum);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(sum, (float)ctx.Number("scale"), ctx.Base, output);
        }

        public override void WriteModulators(MergeTensorContext ctx, ReadOnlySpan<float> merged, IModulatorWriter writer)
        {
            float kappa = (float)ctx.Number("kappa");
            var bits = new byte[MaskBits.ByteCount(ctx.Length)];
            for (int t = 0; t < ctx.TaskCount; t++)
            {
                TaskVectorKernels.PackTallMask(ctx.Task(t), ctx.Scratch, kappa, bits);
                writer.WriteBytes($"masks.{plan.TaskNames[t]}.{ctx.Name}", bits);
            }
        }

        public override void MaterializeTask(MergeTensorContext ctx, ReadOnlySpan<float> merged, int task, Span<float> output)
        {
            float kappa = (float)ctx.Number("kappa");
            float lambda = (float)ctx.Number("scale");
            var b = ctx.Base;
            var sum = ctx.Scratch;
            var tau = ctx.Task(task);
            for (int i = 0; i < output.Length; i++)
                output[i] = Consensus.TaskMask(tau[i], sum[i], kappa) ? b[i] + lambda * sum[i] : b[i];
        }
    }
}
