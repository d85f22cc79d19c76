using System.Numerics;
using System.Runtime.InteropServices;
using MLNetMerge.Tensors;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// Row-major matrix multiply <c>C = alpha · op(A) · op(B) + beta · C</c> for the engine's element types:
/// float32 goes to <see cref="Gemm"/>; float64 (used by the finite-difference checks of every backward)
/// runs a plain loop with the same argument convention, so both types exercise the same call sequence.
/// </summary>
internal static class MatMul
{
    /// <summary>See <see cref="Gemm"/> for the argument convention; <paramref name="maxThreads"/> bounds float32's threads.</summary>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k, T alpha,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc, int maxThreads = int.MaxValue)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0) return;
        if (typeof(T) == typeof(float))
        {
            Gemm.Multiply(transA, transB, m, n, k, float.CreateTruncating(alpha),
                MemoryMarshal.Cast<T, float>(a), lda, MemoryMarshal.Cast<T, float>(b), ldb,
                float.CreateTruncating(beta), MemoryMarshal.Cast<T, float>(c), ldc, Math.Min(maxThreads, Environment.ProcessorCount));
            return;
        }
        for (int i = 0; i < m; i++)
        {
            var ci = c.Slice(i * ldc, n);
            if (beta == T.Zero) ci.Clear();
            else if (beta != T.One) for (int j = 0; j < n; j++) ci[j] *= beta;
            for (int j = 0; j < n; j++)
            {
                T s = T.Zero;
                for (int p = 0; p < k; p++)
                {
                    T av = transA ? a[p * lda + i] : a[i * lda + p];
                    T bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                    s += av * bv;
                }
                ci[j] += alpha * s;
            }
        }
    }
}
