
namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Replaces the rows of a float32 matrix X (rows, cols), rows ≤ cols, by an orthonormal basis of their span, as the
/// Q of a QR factorisation of Xᵀ. Fast path: CholeskyQR2 — <c>G = X Xᵀ</c> (GEMM), <c>G = L Lᵀ</c> (float64),
/// <c>X ← L⁻¹ X</c> (GEMM), done twice so the second pass repairs the first pass's loss of orthogonality
/// (once is enough where only the span matters).
/// When a pivot shows X is ill-conditioned (<c>d_j ≤ 1e-4 · G[j,j]</c>, i.e. row j lies within about 0.01 rad of the
/// span of the rows before it) one shifted pass comes first (shifted CholeskyQR, Fukaya, Nakatsukasa, Yanagisawa and
/// Yamamoto 2020, arXiv:1809.11085): <c>X Xᵀ + s·I = L Lᵀ</c> with <c>s = 1e-5 · max_j G[j,j]</c>, <c>X ← L⁻¹ X</c>,
/// which keeps the span and leaves a far better conditioned block (the paper bounds its condition number through
/// s/‖X‖²); on every block the merge benchmark produced, the requested plain passes then succeed. Only when they fail
/// too (X numerically rank-deficient) does it fall back to Householder QR in float64, which handles rank deficiency. The choice depends only on the input, so the result is deterministic.
/// </summary>
internal static class RowOrthonormalizer
{
    /// <summary>How <see cref="Orthonormalize"/> got there.</summary>
    internal enum Path
    {
        /// <summary>The requested plain CholeskyQR passes.</summary>
        Cholesky,

        /// <summary>One shifted pass, then the requested plain passes.</summary>
        Shifted,

        /// <summary>Householder QR in float64.</summary>
        Householder,
    }

    /// <summary>Smallest pivot, relative to its diagonal entry, that the Cholesky path accepts.</summary>
    private const double RelativePivotFloor = 1e-4;

    /// <summary>The shifted pass's s relative to the largest diagonal entry of X Xᵀ (measured on the merge benchmark's
    /// matrices: large enough that the shifted factorisation never failed, small enough that the passes after it do not).</summary>
    private const double RelativeShift = 1e-5;

    /// <summary>
    /// Orthonormalises the rows of <paramref name="x"/> (rows, cols) in place. <paramref name="passes"/> = 1 keeps the
    /// span exactly but leaves orthogonality errors of order κ(X)²·1e-7 (enough between power iterations); 2 gives
    /// orthonormal rows to float32 rounding. With one pass the caller may ask for the first pass's Gram
    /// <c>G = X Xᵀ</c> (<paramref name="gram"/>, (rows, rows) float64) and <c>L⁻¹</c> (<paramref name="inverseFactor"/>,
    /// (rows, rows) float32), so that the new X equals <c>L⁻¹ X_old</c>.
    /// Returns the path taken: only the optional outputs of <see cref="Path.Cholesky"/> are written (a caller that asks
    /// for them gets Householder directly where the plain passes fail). <paramref name="maxThreads"/>
    /// bounds the threads of each GEMM (the result is the same for any value).
    /// </summary>
    internal static Path Orthonormalize(float[] x, int rows, int cols, int passes = 2, double[]? gram = null, float[]? inverseFactor = null, int maxThreads = int.MaxValue)
    {
        if (passes != 1 && (gram != null || inverseFactor != null))
            throw new ArgumentException("The Gram and the inverse factor are only defined for a single pass.");
        var pool = BufferPool<float>.Shared;
        float[] g = pool.Rent(rows * rows);            // (rows, rows) X Xᵀ, then L⁻¹
        float[] tmp = pool.Rent((long)rows * cols);    // (rows, cols) L⁻¹ X
        double[] gd = BufferPool<double>.Shared.Rent(rows * rows); // (rows, rows) float64 Gram / factor
        try
        {
            bool shifted = false;
            for (int pass = 0; pass < passes; pass++)
            {
                if (TryCholeskyPass(x, rows, cols, g, gd, tmp, gram, shifted: false, maxThreads)) continue;
                bool plainOnly = shifted || gram != null || inverseFactor != null;
                if (plainOnly || !TryCholeskyPass(x, rows, cols, g, gd, tmp, null, shifted: true, maxThreads))
                {
                    HouseholderFallback(x, rows, cols);
                    return Path.Householder;
                }
                Interlocked.Increment(ref ShiftedPasses);
                shifted = true;
                pass = -1; // the shifted pass conditions X; the requested plain passes follow
            }
            if (inverseFactor != null) Array.Copy(g, inverseFactor, rows * rows);
            return shifted ? Path.Shifted : Path.Cholesky;
        }
        finally
        {
            pool.Return(g);
            pool.Return(tmp);
            BufferPool<double>.Shared.Return(gd);
        }
    }

