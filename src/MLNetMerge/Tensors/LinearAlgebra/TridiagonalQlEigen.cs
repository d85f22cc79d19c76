using System.Runtime.Intrinsics;

namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Eigenvalues and eigenvectors of a symmetric matrix in float64, for the sizes the subspace merges meet (up to a few
/// thousand): Householder reduction to tridiagonal form <c>T = Qᵀ A Q</c> (reflector k maps column k below the
/// diagonal onto <c>α e_{k+1}</c>, applied as the rank-2 update <c>A ← A − v wᵀ − w vᵀ</c> with <c>p = β A v</c>,
/// <c>w = p − (β vᵀp / 2) v</c>), explicit accumulation of <c>Qᵀ = H_{n−3} ⋯ H_0</c>, then the implicit QL iteration
/// with Wilkinson-style shifts on <c>T</c>, each plane rotation applied to two rows of the accumulated <c>Zᵀ = Qᵀ</c>
/// (so every vector operation runs along a contiguous row). Row j of the result is the unit eigenvector of the
/// j-th largest eigenvalue. O(n³), deterministic (the sort breaks ties by index).
/// </summary>
internal static class TridiagonalQlEigen
{

    /// <summary>
    /// Decomposes the symmetric <paramref name="a"/> (n, n, row-major in its first n² elements; only read as symmetric,
    /// destroyed) into <paramref name="values"/> (n, descending) and <paramref name="vectorRows"/> (n, n; row j =
    /// eigenvector of value j). Longer arrays (pooled ones) are fine.
    /// </summary>
    /// <exception cref="ArgumentException">A span is too short or A holds a non-finite value.</exception>
    /// <exception cref="InvalidOperationException">The QL iteration did not converge (does not happen for finite input).</exception>
    internal static void Decompose(double[] a, int n, double[] values, double[] vectorRows)
    {
        RequireEigenArguments(a, n, values, vectorRows);
        if (n == 0) return;
        var d = new double[n];            // (n) diagonal of T
        var e = new double[n];            // (n) e[i] couples i and i+1; e[n−1] = 0
        var beta = new double[n];         // (n) β_k = 2 / v_kᵀv_k, 0 when column k needed no reflection
        double[] reflectors = BufferPool<double>.Shared.Rent(n * n); // (n, n) row k holds v_k at columns k+1..n−1
        try
        {
            SymmetricTridiagonalization.Reduce(a, n, d, e, reflectors, beta);
            var zt = vectorRows;          // (n, n) Zᵀ: starts as Qᵀ, ends with eigenvectors as rows
            AccumulateTranspose(reflectors, beta, n, zt);
            ImplicitQl(d, e, zt, n);
            // The sorted rows go through the reflector array, free by now.
            SortDescending(d, zt, n, values, reflectors);
        }
        finally
        {
            BufferPool<double>.Shared.Return(reflectors);
        }
    }

    /// <summary>
    /// The checks both dense solvers make: A (n, n), values (n) and vectors (n, n) long enough, every element of A finite.
    /// </summary>
    /// <exception cref="ArgumentException">A span is too short or A holds a non-finite value.</exception>
    internal static void RequireEigenArguments(double[] a, int n, double[] values, double[] vectorRows)
    {
        DenseKernels.Require("Eigen input A", a.Length, n, n);
        DenseKernels.Require("Eigen output values", values.Length, 1, n);
        DenseKernels.Require("Eigen output vectors", vectorRows.Length, n, n);
        for (int i = 0; i < n * n; i++)
            if (!double.IsFinite(a[i])) throw new ArgumentException($"Eigen: A[{i / n},{i % n}] is not finite.");
    }

    /// <summary>
    /// Writes <c>Qᵀ = H_{n−3} ⋯ H_0</c> (n, n) into <paramref name="qt"/> by right-multiplying the identity with
    /// H_{n−3} first: after H_{n−3} … H_{k+1} only rows and columns ≥ k+1 differ from the identity, so H_k touches the
    /// trailing (n−k−1)² block, row by row: <c>row ← row − β (row·v) v</c>. Each row only depends on itself, so the
    /// reflectors are taken <see cref="AccumulateGroup"/> at a time and all of a group is applied to one row while it
    /// is in L1 (one pass over Qᵀ per group instead of one per reflector; the same operations in the same order).
    /// </summary>
    internal static void AccumulateTranspose(double[] reflectors, double[] beta, int n, double[] qt, int maxThreads = 1)
    {
        int parts = Math.Clamp(maxThreads, 1, Math.Max(1, n / 64));
        if (parts == 1) AccumulateRows(reflectors, beta, n, qt, 0, 1);
        else Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part => AccumulateRows(reflectors, beta, n, qt, part, parts));
    }

    /// <summary>
    /// <see cref="AccumulateTranspose"/> for the rows r of Qᵀ with <c>r mod parts = part</c> (interleaved, so the parts get
    /// about the same work): each row only depends on itself and the reflectors, so the parts need no synchronisation
    /// and every row gets the same operations in the same order as with one part.
    /// </summary>
    private static void AccumulateRows(double[] reflectors, double[] beta, int n, double[] qt, int part, int parts)
    {
        for (int r = part; r < n; r += parts)
        {
            Array.Clear(qt, r * n, n);
            qt[r * n + r] = 1.0;
        }
        for (int k1 = n - 3; k1 >= 0; k1 -= AccumulateGroup)
        {
            int k0 = Math.Max(0, k1 - AccumulateGroup + 1); // the group applies H_k1, H_k1−1, …, H_k0 in that order
            int first = k0 + 1 + (part - (k0 + 1) % parts + parts) % parts; // the first row ≥ k0 + 1 of this part
            for (int r = first; r < n; r += parts)
            {
                int partner = r + parts;
                if (r > k1 && partner < n)
                {
                    // Two rows that take the whole group: their dot products with each v share its loads and run as
                    // independent chains (Dot2); each row gets the same operations in the same order as alone.
                    for (int k = k1; k >= k0; k--)
                    {
                        if (beta[k] == 0.0) continue;
                        int len = n - k - 1;
                        var v = reflectors.AsSpan(k * n + k + 1, len);
                        var rowA = qt.AsSpan(r * n + k + 1, len);
                        var rowB = qt.AsSpan(partner * n + k + 1, len);
                        Dot2(rowA, rowB, v, out double da, out double db);
                        double sa = beta[k] * da, sb = beta[k] * db;
                        if (sa != 0.0) DenseKernels.Axpy(-sa, v, rowA);
                        if (sb != 0.0) DenseKernels.Axpy(-sb, v, rowB);
                    }
                    r = partner;
                    continue;
                }
                for (int k = Math.Min(k1, r - 1); k >= k0; k--)
                {
                    if (beta[k] == 0.0) continue;
                    int len = n - k - 1;
                    var v = reflectors.AsSpan(k * n + k + 1, len);
                    var row = qt.AsSpan(r * n + k + 1, len);
                    double s = beta[k] * Dot(row, v);
                    if (s != 0.0) DenseKernels.Axpy(-s, v, row);
                }
            }
        }
    }

    /// <summary>Reflectors applied per pass over Qᵀ in <see cref="AccumulateTranspose"/>.</summary>
    private const int AccumulateGroup = 8;

    /// <summary>
    /// Implicit QL on the tridiagonal (d, e), each rotation applied to rows i, i+1 of <paramref name="zt"/> — recorded
    /// and applied in column strips, many sweeps at a time (<see cref="RotationChains"/>; the same bits as row by row).
    /// </summary>
    private static void ImplicitQl(double[] d, double[] e, double[] zt, int n)
    {
        var sink = new ChainSink(new RotationChains(zt, n, capacity: 16 * n));
        TridiagonalQl.Run(d, e, n, ref sink);
        sink.Chains.Flush();
    }

    /// <summary>Records each sweep's rotations as one chain (columns i, i+1 of Z: rows of Zᵀ).</summary>
    private readonly struct ChainSink(RotationChains chains) : TridiagonalQl.IRotationSink
    {
        public RotationChains Chains => chains;

        public void Begin(int top) => chains.Begin(top);

        public void Rotate(int i, double c, double s) => chains.Add(c, s);
    }

    /// <summary>
    /// Sorts eigenvalues descending (ties by index) and permutes the rows of <paramref name="zt"/> to match, through
    /// <paramref name="sorted"/> (at least n² long).
    /// </summary>
    internal static void SortDescending(double[] d, double[] zt, int n, double[] values, double[] sorted)
    {
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Array.Sort(order, (x, y) => d[y].CompareTo(d[x]) is int cmp && cmp != 0 ? cmp : x.CompareTo(y));
        for (int j = 0; j < n; j++)
        {
            values[j] = d[order[j]];
            zt.AsSpan(order[j] * n, n).CopyTo(sorted.AsSpan(j * n, n));
        }
        sorted.AsSpan(0, n * n).CopyTo(zt);
    }

    /// <summary><c>Σ x[i]·y[i]</c> in 512-bit (else 256-bit) lanes, then the lanes in order.</summary>
    private static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int n = x.Length, i = 0;
        double s = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var a0 = Vector512<double>.Zero;
            var a1 = Vector512<double>.Zero;
            for (; i <= n - 16; i += 16)
            {
                a0 += Vector512.Create(x.Slice(i, 8)) * Vector512.Create(y.Slice(i, 8));
                a1 += Vector512.Create(x.Slice(i + 8, 8)) * Vector512.Create(y.Slice(i + 8, 8));
            }
            s = Vector512.Sum(a0 + a1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var a0 = Vector256<double>.Zero;
            var a1 = Vector256<double>.Zero;
            for (; i <= n - 8; i += 8)
            {
                a0 += Vector256.Create(x.Slice(i, 4)) * Vector256.Create(y.Slice(i, 4));
                a1 += Vector256.Create(x.Slice(i + 4, 4)) * Vector256.Create(y.Slice(i + 4, 4));
            }
            s = Vector256.Sum(a0 + a1);
        }
        for (; i < n; i++) s += x[i] * y[i];
        return s;
    }

    /// <summary><see cref="Dot"/>(<paramref name="a"/>, y) and <see cref="Dot"/>(<paramref name="b"/>, y) in one pass over y, each the same sum as alone.</summary>
    private static void Dot2(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> y, out double sa, out double sb)
    {
        int n = a.Length, i = 0;
        sa = 0;
        sb = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var a0 = Vector512<double>.Zero; var a1 = Vector512<double>.Zero;
            var b0 = Vector512<double>.Zero; var b1 = Vector512<double>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var y0 = Vector512.Create(y.Slice(i, 8));
                var y1 = Vector512.Create(y.Slice(i + 8, 8));
                a0 += Vector512.Create(a.Slice(i, 8)) * y0;
                a1 += Vector512.Create(a.Slice(i + 8, 8)) * y1;
                b0 += Vector512.Create(b.Slice(i, 8)) * y0;
                b1 += Vector512.Create(b.Slice(i + 8, 8)) * y1;
            }
            sa = Vector512.Sum(a0 + a1);
            sb = Vector512.Sum(b0 + b1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var a0 = Vector256<double>.Zero; var a1 = Vector256<double>.Zero;
            var b0 = Vector256<double>.Zero; var b1 = Vector256<double>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var y0 = Vector256.Create(y.Slice(i, 4));
                var y1 = Vector256.Create(y.Slice(i + 4, 4));
                a0 += Vector256.Create(a.Slice(i, 4)) * y0;
                a1 += Vector256.Create(a.Slice(i + 4, 4)) * y1;
                b0 += Vector256.Create(b.Slice(i, 4)) * y0;
                b1 += Vector256.Create(b.Slice(i + 4, 4)) * y1;
            }
            sa = Vector256.Sum(a0 + a1);
            sb = Vector256.Sum(b0 + b1);
        }
        for (; i < n; i++)
        {
            sa += a[i] * y[i];
            sb += b[i] * y[i];
        }
    }
}
