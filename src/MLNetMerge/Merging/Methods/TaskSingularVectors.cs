using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// TSV-M (task singular vectors, merge): per matrix (m, n), r = min(m, n), each task vector keeps its top
/// <c>k = ⌊r/T⌋</c> singular triplets <c>τt ≈ Ut St Vtᵀ</c>; the kept vectors of all tasks are placed side by side,
/// <c>X = [U1 … UT]</c> (m, Tk), <c>s = [S1 … ST]</c>, <c>Y = [V1ᵀ; …; VTᵀ]</c> (Tk, n), decorrelated by orthogonal
/// Procrustes (each replaced by its polar factor, the nearest matrix with orthonormal columns or rows), and
/// <c>θ = θ0 + λ·polar(X) diag(s) polar(Y)</c>. Every other tensor gets <c>θ0 + λ·mean τ</c>. Per-task top-k by
/// seeded subspace iteration on the Gram matrix (<see cref="MatrixMerge.TopTriplets"/>; the seed from the recipe seed
/// and the tensor name; the whole range when k + 64 ≥ r), polar factors through <see cref="GramSvd"/> (the longer side's applied without being formed). Gargiulo et al. 2025, "Task Singular Vectors: Reducing Task Interference in Model Merging",
/// CVPR, arXiv:2412.00081. Math: docs/methods/tsv-m.md.
/// </summary>
internal sealed class TaskSingularVectors : MergeMethod
{
    /// <inheritdoc />
    public override string Name => "tsv_m";

    /// <inheritdoc />
    public override string Reference => "Gargiulo et al. 2025, Task Singular Vectors: Reducing Task Interference in Model Merging (TSV-M), arXiv:2412.00081";

    /// <inheritdoc />
    public override string Summary => "per matrix: top 1/T singular vectors of each τ, decorrelated by Procrustes";

    /// <inheritdoc />
    public override IReadOnlyList<MethodParameter> Parameters { get; } =
    [
        MethodParameter.Number("scale", 1.0, "λ (the paper's α): multiplies the merged update.", -100, 100) with { Aliases = [new("lambda"), new("alpha")] },
        MatrixMerge.MatricesParameter(),
        MatrixMerge.PowerIterationsParameter(),
        MatrixMerge.FilterDegreeParameter(),
        CommonParameters.Weight(),
    ];

    /// <inheritdoc />
    public override MergeRun Begin(MergePlan plan, MergeParameters parameters)
    {
        MatrixMerge.RequireMatrices(plan, parameters, Name);
        return new Run(plan, parameters.Choice("matrices"));
    }

    private sealed class Run(MergePlan plan, string rule) : MergeRun
    {
        internal override bool ParallelWithinTensor => true;

        public override void Prepare(MergeTensorContext ctx) => MatrixMerge.ApplyWeights(ctx);

        public override void Merge(MergeTensorContext ctx, Span<float> output)
        {
            float lambda = (float)ctx.Number("scale");
            if (!MatrixMerge.IsMatrix(ctx.Info, rule))
            {
                MatrixMerge.MeanUpdate(ctx, lambda, output);
                return;
            }
            int m = ctx.Info.Shape[0], n = ctx.Info.Shape[1];
            ctx.Base.CopyTo(output);
            var tau = new float[ctx.TaskCount][];
            for (int t = 0; t < tau.Length; t++) tau[t] = ctx.TaskArrays[t];
            var settings = new RandomizedSvdSettings((int)ctx.Number("power_iterations"), MatrixMerge.SketchSeed(plan, "tsv_m", ctx.Name), (int)ctx.Number("filter_degree"));
            Merged(tau, m, n, settings, lambda, output, ctx.MaxThreads);
        }
    }

