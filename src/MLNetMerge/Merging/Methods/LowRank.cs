using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Merging.Methods;

/// <summary>Settings of the truncated SVD behind TSV-M's and ISO-CTS's top triplets (<see cref="MatrixMerge.TopTriplets"/>): products by the Gram matrix, the filter's degree and the seed of the Gaussian start block.</summary>
/// <param name="PowerIterations">Products by G, q; each is one power step of A Aᵀ.</param>
/// <param name="Seed">Seed of the start block.</param>
/// <param name="FilterDegree">Products per filter application d (1: the shifted power iteration).</param>
internal sealed record RandomizedSvdSettings(int PowerIterations, ulong Seed, int FilterDegree);

/// <summary>
/// The truncated SVD behind CART, as its recipe sets it: <paramref name="PowerIterations"/> products by the Gram matrix,
/// <paramref name="Oversampling"/> extra sketch columns, a Chebyshev filter of <paramref name="FilterDegree"/> products
/// between orthonormalisations (<see cref="GramSubspaceSvd"/>) and the seed of the Gaussian start block.
/// </summary>
/// <param name="PowerIterations">Products by G, q.</param>
/// <param name="Oversampling">Extra sketch columns p.</param>
/// <param name="FilterDegree">Products per filter application d (1: the shifted power iteration).</param>
/// <param name="Seed">Seed of the start block.</param>
internal sealed record CartSvdSettings(int PowerIterations, int Oversampling, int FilterDegree, ulong Seed);

/// <summary>
/// Rank-r approximations used by CART: <c>lowrank_r(A) = U_r S_r V_rᵀ</c> by Chebyshev-filtered subspace iteration on the
/// Gram matrix of A's short side (<see cref="GramSubspaceSvd"/>). The choice of its settings and their error on the
/// merge benchmark's matrices are in docs/truncated-svd.md.
/// </summary>
internal static class LowRank
{
    /// <summary>
    /// The rank-r factors of <paramref name="a"/> (m, n); each GEMM on at most <paramref name="maxThreads"/> threads
    /// (same result for any value).
    /// </summary>
    internal static LowRankFactors Compute(ReadOnlySpan<float> a, int m, int n, int r, CartSvdSettings settings, int maxThreads = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return GramSubspaceSvd.Compute(a, m, n, r, settings.Oversampling, settings.PowerIterations, settings.Seed,
            maxThreads: maxThreads, degree: settings.FilterDegree);
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
