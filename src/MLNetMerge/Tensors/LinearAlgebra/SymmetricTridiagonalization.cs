using System.Numerics;
using System.Runtime.Intrinsics;

namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Householder reduction of a symmetric matrix to tridiagonal form, <c>T = Qᵀ A Q</c>, <c>Q = H_0 H_1 ⋯ H_{n−3}</c>,
/// in float64, reading and writing only the lower triangle. Step k builds the reflector <c>H_k = I − β v vᵀ</c> that
/// maps column k below the diagonal onto <c>α e_{k+1}</c> (<c>α = −sign(x_0)‖x‖</c>, <c>v = x − α e_1</c>,
/// <c>β = 2/vᵀv</c>), then on the trailing block A₂₂: <c>p = β A₂₂ v</c>, <c>w = p − (β vᵀp/2) v</c>,
/// <c>A₂₂ ← A₂₂ − v wᵀ − w vᵀ</c>.
/// <para>
/// The product <c>A₂₂ v</c> of step k+1 is taken in the same pass over the rows as step k's rank-2 update: column k+1
/// (which v_{k+1} is made of) is updated first, then each row of the trailing lower triangle is updated, and while it
/// is in L1 it adds its dot product with v_{k+1} (its own entry of p) and its multiple of itself (the entries of p
/// its mirror image in the upper triangle would give). So each step touches half the matrix once, instead of the
/// whole matrix twice (a product pass and an update pass).
/// </para>
/// </summary>
internal static class SymmetricTridiagonalization
{
    /// <summary>
    /// Reduces <paramref name="a"/> (n, n; only the lower triangle is read; it is overwritten) to the tridiagonal
    /// (<paramref name="d"/> diagonal, <paramref name="e"/> with e[i] coupling i and i+1, e[n−1] = 0); row k of
    /// <paramref name="reflectors"/> (n, n) receives v_k in columns k+1..n−1 and <paramref name="beta"/>[k] its β
    /// (0 when column k needed no reflection). With <paramref name="maxThreads"/> ≥ 2 the panels of a large matrix
    /// (<see cref="BlockedTridiagonalization"/>) use two threads; the result is the same for any thread count.
    /// </summary>
    internal static void Reduce(double[] a, int n, double[] d, double[] e, double[] reflectors, double[] beta, int maxThreads = 1)
    {
        bool panels = n >= BlockedTridiagonalization.MinOrder && !BlockedTridiagonalization.UnblockedForTests;
        int start = panels ? BlockedTridiagonalization.ReducePanels(a, n, d, e, reflectors, beta, maxThreads) : 0; // columns < start reduced
        ReduceFrom(a, n, start, d, e, reflectors, beta);
    }

