namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Thin singular value decomposition by one-sided (Hestenes) Jacobi, in float64, for small and medium matrices:
/// <c>A = U diag(S) Vᵀ</c> with A (m, n), k = min(m, n), U (m, k), S (k, descending, ≥ 0), Vᵀ (k, n).
/// The columns of W = A (or Aᵀ when m &lt; n) are rotated pairwise until orthogonal: for columns p, q with
/// <c>α = ‖w_p‖², β = ‖w_q‖², γ = w_pᵀw_q</c>, <c>ζ = (β − α)/(2γ)</c>, <c>t = sign(ζ)/(|ζ| + √(1 + ζ²))</c>,
/// <c>c = 1/√(1 + t²)</c>, <c>s = c t</c>; then <c>σ_j = ‖w_j‖</c>, left vectors <c>w_j / σ_j</c>, right vectors
/// the accumulated rotations. A pair counts as orthogonal once <c>|γ| ≤ 1e-12 √(αβ)</c>, far below float32 rounding.
/// Columns with σ = 0 get an orthonormal completion, so U always has orthonormal columns.
/// </summary>
internal static class JacobiSvd
{
    /// <summary>Most sweeps before giving up.</summary>
    internal const int MaxSweeps = 80;

    /// <summary>Decomposes <paramref name="a"/> (m, n) into U (m, k), S (k) and Vᵀ (k, n), k = min(m, n).</summary>
    /// <exception cref="ArgumentException">A span is too short or A holds a non-finite value.</exception>
    public static void Decompose(ReadOnlySpan<float> a, int m, int n, Span<float> u, Span<float> s, Span<float> vt)
    {
        int k = Math.Min(m, n);
        DenseKernels.Require("SVD input A", a.Length, m, n);
        DenseKernels.Require("SVD output U", u.Length, m, k);
        DenseKernels.Require("SVD output S", s.Length, 1, k);
        DenseKernels.Require("SVD output Vt", vt.Length, k, n);
        foreach (float x in a.Slice(0, m * n))
            if (!float.IsFinite(x)) throw new ArgumentException("SVD: A holds a non-finite value.");
        bool tall = m >= n;
        int len = tall ? m : n;        // length of each rotated vector
        var w = new double[k * len];   // (k, len): columns of A (tall) or rows of A (wide)
        DenseKernels.ToDouble(a, m, n, w, transpose: tall);
        var left = new double[k * len]; // (k, len) unit left vectors of W
        var right = new double[k * k];  // (k, k) row j = right vector j of W
        var sigma = new double[k];      // (k) descending
        DecomposeRows(w, k, len, left, sigma, right);
        for (int j = 0; j < k; j++) s[j] = (float)sigma[j];
        if (tall)
        {
            // A = W: U[:, j] = left_j (length m), Vᵀ[j, :] = right_j (length n = k).
            for (int j = 0; j < k; j++)
            {
                for (int i = 0; i < m; i++) u[i * k + j] = (float)left[j * len + i];
                for (int i = 0; i < n; i++) vt[j * n + i] = (float)right[j * k + i];
            }
        }
        else
        {
            // Aᵀ = W: A = (right) Σ (left)ᵀ, so U[:, j] = right_j (length m = k), Vᵀ[j, :] = left_j (length n).
            for (int j = 0; j < k; j++)
            {
                for (int i = 0; i < m; i++) u[i * k + j] = (float)right[j * k + i];
                for (int i = 0; i < n; i++) vt[j * n + i] = (float)left[j * len + i];
            }
        }
    }

