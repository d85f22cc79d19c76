
namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Truncated SVD by Chebyshev-filtered subspace iteration on the Gram matrix of the short side. With k = min(m, n),
/// l = min(r + p, k) and a seeded Gaussian Ω (k, l):
/// <code>
/// G = A Aᵀ (m ≤ n) or Aᵀ A (m &gt; n)           (k, k), one GEMM of k²·max(m, n) multiply-adds
/// Q = orth(G Ω)                                 (k, l)
/// until q products by G are spent (the first application d = 1, later ones d = min(degree, what is left)):
///     Y = Qᵀ G; on the first S applications, Ritz values θ of Q (eigenvalues of Y Q) raise b = max(b, θ_l), ρ = max(ρ, θ_1)
///     Q = orth(p_d(G) Q)                        p_d: the <see cref="ChebyshevFilter"/> damping [0, b], 1 at ρ
/// T = Qᵀ G Q = W diag(λ) Wᵀ                    (l, l) Rayleigh–Ritz in float64
/// X = Q W[:, :r]                                (k, r) the top r eigenvectors of G
/// m ≤ n: U = X, S Vᵀ = Xᵀ A;  m &gt; n: V = X, U S = A X     (S from the row or column norms)
/// </code>
/// Each product by G costs k²·l instead of the 2·l·m·n of a power step on A, so after the one product that forms G
/// (k²·max(m, n), about k/(2l) power steps' worth) iterations are cheap. Degree 1 is the power iteration shifted by b/2
/// (dashSVD's shift: the wanted eigenvalues λ_j − b/2 ≥ λ_r/2 stay dominant); degree d damps [0, b] by a Chebyshev
/// polynomial, which at λ = (1 + δ) b grows as cosh(d·acosh(1 + 2δ)) against (1 + 2δ)^d, so the same accuracy takes fewer
/// products and fewer orthonormalisations. The filter multiplies the top direction by about T_d(2ρ/b − 1) against 1 for
/// the bottom of the block; past ~10⁴ the block is too ill-conditioned for plain CholeskyQR, and
/// <see cref="RowOrthonormalizer"/> conditions it with one shifted pass first (at degree 3 on most matrices; the first
/// application, whose b from G Ω is still far below λ_l, has degree 1). Forming G in float32 squares A's condition number, but CART's criterion is
/// the residual <c>‖A − Â_r‖F</c>, which an error of δ in the subspace moves only by O(δ²); the error is measured on the
/// merge benchmark's matrices (docs/truncated-svd.md). G is packed once (<see cref="PackedMatrix"/>) for the q + 2
/// products that read it. The result is a deterministic function of A and the seed; orthonormalisation is CholeskyQR with a
/// Householder fallback.
/// </summary>
internal static class GramSubspaceSvd
{
    /// <summary>
    /// Default extra sketch columns beyond the rank: CART's choice, with <see cref="DefaultIterations"/> the cheapest
    /// measured setting whose low-rank part stays within 1e-3 (relative Frobenius, largest over the merge benchmark's
    /// matrices) of the exact SVD's (docs/truncated-svd.md).
    /// </summary>
    public const int DefaultOversampling = 64;

    /// <summary>Default number of products by G after the first (CART's choice; see <see cref="DefaultOversampling"/>).</summary>
    public const int DefaultIterations = 13;

    /// <summary>Default number of filter applications that update the interval (b, ρ) from the Ritz values (later ones keep
    /// it; each update costs an l×l eigenvalue problem, about a product's worth). CART's choice.</summary>
    public const int DefaultShiftSteps = 3;

    /// <summary>Default degree of the Chebyshev filter: products by G between two orthonormalisations (CART's choice).</summary>
    public const int DefaultDegree = 3;

