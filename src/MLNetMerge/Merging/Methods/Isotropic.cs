using System.Numerics.Tensors;
using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// ISO-C (isotropic merging in the common subspace): per matrix, the task-arithmetic sum <c>S = Σt τt = U Σ Vᵀ</c>
/// with every singular value replaced by their mean, <c>θ = θ0 + λ·σ̄·U Vᵀ</c>, <c>σ̄ = (1/r) Σ σi</c>, r = min(m, n);
/// every other tensor gets <c>θ0 + λ·mean τ</c>. U Vᵀ is S's polar factor. Marczak et al. 2025, "No Task Left Behind:
/// Isotropic Model Merging with Common and Task-Specific Subspaces", ICML, arXiv:2502.04959. Math: docs/methods/iso.md.
/// </summary>
internal sealed class IsoC : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "iso_c";

    /// <inheritdoc />
    public override string Reference => "Marczak et al. 2025, No Task Left Behind: Isotropic Model Merging with Common and Task-Specific Subspaces (Iso-C), arXiv:2502.04959";

    /// <inheritdoc />
    public override string Summary => "per matrix: Σ τ with its singular spectrum flattened to the mean";

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        CommonParameters.Scale(1.0),
        MatrixMerge.MatricesParameter(),
        CommonParameters.Weight(),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters)
    {
        MatrixMerge.RequireMatrices(plan, parameters, Name);
        return new IsotropicRun(plan, parameters.Choice("matrices"), commonFraction: null);
    }
}

/// <summary>
/// ISO-CTS (isotropic merging in common and task-specific subspaces): per matrix, r = min(m, n), the common size
/// <c>k = r − T·round((r − ⌊f·r⌋)/T)</c> (so the task-specific part divides by T); the common basis is the top-k
/// singular triplets of <c>S = Σt τt</c>; each task vector, with the common left subspace projected out
/// (<c>τt − Uk Ukᵀ τt</c>), contributes its top <c>(r − k)/T</c> triplets; task blocks and the common block are placed
/// side by side, U and Vᵀ replaced by their polar factors, the singular values by their mean, and
/// <c>θ = θ0 + λ·σ̄·polar(U) polar(Vᵀ)</c>; every other tensor gets <c>θ0 + λ·mean τ</c>.
/// Marczak et al. 2025, arXiv:2502.04959. Math: docs/methods/iso.md.
/// </summary>
internal sealed class IsoCts : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "iso_cts";

    /// <inheritdoc />
    public override string Reference => "Marczak et al. 2025, No Task Left Behind: Isotropic Model Merging with Common and Task-Specific Subspaces (Iso-CTS), arXiv:2502.04959";

    /// <inheritdoc />
    public override string Summary => "per matrix: common top-k of Σ τ plus task-specific directions, orthogonalised, flat spectrum";

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        CommonParameters.Scale(1.0),
        MethodParameter.Number("common_space_fraction", 0.8, "f: share of min(m, n) given to the common subspace (before rounding the task part to a multiple of T).", 0, 1),
        MatrixMerge.MatricesParameter(),
        MatrixMerge.PowerIterationsParameter(),
        MatrixMerge.FilterDegreeParameter(),
        CommonParameters.Weight(),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters)
    {
        MatrixMerge.RequireMatrices(plan, parameters, Name);
        return new IsotropicRun(plan, parameters.Choice("matrices"), commonFraction: parameters.Number("common_space_fraction"));
    }

    /// <summary>
    /// The common size k for r = min(m, n), T tasks and fraction f: <c>k0 = ⌊f·r⌋</c>, task part
    /// <c>T·round((r − k0)/T)</c> (Python's round: halves to even), lowered by T when it would exceed r; <c>k = r − task part</c>.
    /// </summary>
    internal static int CommonSize(int r, int tasks, double fraction)
    {
        int k0 = (int)Math.Floor(fraction * r);
        int taskPart = (int)Math.Round((double)(r - k0) / tasks, MidpointRounding.ToEven) * tasks;
        while (taskPart > r) taskPart -= tasks;
        return r - taskPart;
    }
}

