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
        IsoCtsUpdate(ctx.Scratch, tau, m, n, common, settings, lambda, output, ctx.MaxThreads);
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

    /// <summary>
    /// Adds ISO-CTS's <c>λ·σ̄·polar(U) polar(Vᵀ)</c> into <paramref name="output"/> (m, n): common block the top
    /// <paramref name="common"/> triplets of <paramref name="sum"/>, task blocks each task's top (r − common)/T triplets
    /// after projecting out the common left subspace. The per-task SVDs, then the two polar factors, run side by side on
    /// up to <paramref name="maxThreads"/> threads (<see cref="MatrixMerge.SideBySide"/>; same result for any count).
    /// </summary>
    internal static void IsoCtsUpdate(ReadOnlySpan<float> sum, float[][] tau, int m, int n, int common,
        RandomizedSvdSettings settings, float lambda, Span<float> output, int maxThreads = int.MaxValue)
    {
        int tasks = tau.Length, r = Math.Min(m, n), perTask = (r - common) / tasks;
        var f = GramSvd.Decompose(sum, m, n, maxThreads); // U (m, r), S (r), Vᵀ (r, n)
        var pool = BufferPool<float>.Shared;
        float[] uc = pool.Rent((long)m * r);             // (m, r) task blocks in columns t·p …, common block last
        float[] vc = pool.Rent((long)r * n);             // (r, n) the matching rows of Vᵀ
        float[] uk = pool.Rent((long)m * Math.Max(common, 1)); // (m, k) common left basis, contiguous
        float[] pu = pool.Rent((long)m * r);             // (m, r) polar(U)
        float[] pv = pool.Rent((long)r * n);             // (r, n) polar(Vᵀ)
        var sigma = new double[r];                        // (r) the stacked singular values
        try
        {
            for (int i = 0; i < m; i++)
            {
                f.U.AsSpan(i * r, common).CopyTo(uk.AsSpan(i * common, common));
                f.U.AsSpan(i * r, common).CopyTo(uc.AsSpan(i * r + tasks * perTask, common));
            }
            f.Vt.AsSpan(0, common * n).CopyTo(vc.AsSpan(tasks * perTask * n, common * n));
            for (int j = 0; j < common; j++) sigma[tasks * perTask + j] = f.S[j];
            if (perTask > 0)
                MatrixMerge.SideBySide(tasks, maxThreads, (t, threads) =>
                {
                    float[] w = pool.Rent((long)m * n);                          // (m, n) τt − Uk Ukᵀ τt
                    float[] proj = pool.Rent((long)Math.Max(common, 1) * n);     // (k, n) Ukᵀ τt
                    try
                    {
                        var ws = w.AsSpan(0, m * n);
                        tau[t].AsSpan(0, m * n).CopyTo(ws);
                        if (common > 0)
                        {
                            Gemm.Multiply(true, false, common, n, m, 1f, uk, common, tau[t], n, 0f, proj, n, threads);   // Ukᵀ τt   (k, n)
                            Gemm.Multiply(false, false, m, n, common, -1f, uk, common, proj, n, 1f, w, n, threads);      // τt − Uk·(k, n)
                        }
                        var ft = MatrixMerge.TopTriplets(ws, m, n, perTask, settings, threads);
                        for (int i = 0; i < m; i++) ft.U.AsSpan(i * perTask, perTask).CopyTo(uc.AsSpan(i * r + t * perTask, perTask));
                        ft.Vt.AsSpan(0, perTask * n).CopyTo(vc.AsSpan(t * perTask * n, perTask * n));
                        for (int j = 0; j < perTask; j++) sigma[t * perTask + j] = ft.S[j];
                    }
                    finally
                    {
                        pool.Return(w);
                        pool.Return(proj);
                    }
                });
            double mean = 0;
            foreach (double s in sigma) mean += s;
            mean /= r;
            MatrixMerge.SideBySide(2, maxThreads, (side, threads) =>
            {
                if (side == 0) GramSvd.Polar(uc.AsSpan(0, m * r), m, r, pu.AsSpan(0, m * r), threads);   // polar(U) (m, r)
                else GramSvd.Polar(vc.AsSpan(0, r * n), r, n, pv.AsSpan(0, r * n), threads);            // polar(Vᵀ) (r, n)
            });
            Gemm.Multiply(false, false, m, n, r, (float)(lambda * mean), pu, r, pv, n, 1f, output, n, maxThreads);
        }
        finally
        {
            pool.Return(uc);
            pool.Return(vc);
            pool.Return(uk);
            pool.Return(pu);
            pool.Return(pv);
            f.Return();
        }
    }
}
