using System.Numerics.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// mergekit's Karcher mean: per tensor, the Riemannian barycentre on the unit sphere of the models' raw weights
/// (the base is not used), uniform weights 1/T, then scaled by the mean norm. With <c>ut = θt/‖θt‖</c> over the models
/// whose norm exceeds <c>tol</c> (weights renormalised over them), start at their normalised mean and repeat up to
/// <c>max_iter</c> times: <c>g = Σ αt (Ωt / sin Ωt)(ut − cos Ωt · μ)</c> with <c>Ωt = arccos(μ·ut)</c> (terms with
/// Ωt &lt; tol skipped), stop when ‖g‖ &lt; tol, else <c>μ ← cos‖g‖ μ + sin‖g‖ g/‖g‖</c>, renormalised. Result
/// <c>(1/T Σt ‖θt‖)·μ</c>. Goddard et al. 2024, arXiv:2403.13257 (method karcher); Karcher 1977.
/// Math: docs/methods/mergekit-parity.md.
/// </summary>
internal sealed class Karcher : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "karcher";

    /// <inheritdoc />
    public override string Reference => "Goddard et al. 2024, Arcee's MergeKit, arXiv:2403.13257 (karcher); Karcher 1977, Riemannian center of mass";

    /// <inheritdoc />
    public override string Summary => "Riemannian mean of the models' weight directions on the sphere, at the mean norm";

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Integer("max_iter", 10, "Most fixed-point iterations.", 0, 10000),
        MethodParameter.Number("tol", 1e-5, "Convergence tolerance (and the smallest norm and angle that count).", 0, 1),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) => new Run();

    private sealed class Run : MergeRun
    {
        public override bool UsesTaskVectors => false;

        public override void Merge(MergeTensorContext ctx, Span<float> output)
        {
            int tasks = ctx.TaskCount;
            if (tasks == 1)
            {
                ctx.Task(0).CopyTo(output);
                return;
            }
            double tol = ctx.Number("tol");
            int maxIter = (int)ctx.Number("max_iter");
            var norms = new double[tasks];
            for (int t = 0; t < tasks; t++) norms[t] = Math.Sqrt(Dot(ctx.Task(t), ctx.Task(t)));
            var valid = Enumerable.Range(0, tasks).Where(t => norms[t] > tol).ToArray();
            if (valid.Length == 0)
            {
                output.Clear();
                return;
            }
            double alpha = 1.0 / valid.Length;         // (1/T) renormalised over the valid models
            var mean = output;                          // μ
            mean.Clear();
            foreach (int t in valid) TensorPrimitives.MultiplyAdd(ctx.Task(t), (float)(alpha / norms[t]), mean, mean);
            double meanNorm = Math.Sqrt(Dot(mean, mean));
            if (meanNorm < tol) TensorPrimitives.Multiply(ctx.Task(valid[0]), (float)(1 / norms[valid[0]]), mean);
            else TensorPrimitives.Multiply(mean, (float)(1 / meanNorm), mean);
            var tangent = ctx.Scratch;                  // g
            for (int it = 0; it < maxIter; it++)
            {
                tangent.Clear();
                foreach (int t in valid)
                {
                    double dot = Math.Clamp(Dot(mean, ctx.Task(t)) / norms[t], -1, 1);
                    double omega = Math.Acos(dot);
                    if (omega < tol) continue;
                    double c = alpha * omega / Math.Sin(omega);
                    TensorPrimitives.MultiplyAdd(ctx.Task(t), (float)(c / norms[t]), tangent, tangent);
                    TensorPrimitives.MultiplyAdd(mean, (float)(-c * dot), tangent, tangent);
                }
                double g = Math.Sqrt(Dot(tangent, tangent));
                if (g < tol) break;
                TensorPrimitives.Multiply(mean, (float)Math.Cos(g), mean);
                TensorPrimitives.MultiplyAdd(tangent, (float)(Math.Sin(g) / g), mean, mean);
                double unit = Math.Sqrt(Dot(mean, mean));
                if (unit > tol) TensorPrimitives.Multiply(mean, (float)(1 / unit), mean);
            }
            double scale = 0;
            for (int t = 0; t < tasks; t++) scale += norms[t] / tasks;
            TensorPrimitives.Multiply(mean, (float)scale, output);
        }
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }
}
