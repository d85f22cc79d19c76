namespace MLNetMerge.Tensors;

/// <summary>
/// Single-precision general matrix multiply on row-major storage:
/// <c>C = alpha · op(A) · op(B) + beta · C</c>, with <c>op(A)</c> of shape (m, k), <c>op(B)</c> of shape (k, n), C of shape (m, n).
/// <c>op(X) = Xᵀ</c> when the matching trans flag is set. Leading dimensions are row strides.
/// </summary>
public static class Gemm
{
    /// <summary>Computes <c>C = alpha · op(A) · op(B) + beta · C</c>.</summary>
    /// <param name="transA">Use Aᵀ: A is stored (k, m) with row stride <paramref name="lda"/>.</param>
    /// <param name="transB">Use Bᵀ: B is stored (n, k) with row stride <paramref name="ldb"/>.</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="k">Inner dimension.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">A's storage.</param>
    /// <param name="lda">A's row stride.</param>
    /// <param name="b">B's storage.</param>
    /// <param name="ldb">B's row stride.</param>
    /// <param name="beta">Scale of C's previous contents (0 ignores them, NaN included).</param>
    /// <param name="c">C's storage.</param>
    /// <param name="ldc">C's row stride.</param>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var ci = c.Slice(i * ldc, n);
            if (beta == 0f) ci.Clear();
            else if (beta != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(ci, beta, ci);
            for (int j = 0; j < n; j++)
            {
                float s = 0f;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[p * lda + i] : a[i * lda + p];
                    float bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                    s += av * bv;
                }
                ci[j] += alpha * s;
            }
        }
    }
}