/// <summary>The run of ISO-C (<c>commonFraction</c> null) and ISO-CTS.</summary>
internal sealed class IsotropicRun(MergePlan plan, string rule, double? commonFraction) : MergeRun
{
    /// <summary>
    /// ISO-CTS runs one tensor at a time (its T truncated SVDs and two polar factors side by side, S's eigendecomposition
    /// and its products on every thread), so memory holds one tensor's T task buffers. ISO-C keeps one tensor per worker,
    /// each on one thread (its work per matrix is one eigendecomposition whose tridiagonal reduction is sequential; one
    /// tensor at a time with the rest on two threads measured 1.3–1.8× slower), and needs only S = Σ w_t τt, which the
    /// executor accumulates as it reads (<see cref="MergeRun.UsesOnlyTaskSum"/>): a worker holds one task buffer, not T.
    /// </summary>
    internal override bool ParallelWithinTensor => commonFraction is not null;

    internal override bool UsesOnlyTaskSum => commonFraction is null;

    internal override float TaskWeight(MergeTensorContext ctx, int task) => (float)ctx.Number("weight", task);

    public override void Prepare(MergeTensorContext ctx) => MatrixMerge.ApplyWeights(ctx);

    public override void Merge(MergeTensorContext ctx, Span<float> output)
    {
        float lambda = (float)ctx.Number("scale");
        if (commonFraction is null)
        {
            MergeFromSum(ctx, ctx.Task(0), lambda, output);
            return;
        }
        if (!MatrixMerge.IsMatrix(ctx.Info, rule))
        {
            MatrixMerge.MeanUpdate(ctx, lambda, output);
            return;
        }
        int m = ctx.Info.Shape[0], n = ctx.Info.Shape[1];
        MatrixMerge.Sum(ctx, ctx.Scratch);
        ctx.Base.CopyTo(output);
        var tau = new float[ctx.TaskCount][];
        for (int t = 0; t < tau.Length; t++) tau[t] = ctx.TaskArrays[t];
        int common = IsoCts.CommonSize(Math.Min(m, n), ctx.TaskCount, ctx.Number("common_space_fraction"));
        var settings = new RandomizedSvdSettings((int)ctx.Number("power_iterations"), MatrixMerge.SketchSeed(plan, "iso", ctx.Name), (int)ctx.Number("filter_degree"));
        IsoCtsUpdate.Add(ctx.Scratch, tau, m, n, common, settings, lambda, output, ctx.MaxThreads);
    }

    /// <summary>
    /// ISO-C from <paramref name="sum"/> = Σ w_t τt: a matrix gets <c>θ0 + λ·σ̄·polar(S)</c> (the polar factor in the scratch
    /// buffer), any other tensor <c>θ0 + λ·S/T</c> — the arithmetic of <see cref="MatrixMerge.MeanUpdate"/> on summed buffers.
    /// </summary>
    private void MergeFromSum(MergeTensorContext ctx, Span<float> sum, float lambda, Span<float> output)
    {
        if (!MatrixMerge.IsMatrix(ctx.Info, rule))
        {
            output.Clear();
            TensorPrimitives.Add(output, sum, output);
            TensorPrimitives.Multiply(output, lambda / ctx.TaskCount, output);
            TensorPrimitives.Add(output, ctx.Base, output);
            return;
        }
        ctx.Base.CopyTo(output);
        IsoCUpdate(sum, ctx.Info.Shape[0], ctx.Info.Shape[1], lambda, output, maxThreads: 1, polar: ctx.Scratch);
    }

    /// <summary>
    /// Adds <c>λ·σ̄·polar(S)</c> of <paramref name="sum"/> (m, n) into <paramref name="output"/>, on up to
    /// <paramref name="maxThreads"/> threads (same result for any count); the polar factor goes to <paramref name="polar"/>
    /// (m, n) when given, else to a pooled buffer.
    /// </summary>
    internal static void IsoCUpdate(ReadOnlySpan<float> sum, int m, int n, float lambda, Span<float> output, int maxThreads = int.MaxValue,
        Span<float> polar = default)
    {
        var pool = BufferPool<float>.Shared;
        float[]? rented = polar.Length >= m * n ? null : pool.Rent((long)m * n);
        var p = rented is null ? polar[..(m * n)] : rented.AsSpan(0, m * n); // (m, n) polar factor of S
        try
        {
            double nuclear = GramSvd.Polar(sum, m, n, p, maxThreads);
            float scale = (float)(lambda * nuclear / Math.Min(m, n));
            TensorPrimitives.MultiplyAdd(p, scale, output, output);
        }
        finally
        {
            if (rented is not null) pool.Return(rented);
        }
    }
}