    /// <summary>Computes rank-<paramref name="rank"/> factors of <paramref name="a"/> (m, n), row-major float32.</summary>
    /// <param name="a">The matrix, (m, n).</param>
    /// <param name="m">Rows.</param>
    /// <param name="n">Columns.</param>
    /// <param name="rank">Triplets to keep, 0 ≤ rank ≤ min(m, n).</param>
    /// <param name="oversampling">Extra sketch columns p (≥ 0); l = min(rank + p, min(m, n)).</param>
    /// <param name="iterations">Products by G after the first, q (≥ 0), spent by the filter applications.</param>
    /// <param name="seed">Seed of the Gaussian start block.</param>
    /// <param name="shiftSteps">Filter applications that compute the Ritz values to raise b and ρ (0: no shift or filter at all).</param>
    /// <param name="maxThreads">Threads each GEMM may use (1 when several SVDs run side by side). The result is the same for any value.</param>
    /// <param name="degree">Products by G per filter application (<see cref="ChebyshevFilter"/>); 1 is the shifted power iteration.</param>
    /// <exception cref="ArgumentException">Bad dimensions or counts, a short span, or a non-finite input.</exception>
    public static LowRankFactors Compute(ReadOnlySpan<float> a, int m, int n, int rank, int oversampling = DefaultOversampling,
        int iterations = DefaultIterations, ulong seed = 0, int shiftSteps = DefaultShiftSteps, int maxThreads = int.MaxValue,
        int degree = DefaultDegree)
    {
        DenseKernels.Require("Gram SVD input A", a.Length, m, n);
        int k = Math.Min(m, n);
        if (rank < 0 || rank > k) throw new ArgumentException($"Gram SVD: rank {rank} is outside [0, {k}] for a ({m}, {n}) matrix.");
        if (degree < 1) throw new ArgumentException($"Gram SVD: the filter degree ({degree}) must be ≥ 1.");
        if (oversampling < 0 || iterations < 0) throw new ArgumentException($"Gram SVD: oversampling ({oversampling}) and iterations ({iterations}) must be ≥ 0.");
        if (m * n > 0 && !float.IsFinite(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(a.Slice(0, m * n))))
            throw new ArgumentException("Gram SVD: A holds a non-finite value.");
        if (rank == 0) return new LowRankFactors(m, n, 0, [], [], []);
        bool wide = m <= n;
        float[] g = BufferPool<float>.Shared.Rent((long)k * k); // (k, k) G
        try
        {
            TriangularGram.Compute(a, m, n, wide, g.AsSpan(0, k * k), GramBlock, maxThreads); // G, lower triangle mirrored
            var xt = TopEigenvectors(g, k, rank, oversampling, iterations, seed, shiftSteps, maxThreads, degree);
            return wide ? FromLeft(a, m, n, rank, xt, maxThreads) : FromRight(a, m, n, rank, xt, maxThreads);
        }
        finally
        {
            BufferPool<float>.Shared.Return(g);
        }
    }

    /// <summary>
    /// Xᵀ (rank, k): the top <paramref name="rank"/> eigenvectors, as rows, of the symmetric positive semidefinite
    /// <paramref name="g"/> (k, k; not changed) by the filtered subspace iteration of <see cref="Compute"/>, with the same
    /// sketch, seed, products and Rayleigh–Ritz step; 0 &lt; rank ≤ k.
    /// </summary>
    internal static float[] TopEigenvectors(float[] g, int k, int rank, int oversampling, int iterations, ulong seed,
        int shiftSteps, int maxThreads, int degree)
    {
        int l = Math.Min(rank + oversampling, k);
        var pool = BufferPool<float>.Shared;
        float[] qt = pool.Rent((long)l * k);  // (l, k) Qᵀ
        float[] yt = pool.Rent((long)l * k);  // (l, k) Yᵀ = Qᵀ G
        float[] tl = pool.Rent((long)l * l);  // (l, l) Qᵀ G Q
        double[] td = BufferPool<double>.Shared.Rent(l * l); // (l, l) float64 copy for the eigensolver
        // G's panels, packed by the first product by G and read by the other q + 1 (same bits as packing G each time).
        using var packedG = PackedMatrix.TryAllocate(Gemm.BestPath, false, k, k);
        try
        {
            GaussianSketch.Fill(seed, qt.AsSpan(0, l * k));                          // Ωᵀ (l, k), drawn once per seed
            Gemm.MultiplyCore(false, false, l, k, k, 1f, qt, k, g, k, 0f, yt, k, maxThreads, Gemm.BestPath, default, packedG); // Yᵀ = Ωᵀ G
            (qt, yt) = (yt, qt);
            RowOrthonormalizer.Orthonormalize(qt, l, k, passes: 1, maxThreads: maxThreads);
            double upper = 0, top = 0; // b and ρ of the filter: the largest smallest and largest Ritz values seen
            for (int done = 0, chunk = 0; done < iterations; chunk++)
            {
                Gemm.MultiplyCore(false, false, l, k, k, 1f, qt, k, g, k, 0f, yt, k, maxThreads, Gemm.BestPath, default, packedG); // Yᵀ = Qᵀ G
                if (chunk < shiftSteps)
                {
                    // Ritz values of this Q: eigenvalues of Qᵀ G Q = Yᵀ Q.
                    Gemm.Multiply(false, true, l, l, k, 1f, yt, k, qt, k, 0f, tl, l, maxThreads);
                    Symmetrize(tl, td, l);
                    var (largest, smallest) = TridiagonalEigenvalues.Extremes(td, l);
                    upper = Math.Max(upper, smallest);
                    top = Math.Max(top, largest);
                }
                int d = Math.Min(chunk == 0 ? 1 : degree, iterations - done);
                if (!(upper > 0 && top > upper)) d = 1;
                float[] result;
                if (upper > 0) result = ChebyshevFilter.Apply(g, packedG, k, qt, yt, productReady: true, l, d, upper, top, maxThreads);
                else { d = 1; result = yt; }                                                       // no interval: one plain product
                if (result == yt) (qt, yt) = (yt, qt);
                done += d;
                RowOrthonormalizer.Orthonormalize(qt, l, k, passes: done == iterations ? 2 : 1, maxThreads: maxThreads);
            }
            if (iterations == 0) RowOrthonormalizer.Orthonormalize(qt, l, k, passes: 1, maxThreads: maxThreads);
            // Rayleigh–Ritz: T = Qᵀ G Q.
            Gemm.MultiplyCore(false, false, l, k, k, 1f, qt, k, g, k, 0f, yt, k, maxThreads, Gemm.BestPath, default, packedG);
            Gemm.Multiply(false, true, l, l, k, 1f, yt, k, qt, k, 0f, tl, l, maxThreads);
            Symmetrize(tl, td, l);
            var values = new double[l];
            var wRows = new double[l * l]; // (l, l) row j = eigenvector j of T
            DivideConquerEigen.Decompose(td, l, values, wRows);
            var w = new float[rank * l];   // (r, l)
            for (int j = 0; j < rank; j++)
                for (int t = 0; t < l; t++) w[j * l + t] = (float)wRows[j * l + t];
            var xt = new float[rank * k];  // (r, k) Xᵀ = W_rᵀ Qᵀ: the top r eigenvectors of G as rows
            Gemm.Multiply(false, false, rank, k, l, 1f, w, l, qt, k, 0f, xt, k, maxThreads);
            return xt;
        }
        finally
        {
            pool.Return(qt);
            pool.Return(yt);
            pool.Return(tl);
            BufferPool<double>.Shared.Return(td);
        }
    }

