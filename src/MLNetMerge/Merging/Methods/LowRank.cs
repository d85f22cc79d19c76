namespace MLNetMerge.Merging.Methods;

/// <summary>Settings of a randomized truncated SVD: power iterations and the seed of its Gaussian test matrix.</summary>
/// <param name="PowerIterations">Power iterations q.</param>
/// <param name="Seed">Seed of the test matrix.</param>
public sealed record RandomizedSvdSettings(int PowerIterations, ulong Seed);

/// <summary>Rank-r approximations used by CART: <c>lowrank_r(A) = U_r S_r V_rᵀ</c>.</summary>
public static class LowRank
{
    /// <summary><c>dst += alpha · U_r S_r V_rᵀ</c> of the (m, n) matrix <paramref name="a"/>.</summary>
    public static void AddTruncated(ReadOnlySpan<float> a, int m, int n, int r, float alpha, Span<float> dst, RandomizedSvdSettings settings)
    {
        var left = new float[m * r];
        var right = new float[r * n];
        Factors(a, m, n, r, left, right, settings);
        MLNetMerge.Tensors.Gemm.Multiply(false, false, m, n, r, alpha, left, r, right, n, 1f, dst, n);
    }

    /// <summary>Factors <c>left = U_r S_r</c> (m, r) and <c>right = V_rᵀ</c> (r, n) of the best rank-r approximation.</summary>
    public static void Factors(ReadOnlySpan<float> a, int m, int n, int r, Span<float> left, Span<float> right, RandomizedSvdSettings settings)
    {
        throw new NotSupportedException("PENDING: randomized SVD from the linear algebra branch.");
    }
}
