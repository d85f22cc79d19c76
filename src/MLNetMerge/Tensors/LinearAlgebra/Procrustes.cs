namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Orthogonal Procrustes: the orthogonal Q nearest to a square matrix M in Frobenius norm, <c>Q = U Vᵀ</c> from
/// <c>M = U Σ Vᵀ</c>. With <c>M = Σ_t f_t g_tᵀ</c> (a cross-covariance), Q maximises <c>tr(Qᵀ M)</c>, i.e. it is
/// the rotation/reflection that best maps the g's onto the f's.
/// </summary>
internal static class Procrustes
{
    /// <summary>Writes <c>Q = U Vᵀ</c> (d, d) for the SVD of <paramref name="m"/> (d, d).</summary>
    /// <exception cref="ArgumentException">A span is too short or M holds a non-finite value.</exception>
    public static void Solve(ReadOnlySpan<float> m, int d, Span<float> q)
    {
        DenseKernels.Require("Procrustes input M", m.Length, d, d);
        DenseKernels.Require("Procrustes output Q", q.Length, d, d);
        var u = new float[d * d];  // (d, d)
        var s = new float[d];      // (d)
        var vt = new float[d * d]; // (d, d)
        JacobiSvd.Decompose(m, d, d, u, s, vt);
        // Q[i, j] = Σ_l U[i, l] Vᵀ[l, j], accumulated in float64.
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
            {
                double acc = 0;
                for (int l = 0; l < d; l++) acc += (double)u[i * d + l] * vt[l * d + j];
                q[i * d + j] = (float)acc;
            }
    }
}
