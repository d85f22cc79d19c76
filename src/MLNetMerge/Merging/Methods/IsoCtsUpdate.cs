using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Merging.Methods;

/// <summary>
/// ISO-CTS's update of one matrix (m, n), r = min(m, n), k = common: <c>λ·σ̄·polar(U) polar(Vᵀ)</c> with U = [task blocks |
/// U_k], Vᵀ the matching rows and σ̄ the mean of the stacked singular values; U_k, Σ_k, V_kᵀ the top-k triplets of
/// <c>S = Σt τt</c>, task t's block its top p = (r − k)/T triplets of <c>τt − U_k U_kᵀ τt</c> (Marczak et al. 2025,
/// arXiv:2502.04959; math in docs/methods/iso.md). Two ways to the same matrix:
/// <list type="bullet">
/// <item>Wide or square (m ≤ n), <see cref="AddByComplement"/>: U from the eigenvectors of <c>S Sᵀ</c> is a complete
/// orthonormal basis of R^m, so <c>I − U_k U_kᵀ = U_r U_rᵀ</c> with U_r its last m − k columns, and task t's projection is
/// <c>U_r Z_t</c>, <c>Z_t = U_rᵀ τt</c> ((m − k, n): (m − k)·m·n multiply-adds per task against the 2·k·m·n of projecting
/// with U_k, at k = 0.8·m eight times fewer). Z_t's exact SVD (its Gram matrix of (m − k)² in float64) gives the task's triplets:
/// left vectors <c>U_r y_t</c>. The task blocks <c>U_r Y</c> (Y = [y_1 … y_T], (m − k, m − k)) are orthogonal to U_k, so
/// <c>polar([U_r Y | U_k]) = [U_r polar(Y) | U_k]</c>: the left polar factor needs the eigendecomposition of an
/// (m − k)² Gram matrix, not an m² one.</item>
/// <item>Tall (m &gt; n), <see cref="AddByProjection"/>: U_k's complement in R^m is larger than the task vectors' row
/// space, so each projected task vector is formed (two products with U_k) and its top p triplets taken by the truncated
/// SVD of <see cref="MatrixMerge.TopTriplets"/> (the recipe's power_iterations and filter_degree). Its task blocks are
/// orthogonal to U_k too, so the left polar factor is <c>[polar(task blocks) | U_k]</c>: an (m − k)² Gram matrix.</item>
/// </list>
/// The per-task steps run side by side on up to maxThreads threads (<see cref="MatrixMerge.SideBySide"/>); the result is
/// the same for any thread count.
/// </summary>
internal static class IsoCtsUpdate
{
    /// <summary>Adds the update of <paramref name="sum"/> = Σ τt (m, n) into <paramref name="output"/> (m, n).</summary>
    internal static void Add(ReadOnlySpan<float> sum, float[][] tau, int m, int n, int common,
        RandomizedSvdSettings settings, float lambda, Span<float> output, int maxThreads = int.MaxValue)
    {
        int r = Math.Min(m, n);
        if (common < 0 || common > r || (r - common) % tau.Length != 0)
            throw new ArgumentException($"ISO-CTS: a common size of {common} leaves {r - common} of r = {r} directions, not a multiple of the {tau.Length} tasks (IsoCts.CommonSize gives one that is).");
        if (m <= n) AddByComplement(sum, tau, m, n, common, lambda, output, maxThreads);
        else AddByProjection(sum, tau, m, n, common, settings, lambda, output, maxThreads);
    }

