using System.Buffers;

namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Randomized truncated SVD (Halko, Martinsson and Tropp 2011, range finder with power iterations):
/// with l = min(r + oversampling, min(m, n)) and a seeded Gaussian Ω (n, l),
/// <code>
/// Q = orth(A Ω)                                    (m, l)
/// repeat q times: Q = orth(A · orth(Aᵀ Q))         re-orthonormalised between products
/// B = Qᵀ A                                         (l, n)
/// B Bᵀ = W diag(λ) Wᵀ  (Jacobi, float64)           σ_j = √λ_j
/// U_r = Q W[:, :r],  V_rᵀ[j, :] = W[:, j]ᵀ B / σ_j
/// </code>
/// Products with A run on <see cref="Gemm"/>; orthonormalisation (Householder QR) and the small eigenproblem in float64.
/// The result is a deterministic function of the inputs and the seed (same bits on every run on one machine).
/// The defaults keep <c>(‖A − Â_r‖F − ‖A − A_r‖F) / ‖A − A_r‖F</c> far below 1e-3 on low-rank-plus-noise matrices
/// (see LinearAlgebraTests); when l reaches min(m, n) the result is the exact truncation up to rounding.
/// </summary>
public static class RandomizedSvd
{
    /// <summary>Default extra sketch columns beyond the rank.</summary>
    public const int DefaultOversampling = 96;

    /// <summary>Default number of power iterations.</summary>
    public const int DefaultPowerIterations = 10;

    /// <summary>Computes rank-<paramref name="rank"/> factors of <paramref name="a"/> (m, n), row-major float32.</summary>
    /// <param name="a">The matrix, (m, n).</param>
    /// <param name="m">Rows.</param>
    /// <param name="n">Columns.</param>
    /// <param name="rank">Triplets to keep, 0 ≤ rank ≤ min(m, n).</param>
    /// <param name="oversampling">Extra sketch columns (≥ 0).</param>
    /// <param name="powerIterations">Power iterations q (≥ 0).</param>
    /// <param name="seed">Seed of the Gaussian test matrix.</param>
    /// <exception cref="ArgumentException">Bad dimensions, rank or counts, a short span, or a non-finite input.</exception>
    public static LowRankFactors Compute(ReadOnlySpan<float> a, int m, int n, int rank,
        int oversampling = DefaultOversampling, int powerIterations = DefaultPowerIterations, ulong seed = 0)
    {
        DenseKernels.Require("Randomized SVD input A", a.Length, m, n);
        int kmax = Math.Min(m, n);
        if (rank < 0 || rank > kmax) throw new ArgumentException($"Randomized SVD: rank {rank} is outside [0, {kmax}] for a ({m}, {n}) matrix.");
        if (oversampling < 0 || powerIterations < 0) throw new ArgumentException($"Randomized SVD: oversampling ({oversampling}) and power iterations ({powerIterations}) must be ≥ 0.");
        if (m * n > 0 && !float.IsFinite(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(a.Slice(0, m * n))))
            throw new ArgumentException("Randomized SVD: A holds a non-finite value.");
        if (rank == 0) return new LowRankFactors(m, n, 0, [], [], []);
        int l = Math.Min(rank + oversampling, kmax);

        var pool = FloatBufferPool.Shared;
        float[] qt = pool.Rent((long)l * m);  // (l, m) Qᵀ: orthonormal rows spanning the sketch of A's range
        float[] zt = pool.Rent((long)l * n);  // (l, n) Ωᵀ, then orth(Aᵀ Q)ᵀ, then B = Qᵀ A
        double[] work = ArrayPool<double>.Shared.Rent(l * n); // (l, n) float64 copy of B
        try
        {
            var rng = new GaussianRandom(seed);
            rng.FillGaussian(zt.AsSpan(0, l * n));
            Gemm.Multiply(false, true, l, m, n, 1f, zt, n, a, n, 0f, qt, m);        // Yᵀ = Ωᵀ Aᵀ  (l, m)
            RowOrthonormalizer.Orthonormalize(qt, l, m, passes: powerIterations == 0 ? 2 : 1);
            for (int it = 0; it < powerIterations; it++)
            {
                Gemm.Multiply(false, false, l, n, m, 1f, qt, m, a, n, 0f, zt, n);   // Zᵀ = Qᵀ A    (l, n)
                RowOrthonormalizer.Orthonormalize(zt, l, n, passes: 1);
                Gemm.Multiply(false, true, l, m, n, 1f, zt, n, a, n, 0f, qt, m);    // Yᵀ = Zᵀ Aᵀ   (l, m)
                RowOrthonormalizer.Orthonormalize(qt, l, m, passes: it == powerIterations - 1 ? 2 : 1);
            }
            Gemm.Multiply(false, false, l, n, m, 1f, qt, m, a, n, 0f, zt, n);       // B = Qᵀ A     (l, n)
            return FactorSketch(qt, zt, m, n, l, rank, work);
        }
        finally
        {
            pool.Return(qt);
            pool.Return(zt);
            ArrayPool<double>.Shared.Return(work);
        }
    }

