namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Eigenvalues and eigenvectors of a symmetric matrix in float64, in O(n³) row operations: Householder reduction to
/// tridiagonal form <c>T = Qᵀ A Q</c> with <c>Q = H_0 H_1 ⋯ H_{n−3}</c>, <c>H_k = I − β_k v_k v_kᵀ</c> (v_k zero in
/// entries 0..k, chosen so that H_k zeroes column k below its sub-diagonal; the update is the rank-2
/// <c>A ← A − v wᵀ − w vᵀ</c> with <c>p = β A v</c>, <c>w = p − (β vᵀp / 2) v</c>), Q accumulated from the last
/// reflector back to the first, then the implicit QL iteration with Wilkinson-style shifts on T, each plane rotation
/// (i, i+1) applied to rows i and i+1 of Qᵀ, so the rows end as the eigenvectors of A.
/// Every operation runs along contiguous rows, so this is several times faster than cyclic Jacobi
/// (<see cref="SymmetricEigen"/>) from n ≈ 50 on; it is what the Rayleigh–Ritz step of <see cref="GramSubspaceSvd"/> uses.
/// The result is a deterministic function of the input.
/// </summary>
internal static class HouseholderQlEigen
{
    /// <summary>
    /// Decomposes the symmetric <paramref name="a"/> (n, n; destroyed) into <paramref name="values"/> (n, descending;
    /// ties in index order) and <paramref name="vectorRows"/> (n, n) whose row j is the unit eigenvector of value j.
    /// </summary>
    /// <exception cref="InvalidOperationException">The QL iteration did not converge (non-finite input).</exception>
    internal static void DecomposeInPlace(double[] a, int n, double[] values, double[] vectorRows)
    {
        var d = new double[n];        // (n) diagonal of T
        var e = new double[n];        // (n) e[i] couples i and i+1; e[n−1] = 0
        var v = new double[n * n];    // (n, n) row k = v_k (entries k+1..n−1)
        var beta = new double[n];     // (n) β_k (0: no reflection)
        var w = new double[n];        // (n) p, then w
        for (int k = 0; k < n - 2; k++)
        {
            int len = n - k - 1;
            var x = v.AsSpan(k * n + k + 1, len);
            for (int i = 0; i < len; i++) x[i] = a[(k + 1 + i) * n + k];
            double norm = Math.Sqrt(DenseKernels.DotShort(x, x));
            d[k] = a[k * n + k];
            if (norm == 0.0)
            {
                e[k] = 0.0;
                x.Clear();
                continue;
            }
            double alpha = x[0] >= 0 ? -norm : norm;
            e[k] = alpha;
            x[0] -= alpha;
            double b = 2.0 / DenseKernels.DotShort(x, x);
            beta[k] = b;
            var p = w.AsSpan(k + 1, len);
            for (int i = 0; i < len; i++) p[i] = b * DenseKernels.DotShort(a.AsSpan((k + 1 + i) * n + k + 1, len), x);
            double kk = 0.5 * b * DenseKernels.DotShort(x, p);
            for (int i = 0; i < len; i++) p[i] -= kk * x[i]; // w = p − K v
            for (int i = 0; i < len; i++)
                DenseKernels.SubtractTwoScaled(a.AsSpan((k + 1 + i) * n + k + 1, len), x[i], p, p[i], x);
        }
        if (n >= 2)
        {
            d[n - 2] = a[(n - 2) * n + n - 2];
            e[n - 2] = a[(n - 1) * n + n - 2];
        }
        if (n >= 1)
        {
            d[n - 1] = a[(n - 1) * n + n - 1];
            e[n - 1] = 0.0;
        }

        // Q = H_0 ⋯ H_{n−3}, built as M ← H_k M for k from n−3 down to 0 (H_k touches rows and columns k+1.. only),
        // then transposed: z rows = columns of Q.
        var q = a; // reuse A's storage for M (n, n)
        Array.Clear(q, 0, n * n);
        for (int i = 0; i < n; i++) q[i * n + i] = 1.0;
        var u = w;
        for (int k = n - 3; k >= 0; k--)
        {
            if (beta[k] == 0.0) continue;
            int len = n - k - 1, c0 = k + 1;
            var x = v.AsSpan(k * n + k + 1, len);
            var uk = u.AsSpan(c0, len);
            uk.Clear();
            for (int i = 0; i < len; i++) DenseKernels.AxpyShort(x[i], q.AsSpan((c0 + i) * n + c0, len), uk); // u = vᵀ M
            for (int i = 0; i < len; i++) DenseKernels.AxpyShort(-beta[k] * x[i], uk, q.AsSpan((c0 + i) * n + c0, len));
        }
        var z = vectorRows;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) z[j * n + i] = q[i * n + j];

        ImplicitQl(d, e, z, n);

        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Array.Sort(order, (x, y) => d[y].CompareTo(d[x]) is int cmp && cmp != 0 ? cmp : x.CompareTo(y));
        var sorted = new double[n * n];
        for (int j = 0; j < n; j++)
        {
            values[j] = d[order[j]];
            z.AsSpan(order[j] * n, n).CopyTo(sorted.AsSpan(j * n, n));
        }
        sorted.AsSpan(0, n * n).CopyTo(z);
    }

    /// <summary>Implicit QL on the tridiagonal (d, e), rotating rows of <paramref name="z"/> (n, n) along: d ends as the eigenvalues (unordered), row j of z as eigenvector j.</summary>
    private static void ImplicitQl(double[] d, double[] e, double[] z, int n)
    {
        var sink = new RowRotations(z, n);
        TridiagonalQl.Run(d, e, n, ref sink);
    }

    /// <summary>Rotates rows i and i+1 of z at once: <c>z_{i+1} ← s·z_i + c·z_{i+1}</c>, <c>z_i ← c·z_i − s·z_{i+1}</c>.</summary>
    private readonly struct RowRotations(double[] z, int n) : TridiagonalQl.IRotationSink
    {
        public void Begin(int top) { }

        public void Rotate(int i, double c, double s) => DenseKernels.Rotate(z.AsSpan(i * n, n), z.AsSpan((i + 1) * n, n), c, s);
    }
}