    /// <summary>Rows of G per GEMM call when forming it (<see cref="TriangularGram"/>).</summary>
    internal const int GramBlock = 96;

    /// <summary>U = X (m, r) from Xᵀ (r, m); P = Xᵀ A (r, n), σ_j = ‖P_j‖, Vᵀ_j = P_j / σ_j.</summary>
    private static LowRankFactors FromLeft(ReadOnlySpan<float> a, int m, int n, int rank, float[] xt, int maxThreads)
    {
        var vt = new float[rank * n];      // (r, n)
        Gemm.Multiply(false, false, rank, n, m, 1f, xt, m, a, n, 0f, vt, n, maxThreads);
        var s = new float[rank];
        for (int j = 0; j < rank; j++)
        {
            var row = vt.AsSpan(j * n, n);
            double norm = Math.Sqrt(DotDouble(row, row));
            s[j] = (float)norm;
            if (norm > 0) System.Numerics.Tensors.TensorPrimitives.Multiply(row, (float)(1.0 / norm), row);
            else row.Clear();
        }
        var u = new float[m * rank];       // (m, r)
        for (int j = 0; j < rank; j++)
            for (int i = 0; i < m; i++) u[i * rank + j] = xt[j * m + i];
        return new LowRankFactors(m, n, rank, u, s, vt);
    }

    /// <summary>Vᵀ = Xᵀ (r, n); P = A X (m, r), σ_j = ‖P[:, j]‖, U[:, j] = P[:, j] / σ_j (<see cref="FromRightProduct"/>).</summary>
    private static LowRankFactors FromRight(ReadOnlySpan<float> a, int m, int n, int rank, float[] xt, int maxThreads)
    {
        var u = new float[m * rank];       // (m, r)
        Gemm.Multiply(false, true, m, rank, n, 1f, a, n, xt, n, 0f, u, rank, maxThreads);
        return FromRightProduct(u, m, n, rank, xt);
    }

    /// <summary>
    /// The factors from <paramref name="u"/> = A X (m, r; normalised in place into U) and Vᵀ = Xᵀ <paramref name="xt"/>
    /// (r, n): σ_j = ‖u[:, j]‖ (summed in float64), U[:, j] = u[:, j] / σ_j (zero where σ_j = 0).
    /// </summary>
    internal static LowRankFactors FromRightProduct(float[] u, int m, int n, int rank, float[] xt)
    {
        var norms = new double[rank];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < rank; j++) norms[j] += (double)u[i * rank + j] * u[i * rank + j];
        var s = new float[rank];
        var inv = new float[rank];
        for (int j = 0; j < rank; j++)
        {
            double norm = Math.Sqrt(norms[j]);
            s[j] = (float)norm;
            inv[j] = norm > 0 ? (float)(1.0 / norm) : 0f;
        }
        for (int i = 0; i < m; i++) System.Numerics.Tensors.TensorPrimitives.Multiply(u.AsSpan(i * rank, rank), inv, u.AsSpan(i * rank, rank));
        return new LowRankFactors(m, n, rank, u, s, xt);
    }

    private static double DotDouble(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += (double)x[i] * y[i];
        return s;
    }

    /// <summary>dst (l, l) float64 = (T + Tᵀ)/2.</summary>
    private static void Symmetrize(float[] t, double[] dst, int l)
    {
        for (int i = 0; i < l; i++)
            for (int j = 0; j < l; j++) dst[i * l + j] = 0.5 * ((double)t[i * l + j] + t[j * l + i]);
    }
}
