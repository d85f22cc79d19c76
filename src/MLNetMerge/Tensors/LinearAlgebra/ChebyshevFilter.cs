using System.Numerics.Tensors;

namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// A Chebyshev polynomial filter for subspace iteration on a symmetric positive semi-definite G (k, k): applied to a
/// block X (l rows of length k, the block's vectors as rows), it computes
/// <code>
/// Y = p_d(G) X,   p_d(x) = T_d((x − c) / e) / T_d((ρ − c) / e),   c = e = b / 2
/// </code>
/// where T_d is the Chebyshev polynomial of the first kind (T_0 = 1, T_1(y) = y, T_{j+1} = 2y T_j − T_{j−1}),
/// [0, b] is the interval to damp (|p_d| ≤ 1 / T_d((ρ − c)/e) there) and ρ &gt; b the point scaled to 1 (the largest
/// Ritz value, so the block's entries stay near their size). Outside [0, b] p_d grows as fast as a degree-d polynomial
/// bounded on [0, b] can: at x = (1 + δ) b it is cosh(d · acosh(1 + 2δ)) times its bound, against (1 + 2δ)^d for d
/// steps of the power iteration shifted by b/2. Zhou and Saad (2007, "A Chebyshev–Davidson algorithm for large
/// symmetric eigenproblems", SIAM J. Matrix Anal. Appl. 29(3)) use the same filter in subspace iteration.
/// <para>
/// With Y_j = T_j(L) X / τ_j, L = (G − cI)/e, τ_j = T_j(y_ρ), y_ρ = (ρ − c)/e, the three-term recurrence reads
/// <code>
/// Y_1     = (G X − c X) / (e τ_1)
/// Y_{j+1} = μ_j (G Y_j − c Y_j) − ν_j Y_{j−1},   μ_j = 2 s_{j+1} / e,   ν_j = s_j s_{j+1}
/// s_1 = 1 / y_ρ,   s_{j+1} = τ_j / τ_{j+1} = 1 / (2 y_ρ − s_j)
/// </code>
/// (only ratios of τ, which cannot overflow). Each step is one product by G (k²·l multiply-adds, accumulated onto the
/// pre-scaled Y_{j−1}: <c>Y_{j−1} ← −ν_j Y_{j−1} − μ_j c Y_j</c>, then <c>Y_{j−1} += μ_j Y_j G</c>) and two element-wise
/// passes, so two buffers suffice. Degree 1 is one step of the power iteration shifted by c = b/2; it is computed
/// unscaled (<c>Y = X G − c X</c>), since the orthonormalisation that follows makes the scale irrelevant.
/// </para>
/// </summary>
internal static class ChebyshevFilter
{
    /// <summary>
    /// Applies p_d(G) to the rows of <paramref name="x"/>; the result is in the returned buffer, either
    /// <paramref name="x"/> or <paramref name="y"/> (both are overwritten).
    /// </summary>
    /// <param name="g">G (k, k), symmetric, row-major.</param>
    /// <param name="packedG">G's panels for the products (<see cref="PackedMatrix"/>; same bits as from G), or null.</param>
    /// <param name="k">Order of G.</param>
    /// <param name="x">Xᵀ (l, k), the block as rows; overwritten.</param>
    /// <param name="y">(l, k) work buffer, overwritten.</param>
    /// <param name="productReady">True when <paramref name="y"/> already holds Xᵀ G (the caller took the first product to
    /// read the Ritz values), false to compute it here.</param>
    /// <param name="l">Rows of the block.</param>
    /// <param name="degree">d ≥ 1, the number of products by G.</param>
    /// <param name="upper">b &gt; 0, the top of the damped interval [0, b].</param>
    /// <param name="reference">ρ &gt; b, where the filter is 1 (unused for degree 1).</param>
    /// <param name="maxThreads">Threads each GEMM may use; the result is the same for any value.</param>
    /// <returns>The buffer that holds p_d(G) X (l, k).</returns>
    internal static float[] Apply(float[] g, PackedMatrix? packedG, int k, float[] x, float[] y, bool productReady, int l, int degree,
        double upper, double reference, int maxThreads)
    {
        if (degree < 1) throw new ArgumentException($"Chebyshev filter: degree {degree} must be ≥ 1.");
        if (!(upper > 0) || (degree > 1 && !(reference > upper)))
            throw new ArgumentException($"Chebyshev filter: needs 0 < b ({upper}) < ρ ({reference}).");
        int size = l * k;
        double c = 0.5 * upper, e = 0.5 * upper, yRho = (reference - c) / e;
        var xs = x.AsSpan(0, size);   // (l, k) Y_{j−1}, then Y_{j+1}
        var ys = y.AsSpan(0, size);   // (l, k) Y_j
        if (!productReady) Gemm.MultiplyCore(false, false, l, k, k, 1f, x, k, g, k, 0f, y, k, maxThreads, Gemm.BestPath, default, packedG); // Xᵀ G
        if (degree == 1)
        {
            TensorPrimitives.MultiplyAdd(xs, (float)-c, ys, ys);              // Y = X G − c X
            return y;
        }
        double s = 1.0 / yRho;                                              // s_1
        double scale = s / e;                                               // 1 / (e τ_1)
        TensorPrimitives.MultiplyAdd(xs, (float)-c, ys, ys);
        TensorPrimitives.Multiply(ys, (float)scale, ys);                    // Y_1
        float[] prev = x, cur = y;
        for (int j = 1; j < degree; j++)
        {
            double sNext = 1.0 / (2.0 * yRho - s);
            double mu = 2.0 * sNext / e, nu = s * sNext;
            var p = prev.AsSpan(0, size);
            TensorPrimitives.Multiply(p, (float)-nu, p);                      // −ν_j Y_{j−1}
            TensorPrimitives.MultiplyAdd(cur.AsSpan(0, size), (float)(-mu * c), p, p); // − μ_j c Y_j
            Gemm.MultiplyCore(false, false, l, k, k, (float)mu, cur, k, g, k, 1f, prev, k, maxThreads, Gemm.BestPath, default, packedG); // + μ_j Y_j G
            (prev, cur) = (cur, prev);
            s = sNext;
        }
        return cur;
    }
}
