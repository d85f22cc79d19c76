
namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Eigenvalues and eigenvectors of a dense symmetric matrix in float64 for the sizes the subspace merges meet (hundreds
/// to a few thousand): Householder reduction to tridiagonal form <c>T = Qᵀ A Q</c>
/// (<see cref="SymmetricTridiagonalization"/>), T solved by divide and conquer (<see cref="TridiagonalDivideConquer"/>:
/// most of its work is float64 matrix products), and the eigenvectors of A formed as <c>(Q z_j)ᵀ = z_jᵀ Qᵀ</c> by
/// applying the reflectors in blocks (<see cref="CompactWyBackTransform"/>; Q itself is never formed). Same contract as <see cref="TridiagonalQlEigen"/>, which does
/// the tridiagonal step by the QL iteration (O(n³) plane rotations) and stays as the reference the tests compare with.
/// Deterministic, and the same bits on every instruction set (<see cref="DoubleGemm"/>).
/// </summary>
internal static class DivideConquerEigen
{
    /// <summary>
    /// Decomposes the symmetric <paramref name="a"/> (n, n, row-major in its first n² elements; only the lower triangle
    /// is read; destroyed) into <paramref name="values"/> (n, descending; ties by index) and <paramref name="vectorRows"/>
    /// (n, n; row j = unit eigenvector of value j). Longer arrays (pooled ones) are fine. With <paramref name="maxThreads"/>
    /// ≥ 2 the tridiagonal reduction (its panels' products and updates, in fixed halves), the divide and conquer (its two
    /// top halves, then the products of the top merge) and the back-transformation (by rows) use two threads. The result
    /// is the same for any thread count.
    /// </summary>
    /// <exception cref="ArgumentException">A span is too short or A holds a non-finite value.</exception>
    internal static void Decompose(double[] a, int n, double[] values, double[] vectorRows, int maxThreads = 1)
    {
        TridiagonalQlEigen.RequireEigenArguments(a, n, values, vectorRows);
        if (n == 0) return;
        var d = new double[n];            // (n) diagonal of T, then its eigenvalues (increasing)
        var e = new double[n];            // (n) e[i] couples i and i+1
        var beta = new double[n];         // (n) β_k of reflector k
        var pool = BufferPool<double>.Shared;
        double[] reflectors = pool.Rent(n * n); // (n, n) row k holds v_k; then the sort's scratch
        try
        {
            SymmetricTridiagonalization.Reduce(a, n, d, e, reflectors, beta, maxThreads);
            TridiagonalDivideConquer.Solve(d, e, n, vectorRows, maxThreads);                // rows: Zᵀ of T
            CompactWyBackTransform.Apply(reflectors, beta, n, vectorRows, n, maxThreads);    // rows: z_jᵀ Qᵀ
            TridiagonalQlEigen.SortDescending(d, vectorRows, n, values, reflectors);
        }
        finally
        {
            pool.Return(reflectors);
        }
    }
}