    /// <summary>
    /// The wide and square case (m ≤ n, r = m): task projections in U_k's complement, exact per-task SVDs. A column of U_k
    /// whose singular value is at the floor (<see cref="GramSvd.IsAtFloor"/>) is zero in the stacked U and is not projected
    /// out of the task vectors, as in <see cref="AddByProjection"/>: the at-floor values are the last ones, so the
    /// complement used is U's columns from c = (U_k's columns above the floor) on, (m − c) ≥ (m − k) of them, and Y is
    /// (m − c, m − k).
    /// </summary>
    internal static void AddByComplement(ReadOnlySpan<float> sum, float[][] tau, int m, int n, int common, float lambda,
        Span<float> output, int maxThreads)
    {
        int tasks = tau.Length, r = m, rest = r - common, perTask = rest / tasks;
        var f = GramSvd.DecomposeRows(sum, m, n, maxThreads); // U (m, m) complete basis, S (m), Vᵀ (m, n)
        int live = 0;                                          // U_k's columns above the floor: the first `live`
        while (live < common && !GramSvd.IsAtFloor(f.S, live)) live++;
        int span = m - live;                                   // columns of the complement basis U_c = U[:, live..m)
        var pool = BufferPool<float>.Shared;
        float[] y = pool.Rent((long)Math.Max(span * rest, 1));  // (span, rest) Y: task t's top left vectors of Z_t in columns t·p …
        float[] py = pool.Rent((long)Math.Max(span * rest, 1)); // (span, rest) polar(Y)
        float[] vc = pool.Rent((long)r * n);                     // (r, n) task blocks' rows of Vᵀ, then V_kᵀ
        float[] pu = pool.Rent((long)m * r);                     // (m, r) polar(U) = [U_c polar(Y) | U_k]
        var sigma = new double[r];                               // (r) the stacked singular values
        try
        {
            // The common block: U_k with its at-floor columns zero (as Decompose gives them), V_kᵀ (zero rows there), Σ_k.
            for (int i = 0; i < m; i++)
            {
                f.U.AsSpan(i * m, live).CopyTo(pu.AsSpan(i * r + rest, live));
                pu.AsSpan(i * r + rest + live, common - live).Clear();
            }
            f.Vt.AsSpan(0, common * n).CopyTo(vc.AsSpan(rest * n, common * n));
            for (int j = 0; j < common; j++) sigma[rest + j] = f.S[j];
            if (perTask > 0)
            {
                var basis = f.U;
                MatrixMerge.SideBySide(tasks, maxThreads, (t, threads) =>
                {
                    float[] z = pool.Rent((long)span * n); // (span, n) Z_t = U_cᵀ τt
                    try
                    {
                        Gemm.Multiply(true, false, span, n, m, 1f, basis.AsSpan(live), m, tau[t], n, 0f, z, n, threads);
                        var ft = GramSvd.Decompose(z.AsSpan(0, span * n), span, n, threads); // U (span, K), S, Vᵀ (K, n)
                        try
                        {
                            for (int i = 0; i < span; i++)
                                ft.U.AsSpan(i * ft.K, perTask).CopyTo(y.AsSpan(i * rest + t * perTask, perTask));
                            ft.Vt.AsSpan(0, perTask * n).CopyTo(vc.AsSpan(t * perTask * n, perTask * n));
                            for (int j = 0; j < perTask; j++) sigma[t * perTask + j] = ft.S[j];
                        }
                        finally
                        {
                            ft.Return();
                        }
                    }
                    finally
                    {
                        pool.Return(z);
                    }
                });
                GramSvd.Polar(y.AsSpan(0, span * rest), span, rest, py.AsSpan(0, span * rest), maxThreads);
                Gemm.Multiply(false, false, m, rest, span, 1f, f.U.AsSpan(live), m, py, rest, 0f, pu, r, maxThreads); // U_c polar(Y)
            }
            AddFlattened(sigma, pu, vc, m, n, lambda, output, maxThreads);
        }
        finally
        {
            pool.Return(y);
            pool.Return(py);
            pool.Return(vc);
            pool.Return(pu);
            f.Return();
        }
    }

