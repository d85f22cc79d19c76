namespace MLNetMerge.Merging.Methods;

/// <summary>
/// Task arithmetic: <c>θ = θ0 + λ Σt wt τt</c>.
/// Ilharco et al. 2023, "Editing Models with Task Arithmetic", ICLR, arXiv:2212.04089.
/// </summary>
internal sealed class TaskArithmetic : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "task_arithmetic";

    /// <inheritdoc />
    public override string Reference => "Ilharco et al. 2023, Editing Models with Task Arithmetic, arXiv:2212.04089";

    /// <inheritdoc />
    public override string Summary => "θ0 + λ Σ w·τ";

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        CommonParameters.Scale(0.3),
        CommonParameters.Weight(),
        MethodParameter.Flag("normalize", false, "Divide Σ w·τ by Σ w (mergekit's normalize; a zero sum divides by 1)."),
        CommonParameters.Int8Mask(),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters) =>
        new GeneralizedTaskArithmeticRun(plan, parameters, new TaskArithmeticShape(SparsificationKind.None, false, false, parameters.Flag("normalize")));
}
