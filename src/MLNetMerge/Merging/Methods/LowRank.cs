using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Merging.Methods;

/// <summary>Settings of a randomized truncated SVD: power iterations and the seed of its Gaussian test matrix.</summary>
/// <param name="PowerIterations">Power iterations q.</param>
/// <param name="Seed">Seed of the test matrix.</param>
internal sealed record RandomizedSvdSettings(int PowerIterations, ulong Seed);

/// <summary>Rank-r approximations used by CART: <c>lowrank_r(A) = U_r S_r V_rᵀ</c> by randomized SVD (<see cref="RandomizedSvd"/>).</summary>
internal static class LowRank
{
    /// <summary><c>dst += alpha · U_r S_r V_rᵀ</c> of the (m, n) matrix <paramref name="a"/>.</summary>
    public static void AddTruncated(ReadOnlySpan<float> a, int m, int n, int r, float alpha, Span<float> dst, RandomizedSvdSettings settings)
    {
        var factors = RandomizedSvd.Compute(a, m, n, r, powerIterations: settings.PowerIterations, seed: settings.Seed);
        factors.AddTo(dst, alpha);
    }

    /// <summary>Factors <c>left = U_r S_r</c> (m, r) and <c>right = V_rᵀ</c> (r, n) of the rank-r approximation.</summary>
    public static void Factors(ReadOnlySpan<float> a, int m, int n, int r, Span<float> left, Span<float> right, RandomizedSvdSettings settings)
    {
        var f = RandomizedSvd.Compute(a, m, n, r, powerIterations: settings.PowerIterations, seed: settings.Seed);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < r; j++) left[i * r + j] = f.U[i * r + j] * f.S[j];
        f.Vt.AsSpan(0, r * n).CopyTo(right);
    }
}
