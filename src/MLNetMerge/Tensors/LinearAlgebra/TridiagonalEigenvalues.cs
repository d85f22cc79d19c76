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
        var d = new double[n];    // (n) diagonal of T, then the eigenvalues
        var e = new double[n];    // (n) e[i] couples i and i+1; e[n−1] = 0
        var beta = new double[n]; // (n) β_k of reflector k (not used after the reduction)
        double[] reflectors = BufferPool<double>.Shared.Rent(n * n); // (n, n) row k = v_k
        try { SymmetricTridiagonalization.Reduce(a, n, d, e, reflectors, beta); }
        finally { BufferPool<double>.Shared.Return(reflectors); }
        var sink = new TridiagonalQl.NoVectors();
        TridiagonalQl.Run(d, e, n, ref sink);
        Array.Sort(d);
        Array.Reverse(d);
        return d;
    }
}