    /// <summary>Adds <c>alpha · U_r diag(S_r) V_rᵀ</c> of <paramref name="factors"/> into <paramref name="destination"/> (Rows, Cols).</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public static void AddLowRank(LowRankFactors factors, float alpha, Span<float> destination) => factors.AddTo(destination, alpha);

    /// <summary>
    /// From Qᵀ (l, m) and B = Qᵀ A (l, n): the exact SVD of B lifted back by Q. The left singular vectors W and σ of B
    /// come from <c>G = B Bᵀ</c> (float64): if <c>G = L Lᵀ</c> (Cholesky) then <c>B = L Q_B</c> with orthonormal rows
    /// Q_B, so one-sided Jacobi on L gives them to full accuracy in O(l³); a rank-deficient G falls back to the
    /// Jacobi eigensolver (<c>σ_j = √λ_j</c>).
    /// </summary>
    private static LowRankFactors FactorSketch(float[] qt, float[] b, int m, int n, int l, int rank, double[] work)
    {
        var bd = work.AsSpan(0, l * n);    // (l, n) B in float64
        for (int i = 0; i < l * n; i++) bd[i] = b[i];
        var gram = new double[l * l];      // (l, l) B Bᵀ
        GramRows(bd, l, n, gram);
        var sigma = new double[l];         // (l) descending singular values of B
        var wRows = new double[l * l];     // (l, l) row j = left singular vector j of B
        var factor = (double[])gram.Clone();
        if (CholeskyInPlace(factor, l))
        {
            // Rows of L are the columns of Lᵀ = X Σ Yᵀ, so L = Y Σ Xᵀ: B's left vectors are Y ("right" here).
            var left = new double[l * l];  // (l, l) unused: right vectors of L
            JacobiSvd.DecomposeRows(factor, l, l, left, sigma, wRows);
        }
        else
        {
            SymmetricEigen.DecomposeInPlace(gram, l, sigma, wRows);
            for (int j = 0; j < l; j++) sigma[j] = Math.Sqrt(Math.Max(sigma[j], 0.0));
        }

        var s = new float[rank];           // (r)
        var w = new float[rank * l];       // (r, l) first r left vectors as rows
        for (int j = 0; j < rank; j++)
        {
            s[j] = (float)sigma[j];
            for (int t = 0; t < l; t++) w[j * l + t] = (float)wRows[j * l + t];
        }
        var u = new float[m * rank];       // (m, r) U = Q Wᵀ = (Qᵀ)ᵀ (W rows)ᵀ
        Gemm.Multiply(true, true, m, rank, l, 1f, qt, m, w, l, 0f, u, rank);
        var vt = new float[rank * n];      // (r, n) Vᵀ[j, :] = W[j, :] B / σ_j
        Gemm.Multiply(false, false, rank, n, l, 1f, w, l, b, n, 0f, vt, n);
        for (int j = 0; j < rank; j++)
        {
            var row = vt.AsSpan(j * n, n);
            if (s[j] > 0f) System.Numerics.Tensors.TensorPrimitives.Multiply(row, 1f / s[j], row);
            else row.Clear();
        }
        return new LowRankFactors(m, n, rank, u, s, vt);
    }

    /// <summary>G (l, l) = X Xᵀ for X (l, n) in float64, four rows against four rows per pass over n.</summary>
    private static void GramRows(ReadOnlySpan<double> x, int l, int n, double[] g)
    {
        Span<double> acc = stackalloc double[16]; // (4, 4) one block of G
        for (int i0 = 0; i0 < l; i0 += 4)
        {
            int ni = Math.Min(4, l - i0);
            for (int j0 = 0; j0 <= i0; j0 += 4)
            {
                int nj = Math.Min(4, l - j0);
                for (int a = 0; a < ni; a++)
                    for (int c = 0; c < nj; c++)
                        acc[a * 4 + c] = a + i0 >= c + j0 ? DenseKernels.Dot(x.Slice((i0 + a) * n, n), x.Slice((j0 + c) * n, n)) : 0.0;
                for (int a = 0; a < ni; a++)
                    for (int c = 0; c < nj; c++)
                        if (a + i0 >= c + j0) g[(i0 + a) * l + j0 + c] = g[(j0 + c) * l + i0 + a] = acc[a * 4 + c];
            }
        }
    }

    /// <summary>In-place lower Cholesky factor of the (l, l) matrix (upper part zeroed); false if a pivot is not positive.</summary>
    private static bool CholeskyInPlace(double[] a, int l)
    {
        for (int j = 0; j < l; j++)
        {
            double d = a[j * l + j] - DenseKernels.Dot(a.AsSpan(j * l, j), a.AsSpan(j * l, j));
            if (!(d > 0) || !double.IsFinite(d)) return false;
            double ljj = Math.Sqrt(d);
            a[j * l + j] = ljj;
            for (int i = j + 1; i < l; i++)
                a[i * l + j] = (a[i * l + j] - DenseKernels.Dot(a.AsSpan(i * l, j), a.AsSpan(j * l, j))) / ljj;
            for (int c = j + 1; c < l; c++) a[j * l + c] = 0.0;
        }
        return true;
    }
}
