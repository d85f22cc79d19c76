
namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Replaces the rows of a float32 matrix X (rows, cols), rows ≤ cols, by an orthonormal basis of their span, as the
/// Q of a QR factorisation of Xᵀ. Fast path: CholeskyQR2 — <c>G = X Xᵀ</c> (GEMM), <c>G = L Lᵀ</c> (float64),
/// <c>X ← L⁻¹ X</c> (GEMM), done twice so the second pass repairs the first pass's loss of orthogonality
/// (once is enough where only the span matters).
/// When a pivot shows X is ill-conditioned (<c>d_j ≤ 1e-4 · G[j,j]</c>, i.e. row j lies within about 0.01 rad of the
/// span of the rows before it) it falls back to Householder QR in float64, which handles rank deficiency.
/// The choice depends only on the input, so the result is deterministic.
/// </summary>
internal static class RowOrthonormalizer
{
    /// <summary>Smallest pivot, relative to its diagonal entry, that the Cholesky path accepts.</summary>
    private const double RelativePivotFloor = 1e-4;

    /// <summary>
    /// Orthonormalises the rows of <paramref name="x"/> (rows, cols) in place. <paramref name="passes"/> = 1 keeps the
    /// span exactly but leaves orthogonality errors of order κ(X)²·1e-7 (enough between power iterations); 2 gives
    /// orthonormal rows to float32 rounding. With one pass the caller may ask for the first pass's Gram
    /// <c>G = X Xᵀ</c> (<paramref name="gram"/>, (rows, rows) float64) and <c>L⁻¹</c> (<paramref name="inverseFactor"/>,
    /// (rows, rows) float32), so that the new X equals <c>L⁻¹ X_old</c>.
    /// Returns false when it fell back to Householder (the optional outputs are then not written). <paramref name="maxThreads"/>
    /// bounds the threads of each GEMM (the result is the same for any value).
    /// </summary>
    internal static bool Orthonormalize(float[] x, int rows, int cols, int passes = 2, double[]? gram = null, float[]? inverseFactor = null, int maxThreads = int.MaxValue)
    {
        if (passes != 1 && (gram != null || inverseFactor != null))
            throw new ArgumentException("The Gram and the inverse factor are only defined for a single pass.");
        var pool = BufferPool<float>.Shared;
        float[] g = pool.Rent(rows * rows);            // (rows, rows) X Xᵀ, then L⁻¹
        float[] tmp = pool.Rent((long)rows * cols);    // (rows, cols) L⁻¹ X
        double[] gd = BufferPool<double>.Shared.Rent(rows * rows); // (rows, rows) float64 Gram / factor
        try
        {
            for (int pass = 0; pass < passes; pass++)
            {
                if (!TryCholeskyPass(x, rows, cols, g, gd, tmp, gram, maxThreads))
                {
                    HouseholderFallback(x, rows, cols);
                    return false;
                }
            }
            if (inverseFactor != null) Array.Copy(g, inverseFactor, rows * rows);
            return true;
        }
        finally
        {
            pool.Return(g);
            pool.Return(tmp);
            BufferPool<double>.Shared.Return(gd);
        }
    }

    /// <summary>One CholeskyQR pass: X ← L⁻¹ X with L Lᵀ = X Xᵀ. False (X untouched) when a pivot is too small.</summary>
    private static bool TryCholeskyPass(float[] x, int rows, int cols, float[] g, double[] gd, float[] tmp, double[]? gram, int maxThreads)
    {
        Gemm.Multiply(false, true, rows, rows, cols, 1f, x, cols, x, cols, 0f, g, rows, maxThreads);
        if (gram != null)
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < rows; j++) gram[i * rows + j] = 0.5 * ((double)g[i * rows + j] + g[j * rows + i]);
        // Cholesky of the symmetrised Gram in float64, lower triangle: gd = L.
        for (int j = 0; j < rows; j++)
        {
            var lj = new ReadOnlySpan<double>(gd, j * rows, j); // L[j, 0..j)
            double d = g[j * rows + j] - DenseKernels.DotShort(lj, lj);
            if (!(d > RelativePivotFloor * g[j * rows + j]) || !double.IsFinite(d)) return false;
            double ljj = Math.Sqrt(d);
            gd[j * rows + j] = ljj;
            for (int i = j + 1; i < rows; i++)
            {
                double s = 0.5 * ((double)g[i * rows + j] + g[j * rows + i]) - DenseKernels.DotShort(new ReadOnlySpan<double>(gd, i * rows, j), lj);
                gd[i * rows + j] = s / ljj;
            }
        }
        // g ← L⁻¹ (lower triangular) by forward substitution on the columns of I, in float64.
        var col = new double[rows]; // (rows) one column of L⁻¹
        for (int c = 0; c < rows; c++)
        {
            for (int i = 0; i < rows; i++)
            {
                if (i < c) { col[i] = 0.0; continue; }
                double s = (i == c ? 1.0 : 0.0) - DenseKernels.DotShort(new ReadOnlySpan<double>(gd, i * rows + c, i - c), new ReadOnlySpan<double>(col, c, i - c));
                col[i] = s / gd[i * rows + i];
            }
            for (int i = 0; i < rows; i++) g[i * rows + c] = (float)col[i];
        }
        Gemm.Multiply(false, false, rows, cols, rows, 1f, g, rows, x, cols, 0f, tmp, cols, maxThreads);
        Array.Copy(tmp, x, (long)rows * cols);
        return true;
    }

    private static void HouseholderFallback(float[] x, int rows, int cols)
    {
        double[] w = BufferPool<double>.Shared.Rent(rows * cols); // (rows, cols)
        try
        {
            var ws = w.AsSpan(0, rows * cols);
            for (int i = 0; i < rows * cols; i++) ws[i] = x[i];
            HouseholderQr.OrthonormalizeRows(ws, rows, cols);
            for (int i = 0; i < rows * cols; i++) x[i] = (float)ws[i];
        }
        finally
        {
            BufferPool<double>.Shared.Return(w);
        }
    }
}
