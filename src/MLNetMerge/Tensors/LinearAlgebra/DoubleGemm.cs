using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Row-major float64 product <c>C = A B</c>, <c>C[i, j] = Σ_p A[i, p]·B[p, j]</c>, for the eigensolver's basis changes
/// (the divide-and-conquer merges and the back-transformation, sizes up to a few thousand). Eight rows of C (six with
/// 256-bit lanes, whose 16 registers hold no more) and two vectors of columns (16 with 512-bit lanes, 8 with 256-bit)
/// are held in 16 (12) accumulators while p runs through a block of <see cref="DepthBlock"/> — enough independent
/// chains to cover the fused multiply-add's latency on both of its ports; the rows left over go four, then one at a time.
/// The inner loops step one pointer through B's rows and index each row of A from its own pointer (index products in the
/// loop cost a dozen integer instructions per step), and from <see cref="PackRows"/> rows B's panel is first copied into
/// one contiguous buffer. Measured in one process on an Ice Lake core against the previous loops (AVX-512 / AVX2,
/// GFLOP/s): 768 × 768 × 32 (the back-transformation's update) 14.6 → 22.7 / 10.0 → 14.3, 768 × 32 × 768 26.7 → 33.0 /
/// 15.6 → 23.0, 384³ 27.3 → 43.6 / 20.8 → 33.6 (same bits). Each element is one FMA chain in increasing p whatever
/// the lane width or the block it falls in, so the result is the same bits on every instruction set (and equal to the
/// scalar <c>fma</c> loop).
/// </summary>
internal static class DoubleGemm
{
    /// <summary>Depth handled per pass: a 256 × 16 panel of B (32 KiB) stays in L1 while it serves every row block.</summary>
    internal const int DepthBlock = 256;

    /// <summary>
    /// Writes <c>A B</c> into <paramref name="c"/> (<paramref name="accumulate"/>: adds it, <c>C ← C + A B</c>, each
    /// element's chain starting from its old value): A (m, k) with row stride <paramref name="lda"/>, B (k, n) with
    /// <paramref name="ldb"/>, C (m, n) with <paramref name="ldc"/>. C must not overlap A or B.
    /// </summary>
    internal static void Multiply(int m, int n, int k, ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb, Span<double> c, int ldc, bool accumulate = false)
    {
        if (m == 0 || n == 0) return;
        Check("C", c.Length, m, n, ldc);
        if (!accumulate)
            for (int i = 0; i < m; i++) c.Slice(i * ldc, n).Clear();
        if (k == 0) return;
        Check("A", a.Length, m, k, lda);
        Check("B", b.Length, k, n, ldb);
        bool pack = m >= PackRows && n >= 8 && Vector256.IsHardwareAccelerated;
        double[] panel = pack ? BufferPool<double>.Shared.Rent(DepthBlock * 16) : []; // (depth, 16 or 8) B's panel, rows contiguous
        try
        {
            for (int p0 = 0; p0 < k; p0 += DepthBlock)
            {
                int depth = Math.Min(DepthBlock, k - p0);
                var ab = a.Slice(p0);
                var bb = b.Slice(p0 * ldb);
                int j = 0;
                if (Vector512.IsHardwareAccelerated)
                    for (; j + 16 <= n; j += 16)
                        if (pack) Panel512(m, 0, depth, ab, lda, Pack(bb, ldb, j, depth, 16, panel), 16, c.Slice(j), ldc);
                        else Panel512(m, j, depth, ab, lda, bb, ldb, c, ldc);
                if (Vector256.IsHardwareAccelerated)
                    for (; j + 8 <= n; j += 8)
                        if (pack) Panel256(m, 0, depth, ab, lda, Pack(bb, ldb, j, depth, 8, panel), 8, c.Slice(j), ldc);
                        else Panel256(m, j, depth, ab, lda, bb, ldb, c, ldc);
                if (j < n && Vector256.IsHardwareAccelerated && m >= TailRows) Tail(m, j, n - j, depth, ab, lda, bb, ldb, c, ldc);
                else
                    for (; j < n; j++)
                        for (int i = 0; i < m; i++)
                        {
                            double s = c[i * ldc + j];
                            for (int p = 0; p < depth; p++) s = Math.FusedMultiplyAdd(ab[i * lda + p], bb[p * ldb + j], s);
                            c[i * ldc + j] = s;
                        }
            }
        }
        finally
        {
            if (pack) BufferPool<double>.Shared.Return(panel);
        }
    }

