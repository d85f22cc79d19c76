using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Merging.Methods;

/// <summary>Settings of the truncated SVD behind CART: subspace (power) iterations and the seed of its Gaussian start block.</summary>
/// <param name="PowerIterations">Iterations q; each is one power step of A Aᵀ.</param>
/// <param name="Seed">Seed of the start block.</param>
internal sealed record RandomizedSvdSettings(int PowerIterations, ulong Seed);

/// <summary>
/// Rank-r approximations used by CART: <c>lowrank_r(A) = U_r S_r V_rᵀ</c> by subspace iteration on the Gram matrix of A's
/// short side (<see cref="GramSubspaceSvd"/>: oversampling 32, α updated on the first 2 of the q iterations). The
/// choice and its error on the merge benchmark's matrices are in bench/README.md (CART) and docs/truncated-svd.md.
/// </summary>
internal static class LowRank
{
    /// <summary><c>dst += alpha · U_r S_r V_rᵀ</c> of the (m, n) matrix <paramref name="a"/>.</summary>
    public static void AddTruncated(ReadOnlySpan<float> a, int m, int n, int r, float alpha, Span<float> dst, RandomizedSvdSettings settings)
        => Compute(a, m, n, r, settings).AddTo(dst, alpha);

    /// <summary>Factors <c>left = U_r S_r</c> (m, r) and <c>right = V_rᵀ</c> (r, n) of the rank-r approximation.</summary>
    public static void Factors(ReadOnlySpan<float> a, int m, int n, int r, Span<float> left, Span<float> right, RandomizedSvdSettings settings)
        => Split(Compute(a, m, n, r, settings), left, right);

    /// <summary>
    /// The rank-r factors of <paramref name="a"/> (m, n) with a sketch of r + <paramref name="oversampling"/> columns; each
    /// GEMM on at most <paramref name="maxThreads"/> threads (same result for any value).
    /// </summary>
    internal static LowRankFactors Compute(ReadOnlySpan<float> a, int m, int n, int r, RandomizedSvdSettings settings,
        int oversampling = GramSubspaceSvd.DefaultOversampling, int maxThreads = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return GramSubspaceSvd.Compute(a, m, n, r, oversampling, settings.PowerIterations, settings.Seed, maxThreads: maxThreads);
    }

    /// <summary>Writes <c>left = U_r S_r</c> (m, r) and <c>right = V_rᵀ</c> (r, n) of <paramref name="f"/>.</summary>
    internal static void Split(LowRankFactors f, Span<float> left, Span<float> right)
    {
        int m = f.Rows, r = f.Rank, n = f.Cols;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < r; j++) left[i * r + j] = f.U[i * r + j] * f.S[j];
        f.Vt.AsSpan(0, r * n).CopyTo(right);
    }
}
