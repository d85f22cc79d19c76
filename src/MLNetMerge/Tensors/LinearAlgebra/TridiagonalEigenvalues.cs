namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Eigenvalues only of a large symmetric matrix, in float64: Householder reduction to tridiagonal form
/// (<c>A ← H A H</c>, <c>H = I − β v vᵀ</c>, applied as the rank-2 update <c>A ← A − v wᵀ − w vᵀ</c> with
/// <c>p = β A v</c>, <c>w = p − (β vᵀp / 2) v</c>), then the implicit QL iteration with Wilkinson-style shifts.
/// O(n³) with contiguous row operations; used where all n eigenvalues of an n×n Gram matrix are needed
/// (e.g. the exact singular values of a test or benchmark matrix), where cyclic Jacobi would be too slow.
/// </summary>
internal static class TridiagonalEigenvalues
{
    /// <summary>Eigenvalues (descending) of the symmetric <paramref name="a"/> (n, n; destroyed).</summary>
    internal static double[] Compute(double[] a, int n)
    {
        var d = new double[n]; // (n) diagonal
        var e = new double[n]; // (n) e[i] couples i and i+1; e[n−1] = 0
        var v = new double[n]; // (n) Householder vector (entries k+1..n−1)
        var w = new double[n]; // (n) p, then w
        for (int k = 0; k < n - 2; k++)
        {
            int len = n - k - 1;
            var x = v.AsSpan(k + 1, len);
            for (int i = 0; i < len; i++) x[i] = a[(k + 1 + i) * n + k];
            double norm = Math.Sqrt(DenseKernels.Dot(x, x));
            d[k] = a[k * n + k];
            if (norm == 0.0)
            {
                e[k] = 0.0;
                continue;
            }
            double alpha = x[0] >= 0 ? -norm : norm;
            e[k] = alpha;
            x[0] -= alpha;
            double beta = 2.0 / DenseKernels.Dot(x, x);
            var p = w.AsSpan(k + 1, len);
            for (int i = 0; i < len; i++) p[i] = beta * DenseKernels.DotShort(a.AsSpan((k + 1 + i) * n + k + 1, len), x);
            double kk = 0.5 * beta * DenseKernels.Dot(x, p);
            DenseKernels.Axpy(-kk, x, p); // w = p − K v
            for (int i = 0; i < len; i++)
                DenseKernels.SubtractTwoScaled(a.AsSpan((k + 1 + i) * n + k + 1, len), x[i], p, p[i], x);
        }
        if (n >= 2)
        {
            d[n - 2] = a[(n - 2) * n + n - 2];
            e[n - 2] = a[(n - 1) * n + n - 2];
        }
        if (n >= 1) d[n - 1] = a[(n - 1) * n + n - 1];
        if (n >= 1) e[n - 1] = 0.0;
        ImplicitQl(d, e);
        Array.Sort(d);
        Array.Reverse(d);
        return d;
    }

    /// <summary>Implicit QL on the tridiagonal (d, e): on return d holds the eigenvalues (unordered).</summary>
    private static void ImplicitQl(double[] d, double[] e)
    {
        var sink = new TridiagonalQl.NoVectors();
        TridiagonalQl.Run(d, e, d.Length, ref sink);
    }
}