    /// <summary>
    /// Adds <c>λ·polar(X) diag(s) polar(Y)</c> of the task matrices <paramref name="tau"/> (each (m, n)) into
    /// <paramref name="output"/> (m, n). Nothing is added when <c>⌊min(m, n)/T⌋ = 0</c> (no triplet per task). The T
    /// truncated SVDs, then the two polar factors, run side by side on up to <paramref name="maxThreads"/> threads
    /// (<see cref="MatrixMerge.SideBySide"/>); the result is the same for any thread count. The polar factor of the side
    /// that is longer than Tk (X when m &gt; n, Y when n &gt; m) is not formed: its Gram matrix's inverse root is
    /// decomposed beside the other side's polar factor and applied within the final product
    /// (<see cref="GramSvd.AddPolarTimesRight"/>, <see cref="GramSvd.AddLeftTimesPolar(ReadOnlySpan{float}, int, GramSvd.InverseRoot, ReadOnlySpan{float}, int, int, float, Span{float}, int)"/>),
    /// which saves 2·Tk²·|m − n| multiply-adds.
    /// </summary>
    internal static void Merged(float[][] tau, int m, int n, RandomizedSvdSettings settings, float lambda, Span<float> output, int maxThreads = int.MaxValue)
    {
        int tasks = tau.Length, r = Math.Min(m, n), k = r / tasks, width = k * tasks;
        if (k == 0) return;
        var pool = BufferPool<float>.Shared;
        float[] x = pool.Rent((long)m * width);   // (m, Tk) kept left vectors, task t in columns t·k … t·k + k − 1
        float[] y = pool.Rent((long)width * n);   // (Tk, n) kept right vectors as rows
        float[] p = pool.Rent((long)Math.Min(m, n) * width); // (m, Tk) polar(X) diag(s), or (Tk, n) diag(s) polar(Y) when m > n
        float[]? py = m == n ? pool.Rent((long)width * n) : null; // (Tk, n) polar(Y) when neither side is folded
        var s = new float[width];                 // (Tk) kept singular values
        GramSvd.InverseRoot? root = null;          // of the folded side
        try
        {
            MatrixMerge.SideBySide(tasks, maxThreads, (t, threads) =>
            {
                var f = MatrixMerge.TopTriplets(tau[t].AsSpan(0, m * n), m, n, k, settings, threads);
                for (int i = 0; i < m; i++) f.U.AsSpan(i * k, k).CopyTo(x.AsSpan(i * width + t * k, k));
                f.Vt.AsSpan(0, k * n).CopyTo(y.AsSpan(t * k * n, k * n));
                f.S.AsSpan(0, k).CopyTo(s.AsSpan(t * k, k));
            });
            if (m > n)
            {
                // X tall: polar(Y) formed beside (XᵀX)^(−1/2), then X ((XᵀX)^(−1/2) (diag(s) polar(Y))).
                MatrixMerge.SideBySide(2, maxThreads, (side, threads) =>
                {
                    if (side == 0) GramSvd.Polar(y.AsSpan(0, width * n), width, n, p.AsSpan(0, width * n), threads);
                    else root = GramSvd.InverseRootOf(x.AsSpan(0, m * width), m, width, threads);
                });
                for (int j = 0; j < width; j++)
                    System.Numerics.Tensors.TensorPrimitives.Multiply(p.AsSpan(j * n, n), s[j], p.AsSpan(j * n, n));
                GramSvd.AddPolarTimesRight(x.AsSpan(0, m * width), m, width, root!, p.AsSpan(0, width * n), n, lambda, output, maxThreads);
                return;
            }
            MatrixMerge.SideBySide(2, maxThreads, (side, threads) =>
            {
                if (side == 0) GramSvd.Polar(x.AsSpan(0, m * width), m, width, p.AsSpan(0, m * width), threads);
                else if (py is not null) GramSvd.Polar(y.AsSpan(0, width * n), width, n, py.AsSpan(0, width * n), threads);
                else root = GramSvd.InverseRootOf(y.AsSpan(0, width * n), width, n, threads);
            });
            for (int i = 0; i < m; i++)
                System.Numerics.Tensors.TensorPrimitives.Multiply(p.AsSpan(i * width, width), s, p.AsSpan(i * width, width));
            if (py is not null) Gemm.Multiply(false, false, m, n, width, lambda, p, width, py, n, 1f, output, n, maxThreads);
            else GramSvd.AddLeftTimesPolar(p.AsSpan(0, m * width), m, root!, y.AsSpan(0, width * n), width, n, lambda, output, maxThreads); // Y wide: ((polar(X) diag(s)) (Y Yᵀ)^(−1/2)) Y
        }
        finally
        {
            root?.Return();
            pool.Return(x);
            pool.Return(y);
            pool.Return(p);
            if (py is not null) pool.Return(py);
        }
    }
}