    /// <summary>
    /// Row count from which B's panel (depth × 16 or 8) is copied into one contiguous buffer before the row blocks read it:
    /// in place, its rows are ldb apart, and at the eigensolver's strides (768 float64s = 1.5 × 4 KiB) the 256 rows of a
    /// panel fall into 2–4 of the L1 cache's 64 sets, so the panel that should stay in L1 for every row block is fetched
    /// from L2 again and again (`Gemm.Bench` measured 26–39 GFLOP/s at 768 × 768 × 32 and 768 × 32 × 768 in place on an
    /// Ice Lake core). One row block reads each row once, so it gains nothing from a copy.
    /// </summary>
    private const int PackRows = 96;

    /// <summary>Row count from which the last n mod 8 columns go through <see cref="Tail"/> rather than the scalar loop.</summary>
    private const int TailRows = 4;

    /// <summary>
    /// The last <paramref name="width"/> (&lt; 8) columns j … of C over one depth block, through <see cref="Panel256"/> on
    /// zero-padded copies: B's columns into a (depth, 8) panel, C's into an (m, 8) block that is copied back. Each element
    /// of C keeps its one FMA chain in increasing p from its old value, so the bits are those of the scalar loop, which
    /// at the eigensolver's arbitrary widths (the back-transformation's <c>n − c0</c>, the merges' halves) ran one
    /// latency-bound chain per element: 5–6 % of a 768² polar factor's time on an Ice Lake core.
    /// </summary>
    private static void Tail(int m, int j, int width, int depth, ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb, Span<double> c, int ldc)
    {
        var pool = BufferPool<double>.Shared;
        double[] panel = pool.Rent(depth * 8); // (depth, 8) B's last columns, zero beyond width
        double[] block = pool.Rent(m * 8);     // (m, 8) C's last columns
        try
        {
            for (int p = 0; p < depth; p++)
            {
                b.Slice(p * ldb + j, width).CopyTo(panel.AsSpan(p * 8, width));
                panel.AsSpan(p * 8 + width, 8 - width).Clear();
            }
            for (int i = 0; i < m; i++)
            {
                c.Slice(i * ldc + j, width).CopyTo(block.AsSpan(i * 8, width));
                block.AsSpan(i * 8 + width, 8 - width).Clear();
            }
            Panel256(m, 0, depth, a, lda, panel.AsSpan(0, depth * 8), 8, block.AsSpan(0, m * 8), 8);
            for (int i = 0; i < m; i++) block.AsSpan(i * 8, width).CopyTo(c.Slice(i * ldc + j, width));
        }
        finally
        {
            pool.Return(panel);
            pool.Return(block);
        }
    }

    /// <summary>Copies columns j … j + width − 1 of rows 0 … depth − 1 of B (row stride ldb) into <paramref name="panel"/> (depth, width).</summary>
    private static ReadOnlySpan<double> Pack(ReadOnlySpan<double> b, int ldb, int j, int depth, int width, double[] panel)
    {
        for (int p = 0; p < depth; p++) b.Slice(p * ldb + j, width).CopyTo(panel.AsSpan(p * width, width));
        return panel.AsSpan(0, depth * width);
    }

