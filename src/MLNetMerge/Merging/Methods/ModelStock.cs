namespace MLNetMerge.Merging.Methods;

/// <summary>
/// Model Stock, per tensor: <c>cos θ</c> = mean pairwise cosine of the task vectors,
/// <c>t = T cos θ / ((T − 1) cos θ + 1)</c>, <c>θ = t · θavg + (1 − t) · θ0</c> with θavg the mean of the θt.
/// Jang et al. 2024, "Model Stock: All we need is just a few fine-tuned models", ECCV, arXiv:2403.19522.
/// </summary>
internal sealed class ModelStock : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "model_stock";

    /// <inheritdoc />
    public override string Reference => "Jang et al. 2024, Model Stock, arXiv:2403.19522";

    /// <inheritdoc />
    public override string Summary => "interpolate average and base by the task vectors' angle";

    /// <inheritdoc />
    public override int MinModels => 2;

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } = [];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) => new Run();

    /// <summary>The interpolation ratio <c>t = T c / ((T − 1) c + 1)</c> for mean cosine <paramref name="cos"/>.</summary>
    public static double Ratio(int tasks, double cos) => tasks * cos / ((tasks - 1) * cos + 1);

    private sealed class Run : MergeRun
    {
        public override void Merge(MergeTensorContext ctx, Span<float> output)
        {
            int tasks = ctx.TaskCount;
            var norms = new double[tasks];
            for (int a = 0; a < tasks; a++) norms[a] = Math.Sqrt(Dot(ctx.Task(a), ctx.Task(a)));
            double cosSum = 0;
            int pairs = 0;
            for (int a = 0; a < tasks; a++)
                for (int b = a + 1; b < tasks; b++, pairs++)
                    cosSum += norms[a] == 0 || norms[b] == 0 ? 0 : Dot(ctx.Task(a), ctx.Task(b)) / (norms[a] * norms[b]);
            double cos = cosSum / pairs;
            // t blows up as (T − 1) cos θ + 1 → 0: task vectors pointing against each other have no Model Stock ratio
            // (it would write ±∞ or NaN from finite inputs).
            double denominator = (tasks - 1) * cos + 1, t = Ratio(tasks, cos);
            // (A NaN cosine comes from a non-finite input under allow_nonfinite, whose own rule keeps the output non-finite.)
            if (double.IsFinite(cos) && (Math.Abs(denominator) < 1e-6 || !double.IsFinite(t)))
                throw new IncompatibleModelsException(null, ctx.Info.Name,
                    $"the task vectors point against each other (mean cosine {cos:G4} over {tasks} models): Model Stock's ratio t = T cos θ / ((T − 1) cos θ + 1) is undefined; merge this family with another method.");
            float ratio = (float)t;
            // θ = θ0 + t · mean τ  (= t θavg + (1 − t) θ0)
            output.Clear();
            for (int a = 0; a < tasks; a++) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(ctx.Task(a), ratio / tasks, output, output);
            System.Numerics.Tensors.TensorPrimitives.Add(output, ctx.Base, output);
        }

        private static double Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
        {
            double s = 0;
            for (int i = 0; i < x.Length; i++) s += (double)x[i] * y[i];
            return s;
        }
    }
}
