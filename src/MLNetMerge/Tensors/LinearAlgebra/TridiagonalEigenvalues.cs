namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Eigenvalues only of a symmetric matrix, in float64: Householder reduction to tridiagonal form
/// (<see cref="SymmetricTridiagonalization"/>, lower triangle only), then the implicit QL iteration with Wilkinson-style
/// shifts (<see cref="TridiagonalQl"/>, no vectors). O(n³) for the reduction, O(n²) for the iteration; used for the Ritz
/// values of CART's subspace iteration (the interval of its Chebyshev filter) and where all n eigenvalues of an n×n
/// Gram matrix are needed (e.g. the exact singular values of a test or benchmark matrix).
/// </summary>
internal static class TridiagonalEigenvalues
{
    /// <summary>Eigenvalues (descending) of the symmetric <paramref name="a"/> (n, n; only the lower triangle is read; destroyed).</summary>
    internal static double[] Compute(double[] a, int n)
    {
        var (d, e) = Tridiagonal(a, n);
        var sink = new TridiagonalQl.NoVectors();
        TridiagonalQl.Run(d, e, n, ref sink);
        Array.Sort(d);
        Array.Reverse(d);
        return d;
    }

    /// <summary>
    /// The largest and the smallest eigenvalue of the symmetric <paramref name="a"/> (n ≥ 1, n; only the lower triangle is
    /// read; destroyed): the same reduction, then bisection on Sturm counts of T for the two ends of the spectrum instead of
    /// the QL iteration for all n (what the truncated SVD's Chebyshev filter needs: its interval [b, ρ]). The Sturm count
    /// of x is the number of negative pivots of <c>T − x I</c> (<c>q_0 = d_0 − x</c>, <c>q_i = d_i − x − e_{i−1}²/q_{i−1}</c>,
    /// a pivot of magnitude below a tiny floor taken as minus that floor), which equals the number of eigenvalues below x;
    /// bisection from the Gershgorin interval stops when the bracket is within 2 ulps of its ends (about 60 halvings),
    /// each O(n), against the QL iteration's O(n²) for all values. Both ends are within a few ulps of the QL values.
    /// </summary>
    internal static (double Largest, double Smallest) Extremes(double[] a, int n)
    {
        if (n < 1) throw new ArgumentException("Eigenvalue extremes of an empty matrix.");
        var (d, e) = Tridiagonal(a, n);
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity, e2max = 0;
        var e2 = new double[n];   // (n) e_i², what every Sturm count reads
        for (int i = 0; i < n; i++)
        {
            double r = (i > 0 ? Math.Abs(e[i - 1]) : 0) + (i < n - 1 ? Math.Abs(e[i]) : 0);
            lo = Math.Min(lo, d[i] - r);
            hi = Math.Max(hi, d[i] + r);
            e2[i] = e[i] * e[i];
            if (i < n - 1) e2max = Math.Max(e2max, e2[i]);
        }
        double floor = SmallestNormal * Math.Max(1.0, e2max); // pivots this small count as negative (LAPACK's pivmin)
        double spread = Math.Max(Math.Abs(lo), Math.Abs(hi));
        lo -= 4 * double.Epsilon + 2.2e-16 * spread;
        hi += 4 * double.Epsilon + 2.2e-16 * spread;
        return (Bisect(d, e2, n, lo, hi, n, floor), Bisect(d, e2, n, lo, hi, 1, floor));
    }

    /// <summary>The smallest positive normal float64.</summary>
    private const double SmallestNormal = 2.2250738585072014e-308;

    /// <summary>The rank-th smallest eigenvalue (1-based) of T in [lo, hi] (count(lo) &lt; rank ≤ count(hi)) by bisection.</summary>
    private static double Bisect(double[] d, double[] e2, int n, double lo, double hi, int rank, double floor)
    {
        for (int step = 0; step < 200; step++)
        {
            double mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi || hi - lo <= 4.4e-16 * Math.Max(Math.Abs(lo), Math.Abs(hi))) break;
            if (Below(d, e2, n, mid, floor) >= rank) hi = mid; else lo = mid;
        }
        return 0.5 * (lo + hi);
    }

    /// <summary>The Sturm count: eigenvalues of T below x (<paramref name="e2"/>: the squared off-diagonal).</summary>
    private static int Below(double[] d, double[] e2, int n, double x, double floor)
    {
        int count = 0;
        double q = d[0] - x;
        for (int i = 0; ; i++)
        {
            if (Math.Abs(q) < floor) q = -floor;
            if (q < 0) count++;
            if (i + 1 == n) return count;
            q = d[i + 1] - x - e2[i] / q;
        }
    }

    /// <summary>T's diagonal d (n) and off-diagonal e (n, e[n−1] = 0) from the Householder reduction of <paramref name="a"/>.</summary>
    private static (double[] D, double[] E) Tridiagonal(double[] a, int n)
    {
        var d = new double[n];    // (n) diagonal of T
        var e = new double[n];    // (n) e[i] couples i and i+1; e[n−1] = 0
        var beta = new double[n]; // (n) β_k of reflector k (not used after the reduction)
        double[] reflectors = BufferPool<double>.Shared.Rent(n * n); // (n, n) row k = v_k
        try { SymmetricTridiagonalization.Reduce(a, n, d, e, reflectors, beta); }
        finally { BufferPool<double>.Shared.Return(reflectors); }
        return (d, e);
    }
}