    /// <summary>
    /// One CholeskyQR pass: X ← L⁻¹ X with L Lᵀ = X Xᵀ (<paramref name="shifted"/>: + 1e-5 · max diagonal · I). False (X
    /// untouched) when a pivot is too small.
    /// </summary>
    private static bool TryCholeskyPass(float[] x, int rows, int cols, float[] g, double[] gd, float[] tmp, double[]? gram, bool shifted, int maxThreads)
    {
        TriangularGram.Compute(x.AsSpan(0, rows * cols), rows, cols, ofRows: true, g.AsSpan(0, rows * rows), TriangleBlock, maxThreads);
        if (gram != null)
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < rows; j++) gram[i * rows + j] = 0.5 * ((double)g[i * rows + j] + g[j * rows + i]);
        double shift = 0;
        if (shifted)
        {
            for (int j = 0; j < rows; j++) shift = Math.Max(shift, g[j * rows + j]);
            shift *= RelativeShift;
        }
        if (!CholeskyFactor(g, rows, gd, shift)) return false;
        InvertLower(gd, rows, g);
        for (int i0 = 0; i0 < rows; i0 += TriangleBlock)
        {
            // Rows i0.. of L⁻¹ X: L⁻¹ is lower triangular, so they need only its columns (and X's rows) up to the block's end.
            int rb = Math.Min(TriangleBlock, rows - i0);
            Gemm.Multiply(false, false, rb, cols, i0 + rb, 1f, g.AsSpan(i0 * rows), rows, x, cols, 0f, tmp.AsSpan(i0 * cols), cols, maxThreads);
        }
        Array.Copy(tmp, x, (long)rows * cols);
        return true;
    }

    /// <summary>
    /// Rows per GEMM call where a triangle suffices (X Xᵀ by <see cref="TriangularGram"/>, the product by L⁻¹): a multiple
    /// of both tiles' row counts (6 and 12), small enough that the skipped upper triangle is most of what a full product would add.
    /// </summary>
    private const int TriangleBlock = 48;

    /// <summary>
    /// Cholesky factor of the symmetrised Gram <paramref name="g"/> (rows, rows) plus <paramref name="shift"/>·I in float64,
    /// lower triangle into <paramref name="gd"/>: <c>L[j,j] = √(G[j,j] + s − L[j,:j]·L[j,:j])</c>, <c>L[i,j] = (½(G[i,j] + G[j,i]) − L[i,:j]·L[j,:j]) / L[j,j]</c>.
    /// Rows i go four at a time (<see cref="DenseKernels.DotShort4"/>: the same sums as one at a time). False when a
    /// pivot falls below <see cref="RelativePivotFloor"/> of its (shifted) diagonal entry or is not finite.
    /// </summary>
    private static bool CholeskyFactor(float[] g, int rows, double[] gd, double shift)
    {
        Span<double> dots = stackalloc double[4];
        for (int j = 0; j < rows; j++)
        {
            var lj = new ReadOnlySpan<double>(gd, j * rows, j); // L[j, 0..j)
            double diagonal = g[j * rows + j] + shift;
            double d = diagonal - DenseKernels.DotShort(lj, lj);
            if (!(d > RelativePivotFloor * diagonal) || !double.IsFinite(d)) return false;
            double ljj = Math.Sqrt(d);
            gd[j * rows + j] = ljj;
            int i = j + 1;
            for (; i + 3 < rows; i += 4)
            {
                DenseKernels.DotShort4(new ReadOnlySpan<double>(gd, i * rows, j), lj, new ReadOnlySpan<double>(gd, (i + 1) * rows, j), lj,
                    new ReadOnlySpan<double>(gd, (i + 2) * rows, j), lj, new ReadOnlySpan<double>(gd, (i + 3) * rows, j), lj, dots);
                for (int q = 0; q < 4; q++)
                    gd[(i + q) * rows + j] = (0.5 * ((double)g[(i + q) * rows + j] + g[j * rows + i + q]) - dots[q]) / ljj;
            }
            for (; i < rows; i++)
            {
                double s = 0.5 * ((double)g[i * rows + j] + g[j * rows + i]) - DenseKernels.DotShort(new ReadOnlySpan<double>(gd, i * rows, j), lj);
                gd[i * rows + j] = s / ljj;
            }
        }
        return true;
    }

    /// <summary>
    /// <paramref name="inverse"/> (rows, rows, float32) ← L⁻¹ of the lower-triangular <paramref name="l"/> (float64), by
    /// forward substitution on the columns of I: <c>X[i,c] = (δ_ic − L[i, c..i)·X[c..i, c]) / L[i,i]</c>. Columns go four
    /// at a time (their dot products interleaved by <see cref="DenseKernels.DotShort4"/>: the same sums as one at a time).
    /// </summary>
    private static void InvertLower(double[] l, int rows, float[] inverse)
    {
        double[] cols = BufferPool<double>.Shared.Rent(4 * rows); // (4, rows) four columns of L⁻¹
        try { InvertLower(l, rows, inverse, cols); }
        finally { BufferPool<double>.Shared.Return(cols); }
    }

    private static void InvertLower(double[] l, int rows, float[] inverse, double[] cols)
    {
        Span<double> dots = stackalloc double[4];
        int c = 0;
        for (; c + 3 < rows; c += 4)
        {
            cols.AsSpan(0, 4 * rows).Clear();
            for (int i = c; i < rows; i++)
            {
                var li = new ReadOnlySpan<double>(l, i * rows, i); // L[i, 0..i)
                if (i >= c + 3)
                {
                    DenseKernels.DotShort4(li[c..], new ReadOnlySpan<double>(cols, c, i - c), li[(c + 1)..], new ReadOnlySpan<double>(cols, rows + c + 1, i - c - 1),
                        li[(c + 2)..], new ReadOnlySpan<double>(cols, 2 * rows + c + 2, i - c - 2), li[(c + 3)..], new ReadOnlySpan<double>(cols, 3 * rows + c + 3, i - c - 3), dots);
                }
                else
                {
                    for (int q = 0; q <= i - c; q++)
                        dots[q] = DenseKernels.DotShort(li[(c + q)..], new ReadOnlySpan<double>(cols, q * rows + c + q, i - c - q));
                }
                for (int q = 0; q < 4 && c + q <= i; q++)
                    cols[q * rows + i] = ((i == c + q ? 1.0 : 0.0) - dots[q]) / l[i * rows + i];
            }
            for (int q = 0; q < 4; q++)
                for (int i = 0; i < rows; i++) inverse[i * rows + c + q] = (float)cols[q * rows + i];
        }
        for (; c < rows; c++)
        {
            var col = cols.AsSpan(0, rows);
            col.Clear();
            for (int i = c; i < rows; i++)
            {
                double s = (i == c ? 1.0 : 0.0) - DenseKernels.DotShort(new ReadOnlySpan<double>(l, i * rows + c, i - c), col.Slice(c, i - c));
                col[i] = s / l[i * rows + i];
            }
            for (int i = 0; i < rows; i++) inverse[i * rows + c] = (float)col[i];
        }
    }

    /// <summary>Householder fallbacks taken in this process (a diagnostic that benchmarks print; never read by the algorithm).</summary>
    internal static long Fallbacks;

    /// <summary>Shifted passes taken in this process (a diagnostic like <see cref="Fallbacks"/>).</summary>
    internal static long ShiftedPasses;

    private static void HouseholderFallback(float[] x, int rows, int cols)
    {
        Interlocked.Increment(ref Fallbacks);
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
