using System.Numerics.Tensors;
using System.Runtime.Intrinsics.X86;

namespace MLNetMerge.Tensors;

/// <summary>
/// Single-precision general matrix multiply on row-major storage:
/// <c>C = alpha · op(A) · op(B) + beta · C</c>, with <c>op(A)</c> of shape (m, k), <c>op(B)</c> of shape (k, n), C of shape (m, n).
/// <c>op(X) = Xᵀ</c> when the matching trans flag is set. Leading dimensions are row strides.
/// </summary>
/// <remarks>
/// Large products are packed into cache-sized panels and run through a register-blocked fused-multiply-add
/// micro-kernel (AVX-512, else AVX2+FMA, else scalar), split statically over up to <c>maxThreads</c> threads
/// by rows or columns of C. Each element of C is always reduced in the same order along k (k-blocks of fixed
/// size, in increasing order, one FMA chain per block), so the result does not depend on the thread count.
/// Small products (and matrix–vector shapes) skip packing and run on the calling thread.
/// </remarks>
internal static class Gemm
{
    /// <summary>Products with at most this many multiply-adds (m·n·k) skip packing.</summary>
    internal const long DirectThreshold = 40L * 40 * 40;

    /// <summary>Products with fewer multiply-adds than this run on one thread.</summary>
    internal const long ParallelThreshold = 96L * 96 * 96;

    /// <summary>The fastest kernel path this processor supports.</summary>
    internal static GemmPath BestPath { get; } =
        Avx512F.IsSupported ? GemmPath.Avx512 : (Avx2.IsSupported && Fma.IsSupported ? GemmPath.Avx2 : GemmPath.Scalar);

    /// <summary>Computes <c>C = alpha · op(A) · op(B) + beta · C</c> on up to all logical processors.</summary>
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
    /// <exception cref="ArgumentException">A dimension is negative, a stride is shorter than its row, or a span is too short.</exception>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
        => MultiplyCore(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, Environment.ProcessorCount, BestPath);

    /// <summary>Computes <c>C = alpha · op(A) · op(B) + beta · C</c> on at most <paramref name="maxThreads"/> threads.</summary>
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
    /// <param name="maxThreads">Upper bound on threads (1 runs on the caller only). The result is the same for any value.</param>
    /// <exception cref="ArgumentException">A dimension is negative, a stride is shorter than its row, or a span is too short.</exception>
    public static void Multiply(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, int maxThreads)
        => MultiplyCore(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, maxThreads, BestPath);

    /// <summary>The single entry point every overload funnels into; <paramref name="path"/> is selectable for tests.</summary>
    internal static void MultiplyCore(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc,
        int maxThreads, GemmPath path)
        => MultiplyCore(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, maxThreads, path, default);