    /// <summary>Columns j..j+15 of every row of C, accumulated over one depth block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Panel512(int m, int j, int depth, ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb, Span<double> c, int ldc)
    {
        ref double ra = ref MemoryMarshal.GetReference(a);
        ref double rb = ref Unsafe.Add(ref MemoryMarshal.GetReference(b), j);
        ref double rc = ref Unsafe.Add(ref MemoryMarshal.GetReference(c), j);
        int i = 0;
        for (; i + 8 <= m; i += 8)
        {
            ref double c0 = ref Unsafe.Add(ref rc, i * ldc);
            ref double c1 = ref Unsafe.Add(ref c0, ldc);
            ref double c2 = ref Unsafe.Add(ref c1, ldc);
            ref double c3 = ref Unsafe.Add(ref c2, ldc);
            ref double c4 = ref Unsafe.Add(ref c3, ldc);
            ref double c5 = ref Unsafe.Add(ref c4, ldc);
            ref double c6 = ref Unsafe.Add(ref c5, ldc);
            ref double c7 = ref Unsafe.Add(ref c6, ldc);
            var s00 = Vector512.LoadUnsafe(ref c0); var s01 = Vector512.LoadUnsafe(ref c0, 8);
            var s10 = Vector512.LoadUnsafe(ref c1); var s11 = Vector512.LoadUnsafe(ref c1, 8);
            var s20 = Vector512.LoadUnsafe(ref c2); var s21 = Vector512.LoadUnsafe(ref c2, 8);
            var s30 = Vector512.LoadUnsafe(ref c3); var s31 = Vector512.LoadUnsafe(ref c3, 8);
            var s40 = Vector512.LoadUnsafe(ref c4); var s41 = Vector512.LoadUnsafe(ref c4, 8);
            var s50 = Vector512.LoadUnsafe(ref c5); var s51 = Vector512.LoadUnsafe(ref c5, 8);
            var s60 = Vector512.LoadUnsafe(ref c6); var s61 = Vector512.LoadUnsafe(ref c6, 8);
            var s70 = Vector512.LoadUnsafe(ref c7); var s71 = Vector512.LoadUnsafe(ref c7, 8);
            ref double a0 = ref Unsafe.Add(ref ra, i * lda);
            ref double a1 = ref Unsafe.Add(ref a0, lda);
            ref double a2 = ref Unsafe.Add(ref a1, lda);
            ref double a3 = ref Unsafe.Add(ref a2, lda);
            ref double a4 = ref Unsafe.Add(ref a3, lda);
            ref double a5 = ref Unsafe.Add(ref a4, lda);
            ref double a6 = ref Unsafe.Add(ref a5, lda);
            ref double a7 = ref Unsafe.Add(ref a6, lda);
            ref double br = ref rb; // row p of the panel
            for (nint p = 0; p < depth; p++)
            {
                var b0 = Vector512.LoadUnsafe(ref br);
                var b1 = Vector512.LoadUnsafe(ref br, 8);
                br = ref Unsafe.Add(ref br, ldb);
                var x0 = Vector512.Create(Unsafe.Add(ref a0, p));
                s00 = Vector512.FusedMultiplyAdd(x0, b0, s00); s01 = Vector512.FusedMultiplyAdd(x0, b1, s01);
                var x1 = Vector512.Create(Unsafe.Add(ref a1, p));
                s10 = Vector512.FusedMultiplyAdd(x1, b0, s10); s11 = Vector512.FusedMultiplyAdd(x1, b1, s11);
                var x2 = Vector512.Create(Unsafe.Add(ref a2, p));
                s20 = Vector512.FusedMultiplyAdd(x2, b0, s20); s21 = Vector512.FusedMultiplyAdd(x2, b1, s21);
                var x3 = Vector512.Create(Unsafe.Add(ref a3, p));
                s30 = Vector512.FusedMultiplyAdd(x3, b0, s30); s31 = Vector512.FusedMultiplyAdd(x3, b1, s31);
                var x4 = Vector512.Create(Unsafe.Add(ref a4, p));
                s40 = Vector512.FusedMultiplyAdd(x4, b0, s40); s41 = Vector512.FusedMultiplyAdd(x4, b1, s41);
                var x5 = Vector512.Create(Unsafe.Add(ref a5, p));
                s50 = Vector512.FusedMultiplyAdd(x5, b0, s50); s51 = Vector512.FusedMultiplyAdd(x5, b1, s51);
                var x6 = Vector512.Create(Unsafe.Add(ref a6, p));
                s60 = Vector512.FusedMultiplyAdd(x6, b0, s60); s61 = Vector512.FusedMultiplyAdd(x6, b1, s61);
                var x7 = Vector512.Create(Unsafe.Add(ref a7, p));
                s70 = Vector512.FusedMultiplyAdd(x7, b0, s70); s71 = Vector512.FusedMultiplyAdd(x7, b1, s71);
            }
            s00.StoreUnsafe(ref c0); s01.StoreUnsafe(ref c0, 8);
            s10.StoreUnsafe(ref c1); s11.StoreUnsafe(ref c1, 8);
            s20.StoreUnsafe(ref c2); s21.StoreUnsafe(ref c2, 8);
            s30.StoreUnsafe(ref c3); s31.StoreUnsafe(ref c3, 8);
            s40.StoreUnsafe(ref c4); s41.StoreUnsafe(ref c4, 8);
            s50.StoreUnsafe(ref c5); s51.StoreUnsafe(ref c5, 8);
            s60.StoreUnsafe(ref c6); s61.StoreUnsafe(ref c6, 8);
            s70.StoreUnsafe(ref c7); s71.StoreUnsafe(ref c7, 8);
        }
        for (; i + 4 <= m; i += 4)
        {
            ref double c0 = ref Unsafe.Add(ref rc, i * ldc);
            ref double c1 = ref Unsafe.Add(ref c0, ldc);
            ref double c2 = ref Unsafe.Add(ref c1, ldc);
            ref double c3 = ref Unsafe.Add(ref c2, ldc);
            var s00 = Vector512.LoadUnsafe(ref c0); var s01 = Vector512.LoadUnsafe(ref c0, 8);
            var s10 = Vector512.LoadUnsafe(ref c1); var s11 = Vector512.LoadUnsafe(ref c1, 8);
            var s20 = Vector512.LoadUnsafe(ref c2); var s21 = Vector512.LoadUnsafe(ref c2, 8);
            var s30 = Vector512.LoadUnsafe(ref c3); var s31 = Vector512.LoadUnsafe(ref c3, 8);
            ref double a0 = ref Unsafe.Add(ref ra, i * lda);
            ref double a1 = ref Unsafe.Add(ref a0, lda);
            ref double a2 = ref Unsafe.Add(ref a1, lda);
            ref double a3 = ref Unsafe.Add(ref a2, lda);
            ref double br = ref rb; // row p of the panel
            for (nint p = 0; p < depth; p++)
            {
                var b0 = Vector512.LoadUnsafe(ref br);
                var b1 = Vector512.LoadUnsafe(ref br, 8);
                br = ref Unsafe.Add(ref br, ldb);
                var x0 = Vector512.Create(Unsafe.Add(ref a0, p));
                s00 = Vector512.FusedMultiplyAdd(x0, b0, s00); s01 = Vector512.FusedMultiplyAdd(x0, b1, s01);
                var x1 = Vector512.Create(Unsafe.Add(ref a1, p));
                s10 = Vector512.FusedMultiplyAdd(x1, b0, s10); s11 = Vector512.FusedMultiplyAdd(x1, b1, s11);
                var x2 = Vector512.Create(Unsafe.Add(ref a2, p));
                s20 = Vector512.FusedMultiplyAdd(x2, b0, s20); s21 = Vector512.FusedMultiplyAdd(x2, b1, s21);
                var x3 = Vector512.Create(Unsafe.Add(ref a3, p));
                s30 = Vector512.FusedMultiplyAdd(x3, b0, s30); s31 = Vector512.FusedMultiplyAdd(x3, b1, s31);
            }
            s00.StoreUnsafe(ref c0); s01.StoreUnsafe(ref c0, 8);
            s10.StoreUnsafe(ref c1); s11.StoreUnsafe(ref c1, 8);
            s20.StoreUnsafe(ref c2); s21.StoreUnsafe(ref c2, 8);
            s30.StoreUnsafe(ref c3); s31.StoreUnsafe(ref c3, 8);
        }
        for (; i < m; i++)
        {
            ref double c0 = ref Unsafe.Add(ref rc, i * ldc);
            var s0 = Vector512.LoadUnsafe(ref c0);
            var s1 = Vector512.LoadUnsafe(ref c0, 8);
            ref double a0 = ref Unsafe.Add(ref ra, i * lda);
            ref double br = ref rb; // row p of the panel
            for (nint p = 0; p < depth; p++)
            {
                var x = Vector512.Create(Unsafe.Add(ref a0, p));
                s0 = Vector512.FusedMultiplyAdd(x, Vector512.LoadUnsafe(ref br), s0);
                s1 = Vector512.FusedMultiplyAdd(x, Vector512.LoadUnsafe(ref br, 8), s1);
                br = ref Unsafe.Add(ref br, ldb);
            }
            s0.StoreUnsafe(ref c0);
            s1.StoreUnsafe(ref c0, 8);
        }
    }

