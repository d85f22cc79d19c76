namespace MLNetMerge.Merging.Methods;

/// <summary>
/// SCE (select, calculate, erase), per tensor: <b>select</b> — with <c>select_topk</c> &lt; 1, keep only the
/// ⌊select_topk·(positions with non-zero variance)⌋ positions whose task-vector entries vary most across tasks
/// (population variance; ties by position), zeroing the rest in every task vector; <b>calculate</b> — a weight per
/// task, <c>wt = mean(τt²) / Σs mean(τs²)</c> (uniform when all are zero); <b>erase</b> — TIES's sign election by mass,
/// <c>γ = +1 where Σt τt ≥ 0</c> else −1, keeping entries whose sign is γ; then
/// <c>θ = θ0 + Σt wt [sign τt = γ] τt / Σt wt [sign τt = γ]</c> (a zero divisor counts as 1). No λ, as in mergekit.
/// Wan et al. 2024, "FuseChat: Knowledge Fusion of Chat Models", arXiv:2408.07990 (SCE as mergekit implements it).
/// Math: docs/methods/mergekit-parity.md.
/// </summary>
internal sealed class Sce : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "sce";

    /// <inheritdoc />
    public override string Reference => "Wan et al. 2024, FuseChat: Knowledge Fusion of Chat Models (SCE), arXiv:2408.07990";

    /// <inheritdoc />
    public override string Summary => "keep high-variance positions, weight tasks by mean τ², sign election, weighted mean";

    /// <inheritdoc />
    public override int MinModels => 1;

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Number("select_topk", 1.0, "Share of positions (with non-zero variance across tasks) kept by variance; 1 keeps all.", 0, 1),
        CommonParameters.Int8Mask(),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) => new Run();

    private sealed class Run : MergeRun
    {
        public override void Merge(MergeTensorContext ctx, Span<float> output)
        {
            int tasks = ctx.TaskCount, n = ctx.Length;
            double topk = ctx.Number("select_topk");
            if (topk < 1) Select(ctx, topk);
            var w = new double[tasks];
            double sum = 0;
            for (int t = 0; t < tasks; t++)
            {
                double s = 0;
                foreach (float v in ctx.Task(t)) s += (double)v * v;
                w[t] = n == 0 ? 0 : s / n;
                sum += w[t];
            }
            for (int t = 0; t < tasks; t++) w[t] = sum == 0 ? 1.0 / tasks : w[t] / sum;
            var wf = w.Select(x => (float)x).ToArray();
            var b = ctx.Base;
            for (int i = 0; i < n; i++)
            {
                float total = 0;
                for (int t = 0; t < tasks; t++) total += ctx.TaskArrays[t][i];
                float elected = total >= 0 ? 1f : -1f;
                float num = 0, den = 0;
                for (int t = 0; t < tasks; t++)
                {
                    float v = ctx.TaskArrays[t][i];
                    if (MathF.Sign(v) != elected) continue;
                    num += wf[t] * v;
                    den += wf[t];
                }
                output[i] = b[i] + num / (den == 0 ? 1f : den);
            }
        }

        /// <summary>Zeroes, in every task buffer, the positions outside the top ⌊topk·nonzero⌋ by variance across tasks.</summary>
        private static void Select(MergeTensorContext ctx, double topk)
        {
            int tasks = ctx.TaskCount, n = ctx.Length;
            var variance = ctx.Scratch;
            long nonzero = 0;
            for (int i = 0; i < n; i++)
            {
                double mean = 0;
                for (int t = 0; t < tasks; t++) mean += ctx.TaskArrays[t][i];
                mean /= tasks;
                double v = 0;
                for (int t = 0; t < tasks; t++) { double d = ctx.TaskArrays[t][i] - mean; v += d * d; }
                variance[i] = (float)(v / tasks);
                if (variance[i] != 0) nonzero++;
            }
            long k = (long)(topk * nonzero);
            // Keep the k largest variances; among values equal to the k-th largest, the lowest positions.
            float threshold = k == 0 ? float.PositiveInfinity : MLNetMerge.Tensors.MagnitudeHistogram.KthLargest(variance, k);
            long above = 0;
            for (int i = 0; i < n; i++) if (variance[i] > threshold) above++;
            long ties = k - above;
            for (int i = 0; i < n; i++)
            {
                bool keep = variance[i] > threshold || (variance[i] == threshold && ties-- > 0);
                if (keep) continue;
                for (int t = 0; t < tasks; t++) ctx.TaskArrays[t][i] = 0f;
            }
        }
    }
}