    /// <summary>
    /// <see cref="MultiplyCore(bool, bool, int, int, int, float, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, float, Span{float}, int, int, GemmPath)"/>
    /// followed by <paramref name="epilogue"/> on every element of C (bias, residual, activation; see <see cref="GemmEpilogue"/>),
    /// applied inside the packed product while each row panel of C is in cache. The caller keeps the epilogue's buffers
    /// (bias n, residual and output m × n with their strides) alive and pinned for the call. A packed product reads B from
    /// <paramref name="packedB"/> when given and made from this B for this path (same bits; a small product, which does not
    /// pack, reads <paramref name="b"/>).
    /// </summary>
    internal static unsafe void MultiplyCore(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc,
        int maxThreads, GemmPath path, in GemmEpilogue epilogue, PackedMatrix? packedB = null)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"GEMM dimensions must be non-negative, got m={m}, n={n}, k={k}.");
        if (maxThreads < 1) throw new ArgumentException($"maxThreads must be at least 1, got {maxThreads}.", nameof(maxThreads));
        if (m == 0 || n == 0) return;
        CheckOperand("C", c.Length, m, n, ldc);
        if (k == 0 || alpha == 0f)
        {
            ScaleC(m, n, beta, c, ldc);
            ApplyEpilogue(epilogue, m, n, c, ldc);
            return;
        }
        CheckOperand("A", a.Length, transA ? k : m, transA ? m : k, lda);
        CheckOperand("B", b.Length, transB ? n : k, transB ? k : n, ldb);

        if ((long)m * n * k <= DirectThreshold || m <= 2)
        {
            MultiplyDirect(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            ApplyEpilogue(epilogue, m, n, c, ldc);
            return;
        }
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            GemmDriver.Run(path, transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, maxThreads, epilogue, packedB);
        }
    }

    private static unsafe void ApplyEpilogue(in GemmEpilogue epilogue, int m, int n, Span<float> c, int ldc)
    {
        if (epilogue.IsEmpty) return;
        fixed (float* pc = c) epilogue.Apply(pc, ldc, 0, m, 0, n);
    }

    /// <summary>Throws unless a span of <paramref name="length"/> holds a (rows, cols) operand with row stride <paramref name="ld"/>.</summary>
    internal static void CheckOperand(string name, int length, int rows, int cols, int ld)
    {
        if (ld < cols) throw new ArgumentException($"GEMM operand {name}: row stride {ld} is shorter than its {cols} columns.");
        long needed = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
        if (length < needed) throw new ArgumentException($"GEMM operand {name}: ({rows}, {cols}) with row stride {ld} needs {needed} elements, the span has {length}.");
    }

    /// <summary>C = beta · C, with beta = 0 writing zeros whatever C held.</summary>
    private static void ScaleC(int m, int n, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var ci = c.Slice(i * ldc, n); // (n)
            if (beta == 0f) ci.Clear();
            else if (beta != 1f) TensorPrimitives.Multiply(ci, beta, ci);
        }
    }

    /// <summary>
    /// Unpacked product for small or matrix–vector shapes, on the calling thread.
    /// Without transB each row of C accumulates rows of B: <c>C[i,:] = beta·C[i,:] + Σ_p (alpha·op(A)[i,p]) · B[p,:]</c>;
    /// with transB each element is a dot product: <c>C[i,j] = alpha · op(A)[i,:]·B[j,:] + beta·C[i,j]</c>.
    /// </summary>
    private static void MultiplyDirect(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        float[]? rented = null;
        Span<float> rowA = k <= 1024 ? stackalloc float[k] : (rented = BufferPool<float>.Shared.Rent(k)).AsSpan(0, k); // (k)
        try
        {
            for (int i = 0; i < m; i++)
            {
                // rowA = op(A)[i, :]
                if (transA) for (int p = 0; p < k; p++) rowA[p] = a[p * lda + i];
                else a.Slice(i * lda, k).CopyTo(rowA);
                var ci = c.Slice(i * ldc, n); // (n)
                if (transB)
                {
                    for (int j = 0; j < n; j++)
                    {
                        float dot = alpha * TensorPrimitives.Dot(rowA, b.Slice(j * ldb, k));
                        ci[j] = beta == 0f ? dot : dot + beta * ci[j];
                    }
                }
                else
                {
                    if (beta == 0f) ci.Clear();
                    else if (beta != 1f) TensorPrimitives.Multiply(ci, beta, ci);
                    for (int p = 0; p < k; p++)
                        TensorPrimitives.MultiplyAdd(b.Slice(p * ldb, n), alpha * rowA[p], ci, ci);
                }
            }
        }
        finally
        {
            if (rented != null) BufferPool<float>.Shared.Return(rented);
        }
    }
}

/// <summary>Which micro-kernel family a product runs on.</summary>
internal enum GemmPath
{
    /// <summary>Plain scalar code, for processors without AVX2/FMA.</summary>
    Scalar,
    /// <summary>Vector256 FMA kernel.</summary>
    Avx2,
    /// <summary>Vector512 FMA kernel.</summary>
    Avx512,
}