    /// <summary>Columns j..j+7 of every row of C, accumulated over one depth block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Panel256(int m, int j, int depth, ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb, Span<double> c, int ldc)
    {
        ref double ra = ref MemoryMarshal.GetReference(a);
        ref double rb = ref Unsafe.Add(ref MemoryMarshal.GetReference(b), j);
        ref double rc = ref Unsafe.Add(ref MemoryMarshal.GetReference(c), j);
        int i = 0;
        for (; i + 6 <= m; i += 6)
        {
            ref double c0 = ref Unsafe.Add(ref rc, i * ldc);
            ref double c1 = ref Unsafe.Add(ref c0, ldc);
            ref double c2 = ref Unsafe.Add(ref c1, ldc);
            ref double c3 = ref Unsafe.Add(ref c2, ldc);
            ref double c4 = ref Unsafe.Add(ref c3, ldc);
            ref double c5 = ref Unsafe.Add(ref c4, ldc);
            var s00 = Vector256.LoadUnsafe(ref c0); var s01 = Vector256.LoadUnsafe(ref c0, 4);
            var s10 = Vector256.LoadUnsafe(ref c1); var s11 = Vector256.LoadUnsafe(ref c1, 4);
            var s20 = Vector256.LoadUnsafe(ref c2); var s21 = Vector256.LoadUnsafe(ref c2, 4);
            var s30 = Vector256.LoadUnsafe(ref c3); var s31 = Vector256.LoadUnsafe(ref c3, 4);
            var s40 = Vector256.LoadUnsafe(ref c4); var s41 = Vector256.LoadUnsafe(ref c4, 4);
            var s50 = Vector256.LoadUnsafe(ref c5); var s51 = Vector256.LoadUnsafe(ref c5, 4);
            ref double a0 = ref Unsafe.Add(ref ra, i * lda);
            ref double a1 = ref Unsafe.Add(ref a0, lda);
            ref double a2 = ref Unsafe.Add(ref a1, lda);
            ref double a3 = ref Unsafe.Add(ref a2, lda);
            ref double a4 = ref Unsafe.Add(ref a3, lda);
            ref double a5 = ref Unsafe.Add(ref a4, lda);
            ref double br = ref rb; // row p of the panel
            for (nint p = 0; p < depth; p++)
            {
                var b0 = Vector256.LoadUnsafe(ref br);
                var b1 = Vector256.LoadUnsafe(ref br, 4);
                br = ref Unsafe.Add(ref br, ldb);
                var x0 = Vector256.Create(Unsafe.Add(ref a0, p));
                s00 = Vector256.FusedMultiplyAdd(x0, b0, s00); s01 = Vector256.FusedMultiplyAdd(x0, b1, s01);
                var x1 = Vector256.Create(Unsafe.Add(ref a1, p));
                s10 = Vector256.FusedMultiplyAdd(x1, b0, s10); s11 = Vector256.FusedMultiplyAdd(x1, b1, s11);
                var x2 = Vector256.Create(Unsafe.Add(ref a2, p));
                s20 = Vector256.FusedMultiplyAdd(x2, b0, s20); s21 = Vector256.FusedMultiplyAdd(x2, b1, s21);
                var x3 = Vector256.Create(Unsafe.Add(ref a3, p));
                s30 = Vector256.FusedMultiplyAdd(x3, b0, s30); s31 = Vector256.FusedMultiplyAdd(x3, b1, s31);
                var x4 = Vector256.Create(Unsafe.Add(ref a4, p));
                s40 = Vector256.FusedMultiplyAdd(x4, b0, s40); s41 = Vector256.FusedMultiplyAdd(x4, b1, s41);
                var x5 = Vector256.Create(Unsafe.Add(ref a5, p));
                s50 = Vector256.FusedMultiplyAdd(x5, b0, s50); s51 = Vector256.FusedMultiplyAdd(x5, b1, s51);
            }
            s00.StoreUnsafe(ref c0); s01.StoreUnsafe(ref c0, 4);
            s10.StoreUnsafe(ref c1); s11.StoreUnsafe(ref c1, 4);
            s20.StoreUnsafe(ref c2); s21.StoreUnsafe(ref c2, 4);
            s30.StoreUnsafe(ref c3); s31.StoreUnsafe(ref c3, 4);
            s40.StoreUnsafe(ref c4); s41.StoreUnsafe(ref c4, 4);
            s50.StoreUnsafe(ref c5); s51.StoreUnsafe(ref c5, 4);
        }
        for (; i + 4 <= m; i += 4)
        {
            ref double c0 = ref Unsafe.Add(ref rc, i * ldc);
            ref double c1 = ref Unsafe.Add(ref c0, ldc);
            ref double c2 = ref Unsafe.Add(ref c1, ldc);
            ref double c3 = ref Unsafe.Add(ref c2, ldc);
            var s00 = Vector256.LoadUnsafe(ref c0); var s01 = Vector256.LoadUnsafe(ref c0, 4);
            var s10 = Vector256.LoadUnsafe(ref c1); var s11 = Vector256.LoadUnsafe(ref c1, 4);
            var s20 = Vector256.LoadUnsafe(ref c2); var s21 = Vector256.LoadUnsafe(ref c2, 4);
            var s30 = Vector256.LoadUnsafe(ref c3); var s31 = Vector256.LoadUnsafe(ref c3, 4);
            ref double a0 = ref Unsafe.Add(ref ra, i * lda);
            ref double a1 = ref Unsafe.Add(ref a0, lda);
            ref double a2 = ref Unsafe.Add(ref a1, lda);
            ref double a3 = ref Unsafe.Add(ref a2, lda);
            ref double br = ref rb; // row p of the panel
            for (nint p = 0; p < depth; p++)
            {
                var b0 = Vector256.LoadUnsafe(ref br);
                var b1 = Vector256.LoadUnsafe(ref br, 4);
                br = ref Unsafe.Add(ref br, ldb);
                var x0 = Vector256.Create(Unsafe.Add(ref a0, p));
                s00 = Vector256.FusedMultiplyAdd(x0, b0, s00); s01 = Vector256.FusedMultiplyAdd(x0, b1, s01);
                var x1 = Vector256.Create(Unsafe.Add(ref a1, p));
                s10 = Vector256.FusedMultiplyAdd(x1, b0, s10); s11 = Vector256.FusedMultiplyAdd(x1, b1, s11);
                var x2 = Vector256.Create(Unsafe.Add(ref a2, p));
                s20 = Vector256.FusedMultiplyAdd(x2, b0, s20); s21 = Vector256.FusedMultiplyAdd(x2, b1, s21);
                var x3 = Vector256.Create(Unsafe.Add(ref a3, p));
                s30 = Vector256.FusedMultiplyAdd(x3, b0, s30); s31 = Vector256.FusedMultiplyAdd(x3, b1, s31);
            }
            s00.StoreUnsafe(ref c0); s01.StoreUnsafe(ref c0, 4);
            s10.StoreUnsafe(ref c1); s11.StoreUnsafe(ref c1, 4);
            s20.StoreUnsafe(ref c2); s21.StoreUnsafe(ref c2, 4);
            s30.StoreUnsafe(ref c3); s31.StoreUnsafe(ref c3, 4);
        }
        for (; i < m; i++)
        {
            ref double c0 = ref Unsafe.Add(ref rc, i * ldc);
            var s0 = Vector256.LoadUnsafe(ref c0);
            var s1 = Vector256.LoadUnsafe(ref c0, 4);
            ref double a0 = ref Unsafe.Add(ref ra, i * lda);
            ref double br = ref rb; // row p of the panel
            for (nint p = 0; p < depth; p++)
            {
                var x = Vector256.Create(Unsafe.Add(ref a0, p));
                s0 = Vector256.FusedMultiplyAdd(x, Vector256.LoadUnsafe(ref br), s0);
                s1 = Vector256.FusedMultiplyAdd(x, Vector256.LoadUnsafe(ref br, 4), s1);
                br = ref Unsafe.Add(ref br, ldb);
            }
            s0.StoreUnsafe(ref c0);
            s1.StoreUnsafe(ref c0, 4);
        }
    }

    private static void Check(string what, int length, int rows, int cols, int stride)
    {
        if (rows < 0 || cols < 0 || stride < cols)
            throw new ArgumentException($"DoubleGemm {what}: ({rows}, {cols}) with row stride {stride} is not a valid layout.");
        if (rows > 0 && cols > 0 && length < (long)(rows - 1) * stride + cols)
            throw new ArgumentException($"DoubleGemm {what}: a ({rows}, {cols}) matrix with row stride {stride} needs {(long)(rows - 1) * stride + cols} elements, the span has {length}.");
    }
}