    /// <summary>Steps <paramref name="start"/> … n − 3 of <see cref="Reduce"/> (the columns before start already reduced).</summary>
    private static void ReduceFrom(double[] a, int n, int start, double[] d, double[] e, double[] reflectors, double[] beta)
    {
        var p = new double[n];     // (n) p of the current step at indices k+1.., then w
        var next = new double[n];  // (n) the next step's A₂₂ v, accumulated during the current update
        if (start < n - 2 && MakeReflector(a, n, start, d, e, reflectors, beta))
            SymmetricProduct(a, n, start + 1, reflectors.AsSpan(start * n + start + 1, n - start - 1), p.AsSpan(start + 1, n - start - 1));
        for (int k = start; k < n - 2; k++)
        {
            int len = n - k - 1, c0 = k + 1;
            double b = beta[k];
            var x = reflectors.AsSpan(k * n + c0, len);
            var w = p.AsSpan(c0, len);
            if (b != 0.0)
            {
                TensorScale(w, b);                                  // p = β A₂₂ v
                double kk = 0.5 * b * DenseKernels.Dot(x, w);
                DenseKernels.Axpy(-kk, x, w);                       // w = p − K v
                for (int i = 0; i < len; i++)                       // column k+1 (row entries c0 of rows ≥ c0) first
                    a[(c0 + i) * n + c0] -= x[i] * w[0] + w[i] * x[0];
            }
            bool more = k + 1 < n - 2 && MakeReflector(a, n, k + 1, d, e, reflectors, beta);
            int c1 = c0 + 1;
            var y = more ? reflectors.AsSpan(c0 * n + c1, len - 1) : Span<double>.Empty;
            var q = next.AsSpan(c1, len - 1);
            q.Clear();
            for (int i = 1; i < len; i++)
            {
                var row = a.AsSpan((c0 + i) * n + c1, i);           // row c0+i, columns c1 .. c0+i (the diagonal last)
                if (b != 0.0) UpdateRow(row, x[i], w.Slice(1, i), w[i], x.Slice(1, i));
                if (more) q[i - 1] += ProductRow(row, y, q, i - 1);
            }
            if (k + 1 < n - 2)
            {
                if (more) q.CopyTo(p.AsSpan(c1, len - 1));
            }
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
    }

    /// <summary>
    /// Builds v_k from column k below the diagonal (rows k+1..), sets d[k], e[k] and β_k; false (β_k = 0, e[k] = 0)
    /// when that column is already zero.
    /// </summary>
    internal static bool MakeReflector(double[] a, int n, int k, double[] d, double[] e, double[] reflectors, double[] beta)
    {
        int len = n - k - 1;
        var x = reflectors.AsSpan(k * n + k + 1, len);
        for (int i = 0; i < len; i++) x[i] = a[(k + 1 + i) * n + k];
        double norm = Math.Sqrt(DenseKernels.Dot(x, x));
        d[k] = a[k * n + k];
        if (norm == 0.0)
        {
            e[k] = 0.0;
            beta[k] = 0.0;
            return false;
        }
        double alpha = x[0] >= 0 ? -norm : norm;
        e[k] = alpha;
        x[0] -= alpha;
        beta[k] = 2.0 / DenseKernels.Dot(x, x);
        return true;
    }

    /// <summary>q = A₂₂ y for the trailing block from row/column <paramref name="c"/>, from its lower triangle only.</summary>
    private static void SymmetricProduct(double[] a, int n, int c, ReadOnlySpan<double> y, Span<double> q)
    {
        q.Clear();
        for (int i = 0; i < n - c; i++) q[i] += ProductRow(a.AsSpan((c + i) * n + c, i + 1), y, q, i);
    }

    /// <summary>
    /// One row i of a lower triangle (<paramref name="row"/> = entries 0..i, the diagonal last): adds y[i]·row[j] into
    /// q[j] for j &lt; i (the upper triangle's share) and returns Σ_{j≤i} row[j]·y[j] (the row's own share of q[i]).
    /// </summary>
    private static double ProductRow(ReadOnlySpan<double> row, ReadOnlySpan<double> y, Span<double> q, int i)
    {
        double yi = y[i], s = 0;
        int j = 0, lanes = Vector<double>.Count;
        if (Vector512.IsHardwareAccelerated && lanes == 4 && i >= 8)
        {
            // The two 4-lane accumulators below as the halves of one 8-lane vector: every lane sums the same products in
            // the same order, and the halves are added and summed as below, so the bits are the same.
            var vyi = Vector512.Create(yi);
            var acc = Vector512<double>.Zero;
            for (; j <= i - 8; j += 8)
            {
                var r = Vector512.Create<double>(row.Slice(j, 8));
                acc += r * Vector512.Create<double>(y.Slice(j, 8));
                (Vector512.Create<double>(q.Slice(j, 8)) + vyi * r).CopyTo(q.Slice(j));
            }
            s = Vector.Sum((acc.GetLower() + acc.GetUpper()).AsVector());
        }
        else if (Vector.IsHardwareAccelerated && i >= 2 * lanes)
        {
            var vyi = new Vector<double>(yi);
            var acc0 = Vector<double>.Zero;
            var acc1 = Vector<double>.Zero;
            for (; j <= i - 2 * lanes; j += 2 * lanes)
            {
                var r0 = new Vector<double>(row.Slice(j));
                var r1 = new Vector<double>(row.Slice(j + lanes));
                acc0 += r0 * new Vector<double>(y.Slice(j));
                acc1 += r1 * new Vector<double>(y.Slice(j + lanes));
                (new Vector<double>(q.Slice(j)) + vyi * r0).CopyTo(q.Slice(j));
                (new Vector<double>(q.Slice(j + lanes)) + vyi * r1).CopyTo(q.Slice(j + lanes));
            }
            s = Vector.Sum(acc0 + acc1);
        }
        for (; j < i; j++)
        {
            s += row[j] * y[j];
            q[j] += yi * row[j];
        }
        return s + row[i] * yi;
    }

    /// <summary>The lower-triangle rank-2 update of one row, <c>row[j] −= xi·w[j] + wi·x[j]</c> (the diagonal included).</summary>
    private static void UpdateRow(Span<double> row, double xi, ReadOnlySpan<double> w, double wi, ReadOnlySpan<double> x)
    {
        int j = 0, len = row.Length, lanes = Vector<double>.Count;
        if (Vector512.IsHardwareAccelerated)
        {
            // Element-wise: the same two products, sum and difference per element at any width.
            var vxi = Vector512.Create(xi);
            var vwi = Vector512.Create(wi);
            for (; j <= len - Vector512<double>.Count; j += Vector512<double>.Count)
                (Vector512.Create<double>(row.Slice(j, Vector512<double>.Count)) - (vxi * Vector512.Create<double>(w.Slice(j, Vector512<double>.Count))
                    + vwi * Vector512.Create<double>(x.Slice(j, Vector512<double>.Count)))).CopyTo(row.Slice(j));
        }
        else if (Vector.IsHardwareAccelerated)
        {
            var vxi = new Vector<double>(xi);
            var vwi = new Vector<double>(wi);
            for (; j <= len - lanes; j += lanes)
                (new Vector<double>(row.Slice(j)) - (vxi * new Vector<double>(w.Slice(j)) + vwi * new Vector<double>(x.Slice(j)))).CopyTo(row.Slice(j));
        }
        for (; j < len; j++) row[j] -= xi * w[j] + wi * x[j];
    }

    private static void TensorScale(Span<double> x, double s) => System.Numerics.Tensors.TensorPrimitives.Multiply(x, s, x);
}
