using System.Numerics.Tensors;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// Weight averaging ("model soup"): <c>θ = Σt wt θt / Σt wt</c> (uniform by default).
/// Wortsman et al. 2022, "Model soups", ICML, arXiv:2203.05482.
/// </summary>
internal sealed class WeightAverage : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "weight_average";

    /// <inheritdoc />
    public override string Reference => "Wortsman et al. 2022, Model soups, arXiv:2203.05482";

    /// <inheritdoc />
    public override string Summary => "(1/T) Σ θt";

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } = [CommonParameters.Weight()];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) => new Run();

    private sealed class Run : MergeRun
    {
        public override bool UsesTaskVectors => false;
        public override bool IsElementwise => true;


        public override void Merge(MergeTensorContext ctx, Span<float> output)
        {
            float wsum = 0;
            for (int t = 0; t < ctx.TaskCount; t++) wsum += (float)ctx.Number("weight", t);
            if (wsum == 0) throw new RecipeException(null, "weight_average: the model weights sum to 0.");
            output.Clear();
            for (int t = 0; t < ctx.TaskCount; t++)
                TensorPrimitives.MultiplyAdd(ctx.Task(t), (float)ctx.Number("weight", t) / wsum, output, output);
        }
    }
}
