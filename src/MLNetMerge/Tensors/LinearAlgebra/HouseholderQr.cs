namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Thin QR factorisation by Householder reflections, in float64: <c>A = Q R</c> for A (m, n) with m ≥ n,
/// Q (m, n) with orthonormal columns and R (n, n) upper triangular with a non-negative diagonal.
/// Reflector j maps column j below the diagonal onto <c>α e_j</c>: <c>H_j = I − 2 v vᵀ / vᵀv</c>,
/// <c>v = x − α e_1</c>, <c>α = −sign(x_1) ‖x‖</c> (no cancellation), and <c>Q = H_0 ⋯ H_{n−1} I[:, :n]</c>.
/// </summary>
internal static class HouseholderQr
{
    /// <summary>Factors <paramref name="a"/> (m, n), m ≥ n, into Q (m, n) and R (n, n), all row-major float32.</summary>
    /// <exception cref="ArgumentException">m &lt; n or a span is too short.</exception>
    public static void Factor(ReadOnlySpan<float> a, int m, int n, Span<float> q, Span<float> r)
    {
        DenseKernels.Require("QR input A", a.Length, m, n);
        if (m < n) throw new ArgumentException($"QR: the thin factorisation needs m ≥ n, got a ({m}, {n}) matrix.");
        DenseKernels.Require("QR output Q", q.Length, m, n);
        DenseKernels.Require("QR output R", r.Length, n, n);
        var rows = new double[n * m];    // (n, m): row j is column j of A, orthonormalised in place into Qᵀ
        var rr = new double[n * n];      // (n, n) R, upper triangular
        DenseKernels.ToDouble(a, m, n, rows, transpose: true);
        OrthonormalizeRows(rows, n, m, rr);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                q[i * n + j] = (float)rows[j * m + i];
        for (int i = 0; i < n * n; i++) r[i] = (float)rr[i];
    }

    /// <summary>
    /// QR of Xᵀ where X (rows, cols) holds the vectors as rows, rows ≤ cols: on return X holds Qᵀ (orthonormal rows
    /// spanning the same nested subspaces) and <paramref name="r"/>, when given, the (rows, rows) upper-triangular R
    /// with <c>Xᵀ = Q R</c>. Every access runs along a contiguous row.
    /// </summary>
    internal static void OrthonormalizeRows(Span<double> x, int rows, int cols, Span<double> r = default)
    {
        if (rows > cols) throw new ArgumentException($"QR: {rows} vectors of length {cols} cannot be orthonormal.");
        var v = new double[(long)rows * cols];   // (rows, cols): reflector j stored at v[j, j..cols]
        var vv = new double[rows];               // (rows) vᵀv of each reflector, 0 when skipped
        var alpha = new double[rows];            // (rows) R's diagonal before the sign fix
        for (int j = 0; j < rows; j++)
        {
            var xj = x.Slice(j * cols + j, cols - j);
            double norm = Math.Sqrt(DenseKernels.Dot(xj, xj));
            if (norm == 0.0) continue;
            double a = xj[0] >= 0 ? -norm : norm;
            var vj = v.AsSpan(j * cols + j, cols - j);
            xj.CopyTo(vj);
            vj[0] -= a;
            vv[j] = DenseKernels.Dot(vj, vj);
            alpha[j] = a;
            for (int c = j + 1; c < rows; c++)
            {
                var xc = x.Slice(c * cols + j, cols - j);
                DenseKernels.Axpy(-2.0 * DenseKernels.Dot(vj, xc) / vv[j], vj, xc);
            }
        }
        if (!r.IsEmpty)
        {
            r.Slice(0, rows * rows).Clear();
            for (int j = 0; j < rows; j++)
            {
                r[j * rows + j] = alpha[j];
                for (int c = j + 1; c < rows; c++) r[j * rows + c] = x[c * cols + j];
            }
        }
        // Qᵀ rows: start from e_c, apply H_{rows−1} … H_0 (row c only meets reflectors j ≤ c).
        x.Slice(0, rows * cols).Clear();
        for (int c = 0; c < rows; c++) x[c * cols + c] = 1.0;
        for (int j = rows - 1; j >= 0; j--)
        {
            if (vv[j] == 0.0) continue;
            var vj = v.AsSpan(j * cols + j, cols - j);
            for (int c = j; c < rows; c++)
            {
                var qc = x.Slice(c * cols + j, cols - j);
                DenseKernels.Axpy(-2.0 * DenseKernels.Dot(vj, qc) / vv[j], vj, qc);
            }
        }
        // Non-negative diagonal of R: flip row j of R and column j of Q together.
        for (int j = 0; j < rows; j++)
        {
            if (alpha[j] >= 0) continue;
            foreach (ref double e in x.Slice(j * cols, cols)) e = -e;
            if (!r.IsEmpty) foreach (ref double e in r.Slice(j * rows + j, rows - j)) e = -e;
        }
    }
}
