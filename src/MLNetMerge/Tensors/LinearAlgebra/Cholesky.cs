namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Cholesky factorisation of a symmetric positive-definite matrix, <c>A = L Lᵀ</c> with L lower triangular, and
/// solves of <c>A X = B</c> for several right-hand sides by forward (<c>L Y = B</c>) and back (<c>Lᵀ X = Y</c>)
/// substitution, in float64. Only A's lower triangle is read.
/// <c>L[j,j] = √(A[j,j] − Σ_{k&lt;j} L[j,k]²)</c>, <c>L[i,j] = (A[i,j] − Σ_{k&lt;j} L[i,k] L[j,k]) / L[j,j]</c>.
/// </summary>
internal static class Cholesky
{
    /// <summary>Factors <paramref name="a"/> (n, n) into the lower-triangular <paramref name="l"/> (n, n; zeros above the diagonal).</summary>
    /// <exception cref="ArgumentException">A is not positive definite (a pivot is ≤ 0 or not finite), or a span is too short.</exception>
    public static void Factor(ReadOnlySpan<float> a, int n, Span<float> l)
    {
        DenseKernels.Require("Cholesky input A", a.Length, n, n);
        DenseKernels.Require("Cholesky output L", l.Length, n, n);
        var ld = FactorDouble(a, n);
        for (int i = 0; i < n * n; i++) l[i] = (float)ld[i];
    }

    /// <summary>Solves <c>A X = B</c> for B (n, nrhs) into <paramref name="x"/> (n, nrhs); A (n, n) symmetric positive definite.</summary>
    /// <exception cref="ArgumentException">A is not positive definite, or a span is too short.</exception>
    public static void Solve(ReadOnlySpan<float> a, int n, ReadOnlySpan<float> b, int nrhs, Span<float> x)
    {
        DenseKernels.Require("Cholesky input A", a.Length, n, n);
        DenseKernels.Require("Cholesky right-hand sides B", b.Length, n, nrhs);
        DenseKernels.Require("Cholesky solution X", x.Length, n, nrhs);
        var l = FactorDouble(a, n);           // (n, n) lower
        var y = new double[n * nrhs];         // (n, nrhs)
        for (int i = 0; i < n * nrhs; i++) y[i] = b[i];
        // Forward: Y[i,:] = (B[i,:] − Σ_{k<i} L[i,k] Y[k,:]) / L[i,i]
        for (int i = 0; i < n; i++)
        {
            var yi = y.AsSpan(i * nrhs, nrhs);
            for (int k = 0; k < i; k++) DenseKernels.Axpy(-l[i * n + k], y.AsSpan(k * nrhs, nrhs), yi);
            double inv = 1.0 / l[i * n + i];
            foreach (ref double e in yi) e *= inv;
        }
        // Back: X[i,:] = (Y[i,:] − Σ_{k>i} L[k,i] X[k,:]) / L[i,i], overwriting Y.
        for (int i = n - 1; i >= 0; i--)
        {
            var yi = y.AsSpan(i * nrhs, nrhs);
            for (int k = i + 1; k < n; k++) DenseKernels.Axpy(-l[k * n + i], y.AsSpan(k * nrhs, nrhs), yi);
            double inv = 1.0 / l[i * n + i];
            foreach (ref double e in yi) e *= inv;
        }
        for (int i = 0; i < n * nrhs; i++) x[i] = (float)y[i];
    }

    /// <summary>The factor L (n, n) in float64.</summary>
    internal static double[] FactorDouble(ReadOnlySpan<float> a, int n)
    {
        var l = new double[n * n]; // (n, n) lower triangular, row-major
        for (int j = 0; j < n; j++)
        {
            var lj = l.AsSpan(j * n, j);
            double d = a[j * n + j] - DenseKernels.Dot(lj, lj);
            if (!(d > 0) || !double.IsFinite(d))
                throw new ArgumentException($"Cholesky: the {n}×{n} matrix is not positive definite (pivot {j} is {d:G6} after elimination; expected > 0).");
            double ljj = Math.Sqrt(d);
            l[j * n + j] = ljj;
            for (int i = j + 1; i < n; i++)
                l[i * n + j] = (a[i * n + j] - DenseKernels.Dot(l.AsSpan(i * n, j), lj)) / ljj;
        }
        return l;
    }
}
