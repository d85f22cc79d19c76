namespace MLNetMerge.Merging.Methods;

/// <summary>
/// MagMax: per element, the task-vector entry of largest magnitude across tasks (the first on ties),
/// <c>θ = θ0 + λ τmax</c>. Marczak et al. 2024, "MagMax: Leveraging Model Merging for Seamless Continual Learning", ECCV, arXiv:2407.06322.
/// </summary>
internal sealed class MagMax : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "magmax";

    /// <inheritdoc />
    public override string Reference => "Marczak et al. 2024, MagMax, arXiv:2407.06322";

    /// <inheritdoc />
    public override string Summary => "per element, the largest-magnitude τ";

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } = [CommonParameters.Scale(1.0)];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) => new Run();

    private sealed class Run : MergeRun
    {
        public override bool IsElementwise => true;

        public override void Merge(MergeTensorContext ctx, Span<float> output)
        {
            float lambda = (float)ctx.Number("scale");
            var b = ctx.Base;
            for (int i = 0; i < output.Length; i++)
            {
                float best = 0;
                for (int t = 0; t < ctx.TaskCount; t++)
                {
                    float v = ctx.TaskArrays[t][i];
                    if (MathF.Abs(v) > MathF.Abs(best)) best = v;
                }
                output[i] = b[i] + lambda * best;
            }
        }
    }
}
