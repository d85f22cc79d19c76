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
        int n = d.Length;
        for (int l = 0; l < n; l++)
        {
            int iter = 0, m;
            do
            {
                for (m = l; m < n - 1; m++)
                {
                    double dd = Math.Abs(d[m]) + Math.Abs(d[m + 1]);
                    if (Math.Abs(e[m]) <= 2.3e-16 * dd) break;
                }
                if (m == l) break;
                if (iter++ == 200) throw new InvalidOperationException("Tridiagonal QL did not converge.");
                double g = (d[l + 1] - d[l]) / (2.0 * e[l]);
                double r = Hypot(g, 1.0);
                g = d[m] - d[l] + e[l] / (g + (g >= 0 ? Math.Abs(r) : -Math.Abs(r)));
                double s = 1.0, c = 1.0, pp = 0.0;
                int i;
                bool deflated = false;
                for (i = m - 1; i >= l; i--)
                {
                    double f = s * e[i], b = c * e[i];
                    e[i + 1] = r = Hypot(f, g);
                    if (r == 0.0)
                    {
                        d[i + 1] -= pp;
                        e[m] = 0.0;
                        deflated = true;
                        break;
                    }
                    s = f / r;
                    c = g / r;
                    g = d[i + 1] - pp;
                    r = (d[i] - g) * s + 2.0 * c * b;
                    pp = s * r;
                    d[i + 1] = g + pp;
                    g = c * r - b;
                }
                if (deflated) continue;
                d[l] -= pp;
                e[l] = g;
                e[m] = 0.0;
            } while (true);
        }
    }

    private static double Hypot(double x, double y)
    {
        double ax = Math.Abs(x), ay = Math.Abs(y);
        if (ax < ay) (ax, ay) = (ay, ax);
        if (ax == 0.0) return 0.0;
        double t = ay / ax;
        return ax * Math.Sqrt(1.0 + t * t);
    }
}