    /// <summary>
    /// One-sided Jacobi on the matrix whose k columns are the rows of <paramref name="w"/> (k, len; destroyed), k ≤ len:
    /// W = L diag(σ) Rᵀ with <paramref name="left"/> (k, len) row j = L[:, j], <paramref name="sigma"/> (k) descending,
    /// <paramref name="right"/> (k, k) row j = R[:, j].
    /// </summary>
    internal static void DecomposeRows(double[] w, int k, int len, double[] left, double[] sigma, double[] right)
    {
        var r = new double[k * k]; // (k, k) row j = column j of the accumulated rotation
        for (int i = 0; i < k; i++) r[i * k + i] = 1.0;
        var norms = new double[k]; // (k) ‖w_j‖²
        for (int sweep = 0; sweep < MaxSweeps; sweep++)
        {
            // Fresh norms each sweep; within a sweep they follow the rotations analytically.
            for (int j = 0; j < k; j++) norms[j] = DenseKernels.Dot(w.AsSpan(j * len, len), w.AsSpan(j * len, len));
            bool rotated = false;
            for (int p = 0; p < k - 1; p++)
            {
                for (int q = p + 1; q < k; q++)
                {
                    double alpha = norms[p], beta = norms[q];
                    if (alpha == 0.0 || beta == 0.0) continue;
                    var wp = w.AsSpan(p * len, len);
                    var wq = w.AsSpan(q * len, len);
                    double gamma = DenseKernels.Dot(wp, wq);
                    if (Math.Abs(gamma) <= 1e-12 * Math.Sqrt(alpha * beta)) continue;
                    rotated = true;
                    double zeta = (beta - alpha) / (2.0 * gamma);
                    double t = Math.Abs(zeta) > 1e150
                        ? 0.5 / zeta
                        : Math.Sign(zeta == 0 ? 1.0 : zeta) / (Math.Abs(zeta) + Math.Sqrt(1.0 + zeta * zeta));
                    double c = 1.0 / Math.Sqrt(1.0 + t * t), s = c * t;
                    DenseKernels.Rotate(wp, wq, c, s);
                    DenseKernels.Rotate(r.AsSpan(p * k, k), r.AsSpan(q * k, k), c, s);
                    // ‖c·w_p − s·w_q‖² and ‖s·w_p + c·w_q‖².
                    norms[p] = c * c * alpha - 2 * c * s * gamma + s * s * beta;
                    norms[q] = s * s * alpha + 2 * c * s * gamma + c * c * beta;
                }
            }
            if (!rotated) break;
        }
        for (int j = 0; j < k; j++) norms[j] = DenseKernels.Dot(w.AsSpan(j * len, len), w.AsSpan(j * len, len));
        var order = new int[k];
        for (int i = 0; i < k; i++) order[i] = i;
        Array.Sort(order, (x, y) => norms[y].CompareTo(norms[x]) is int cmp && cmp != 0 ? cmp : x.CompareTo(y));
        var zero = new List<int>();
        for (int j = 0; j < k; j++)
        {
            int src = order[j];
            double sj = Math.Sqrt(norms[src]);
            sigma[j] = sj;
            r.AsSpan(src * k, k).CopyTo(right.AsSpan(j * k, k));
            var lj = left.AsSpan(j * len, len);
            if (sj > 0)
            {
                var wsrc = w.AsSpan(src * len, len);
                for (int i = 0; i < len; i++) lj[i] = wsrc[i] / sj;
            }
            else
            {
                zero.Add(j);
            }
        }
        CompleteOrthonormal(left, k, len, zero);
    }

    /// <summary>Fills the rows listed in <paramref name="missing"/> with unit vectors orthogonal to all other rows (Gram–Schmidt twice over e_i).</summary>
    private static void CompleteOrthonormal(double[] rows, int k, int len, List<int> missing)
    {
        if (missing.Count == 0) return;
        var filled = new bool[k];
        for (int j = 0; j < k; j++) filled[j] = true;
        foreach (int j in missing) filled[j] = false;
        int candidate = 0;
        foreach (int j in missing)
        {
            var x = rows.AsSpan(j * len, len);
            while (true)
            {
                x.Clear();
                x[candidate++] = 1.0;
                for (int pass = 0; pass < 2; pass++)
                    for (int o = 0; o < k; o++)
                        if (filled[o]) DenseKernels.Axpy(-DenseKernels.Dot(rows.AsSpan(o * len, len), x), rows.AsSpan(o * len, len), x);
                double norm = Math.Sqrt(DenseKernels.Dot(x, x));
                if (norm > 0.5)
                {
                    foreach (ref double e in x) e /= norm;
                    break;
                }
            }
            filled[j] = true;
        }
    }
}
