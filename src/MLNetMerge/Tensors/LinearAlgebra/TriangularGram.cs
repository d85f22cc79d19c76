namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// The symmetric product G = A Aᵀ (of A's rows) or Aᵀ A (of its columns) in float32 by GEMMs over the lower triangle
/// only: row block i of G against columns 0..end of block i (about half the products of a full GEMM for many blocks),
/// then mirrored. Every element is the same chain of products as in one full GEMM (the same k loop), so an element and
/// its mirror image have the same bits and the result is the full product's, whatever the block size — as long as every
/// block takes the packed path (a block of one or two rows, or under 40³ multiply-adds, is multiplied directly, in its own
/// order: still one fixed function of A and the block size).
/// </summary>
internal static class TriangularGram
{
    /// <summary>
    /// <paramref name="g"/> (k, k) = A Aᵀ when <paramref name="ofRows"/> (k = m), else Aᵀ A (k = n), for A (m, n) row-major.
    /// </summary>
    /// <param name="a">A (m, n).</param>
    /// <param name="m">Rows of A.</param>
    /// <param name="n">Columns of A.</param>
    /// <param name="ofRows">The Gram matrix of A's rows (A Aᵀ), else of its columns (Aᵀ A).</param>
    /// <param name="g">G (k, k), written whole.</param>
    /// <param name="block">Rows of G per GEMM call: a multiple of the tiles' row counts (6 and 12).</param>
    /// <param name="maxThreads">Threads each GEMM may use; the result is the same for any value.</param>
    internal static void Compute(ReadOnlySpan<float> a, int m, int n, bool ofRows, Span<float> g, int block, int maxThreads)
    {
        int k = ofRows ? m : n;
        // op(B) (A's rows as columns, or A itself) packed once: block row i reads its first i0 + rows columns, where each
        // block's own product would pack them again (about k / (2·block) times the packing in all, a quarter of a block's
        // time at CART's shapes). The same panels, so the same bits; with one block row, or a B past one slab (null), each
        // product packs its own as before.
        using var packed = k > block && (ofRows ? n : m) > 0 ? PackedMatrix.TryCreate(Gemm.BestPath, ofRows, a, n, k, ofRows ? n : m) : null;
        for (int i0 = 0; i0 < k; i0 += block)
        {
            int rows = Math.Min(block, k - i0), cols = i0 + rows;
            var dst = g[(i0 * k)..]; // (rows, cols) block row of G, row stride k
            if (ofRows) Gemm.MultiplyCore(false, true, rows, cols, n, 1f, a[(i0 * n)..], n, a, n, 0f, dst, k, maxThreads, Gemm.BestPath, default, packed);
            else Gemm.MultiplyCore(true, false, rows, cols, m, 1f, a[i0..], n, a, n, 0f, dst, k, maxThreads, Gemm.BestPath, default, packed);
        }
        for (int i = 0; i < k; i++)
            for (int j = i + 1; j < k; j++) g[i * k + j] = g[j * k + i];
    }
}