    /// <summary>The tall case (m &gt; n): each task vector projected with U_k, its top triplets by truncated SVD, the left
    /// polar factor from the task blocks alone.</summary>
    internal static void AddByProjection(ReadOnlySpan<float> sum, float[][] tau, int m, int n, int common,
        RandomizedSvdSettings settings, float lambda, Span<float> output, int maxThreads)
    {
        int tasks = tau.Length, r = Math.Min(m, n), rest = r - common, perTask = rest / tasks;
        var f = GramSvd.Decompose(sum, m, n, maxThreads); // U (m, r), S (r), Vᵀ (r, n)
        var pool = BufferPool<float>.Shared;
        float[] ut = pool.Rent((long)m * Math.Max(rest, 1));   // (m, rest) task blocks U_t side by side, columns t·p …
        float[] vc = pool.Rent((long)r * n);                    // (r, n) task blocks' rows of Vᵀ, then V_kᵀ
        float[] uk = pool.Rent((long)m * Math.Max(common, 1));  // (m, k) common left basis, contiguous
        float[] pt = pool.Rent((long)m * Math.Max(rest, 1));    // (m, rest) polar of the task blocks
        float[] pu = pool.Rent((long)m * r);                    // (m, r) polar(U) = [polar(task blocks) | U_k]
        var sigma = new double[r];                               // (r) the stacked singular values
        try
        {
            for (int i = 0; i < m; i++)
            {
                f.U.AsSpan(i * r, common).CopyTo(uk.AsSpan(i * common, common));
                f.U.AsSpan(i * r, common).CopyTo(pu.AsSpan(i * r + rest, common));
            }
            f.Vt.AsSpan(0, common * n).CopyTo(vc.AsSpan(rest * n, common * n));
            for (int j = 0; j < common; j++) sigma[rest + j] = f.S[j];
            if (perTask > 0)
            {
                MatrixMerge.SideBySide(tasks, maxThreads, (t, threads) =>
                {
                    var ft = ProjectedTopTriplets(tau[t], uk, m, n, common, perTask, settings, threads);
                    for (int i = 0; i < m; i++) ft.U.AsSpan(i * perTask, perTask).CopyTo(ut.AsSpan(i * rest + t * perTask, perTask));
                    ft.Vt.AsSpan(0, perTask * n).CopyTo(vc.AsSpan(t * perTask * n, perTask * n));
                    for (int j = 0; j < perTask; j++) sigma[t * perTask + j] = ft.S[j];
                });
                // The task blocks lie in U_k's complement, so polar([task blocks | U_k]) = [polar(task blocks) | U_k].
                GramSvd.Polar(ut.AsSpan(0, m * rest), m, rest, pt.AsSpan(0, m * rest), maxThreads);
                for (int i = 0; i < m; i++) pt.AsSpan(i * rest, rest).CopyTo(pu.AsSpan(i * r, rest));
            }
            AddFlattened(sigma, pu, vc, m, n, lambda, output, maxThreads);
        }
        finally
        {
            pool.Return(ut);
            pool.Return(vc);
            pool.Return(uk);
            pool.Return(pt);
            pool.Return(pu);
            f.Return();
        }
    }

    /// <summary>
    /// The top <paramref name="p"/> triplets of the projected task vector <c>W = τ − U_k U_kᵀ τ</c> (τ (m, n), m &gt; n,
    /// U_k <paramref name="uk"/> (m, k)) without forming W: with <c>B = U_kᵀ τ</c> (k, n), W's Gram matrix is
    /// <c>Wᵀ W = τᵀ τ − Bᵀ B</c> (U_k's columns orthonormal), whose top eigenvectors (<see cref="GramSubspaceSvd.TopEigenvectors"/>,
    /// the recipe's power_iterations and filter_degree) give V, and <c>U S = W V = τ V − U_k (B V)</c>. B costs k·m·n
    /// multiply-adds and the two Gram matrices (n² (m + k))/2, against the 2·k·m·n + n²·m/2 of forming W and its Gram matrix.
    /// A wide or square τ (which ISO-CTS itself takes by the complement; the tests compare the two paths on it) has no such
    /// identity for W Wᵀ: W is formed (<see cref="FormedProjectionTopTriplets"/>).
    /// </summary>
    internal static LowRankFactors ProjectedTopTriplets(float[] tau, float[] uk, int m, int n, int k, int p,
        RandomizedSvdSettings settings, int threads)
    {
        if (m <= n) return FormedProjectionTopTriplets(tau, uk, m, n, k, p, settings, threads);
        var pool = BufferPool<float>.Shared;
        float[] b = pool.Rent((long)Math.Max(k, 1) * n); // (k, n) B = U_kᵀ τ
        float[] g = pool.Rent((long)n * n);              // (n, n) τᵀ τ, then Wᵀ W
        float[] h = pool.Rent((long)n * n);              // (n, n) Bᵀ B
        try
        {
            TriangularGram.Compute(tau.AsSpan(0, m * n), m, n, ofRows: false, g.AsSpan(0, n * n), GramSubspaceSvd.GramBlock, threads); // τᵀ τ
            if (k > 0)
            {
                Gemm.Multiply(true, false, k, n, m, 1f, uk, k, tau, n, 0f, b, n, threads);
                TriangularGram.Compute(b.AsSpan(0, k * n), k, n, ofRows: false, h.AsSpan(0, n * n), GramSubspaceSvd.GramBlock, threads); // Bᵀ B
                System.Numerics.Tensors.TensorPrimitives.Subtract(g.AsSpan(0, n * n), h.AsSpan(0, n * n), g.AsSpan(0, n * n));
            }
            var vt = GramSubspaceSvd.TopEigenvectors(g, n, p, MatrixMerge.TopTripletsOversampling, settings.PowerIterations,
                settings.Seed, GramSubspaceSvd.DefaultShiftSteps, threads, settings.FilterDegree); // (p, n)
            var u = new float[m * p];                                                     // (m, p) W V, then U
            Gemm.Multiply(false, true, m, p, n, 1f, tau, n, vt, n, 0f, u, p, threads);   // τ V
            if (k > 0)
            {
                float[] bv = new float[k * p];                                            // (k, p) B V
                Gemm.Multiply(false, true, k, p, n, 1f, b, n, vt, n, 0f, bv, p, threads);
                Gemm.Multiply(false, false, m, p, k, -1f, uk, k, bv, p, 1f, u, p, threads); // − U_k (B V)
            }
            return GramSubspaceSvd.FromRightProduct(u, m, n, p, vt);
        }
        finally
        {
            pool.Return(b);
            pool.Return(g);
            pool.Return(h);
        }
    }

    /// <summary>The top <paramref name="p"/> triplets of <c>W = τ − U_k U_kᵀ τ</c>, W formed (two products with U_k) and
    /// decomposed by <see cref="MatrixMerge.TopTriplets"/>.</summary>
    private static LowRankFactors FormedProjectionTopTriplets(float[] tau, float[] uk, int m, int n, int k, int p,
        RandomizedSvdSettings settings, int threads)
    {
        var pool = BufferPool<float>.Shared;
        float[] w = pool.Rent((long)m * n);                  // (m, n) τ − U_k U_kᵀ τ
        float[] b = pool.Rent((long)Math.Max(k, 1) * n);     // (k, n) U_kᵀ τ
        try
        {
            var ws = w.AsSpan(0, m * n);
            tau.AsSpan(0, m * n).CopyTo(ws);
            if (k > 0)
            {
                Gemm.Multiply(true, false, k, n, m, 1f, uk, k, tau, n, 0f, b, n, threads);
                Gemm.Multiply(false, false, m, n, k, -1f, uk, k, b, n, 1f, w, n, threads);
            }
            return MatrixMerge.TopTriplets(ws, m, n, p, settings, threads);
        }
        finally
        {
            pool.Return(w);
            pool.Return(b);
        }
    }

    /// <summary>
    /// The last step of both paths: <c>output += λ·σ̄·pu·polar(vc)</c>, σ̄ the mean of the stacked singular values
    /// <paramref name="sigma"/> (r), pu (m, r) the stacked left factor already orthogonalised, vc (r, n) the stacked rows
    /// of Vᵀ (r ≤ n), whose polar factor is applied without being formed where that is cheaper (<see cref="GramSvd.AddLeftTimesPolar(ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, int, float, Span{float}, int)"/>).
    /// </summary>
    private static void AddFlattened(double[] sigma, float[] pu, float[] vc, int m, int n, float lambda, Span<float> output, int maxThreads)
    {
        int r = sigma.Length;
        double mean = 0;
        foreach (double s in sigma) mean += s;
        mean /= r;
        GramSvd.AddLeftTimesPolar(pu.AsSpan(0, m * r), m, vc.AsSpan(0, r * n), r, n, (float)(lambda * mean), output, maxThreads);
    }
}
