using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using System.Runtime.Intrinsics;

namespace MLNetMerge.Tensors;

/// <summary>
/// Packs blocks of op(A) and op(B) into the contiguous micro-panels the GEMM micro-kernels stream through.
/// The transpose flags are absorbed here, so every kernel sees one layout:
/// A block (mc, kc) → ⌈mc/mr⌉ panels of (kc, mr), element (p, r) at <c>panel · kc · mr + p · mr + r</c>;
/// B block (kc, nc) → ⌈nc/nr⌉ panels of (kc, nr), element (p, j) at <c>panel · kc · nr + p · nr + j</c>.
/// Rows or columns past the block edge are packed as zeros, so edge tiles run the same kernel.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs op(A)[i0 .. i0+mc, p0 .. p0+kc] into <paramref name="dst"/> (⌈mc/mr⌉ · kc · mr floats).
    /// op(A)[i, p] = A[i · lda + p], or A[p · lda + i] when <paramref name="transA"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackA(bool transA, float* a, int lda, int i0, int p0, int mc, int kc, int mr, float* dst)
    {
        for (int r0 = 0; r0 < mc; r0 += mr)
        {
            int rows = Math.Min(mr, mc - r0);
            float* panel = dst + (long)r0 * kc; // (kc, mr)
            if (transA)
            {
                // A stored (k, m): each p gives `rows` contiguous values.
                float* src = a + (long)p0 * lda + i0 + r0;
                if (rows == mr && mr == 12 && Vector256.IsHardwareAccelerated)
                {
                    for (int p = 0; p < kc; p++)
                    {
                        float* s = src + (long)p * lda;
                        float* d = panel + p * 12;
                        Vector256.Store(Vector256.Load(s), d);
                        Vector128.Store(Vector128.Load(s + 8), d + 8);
                    }
                    continue;
                }
                if (rows == mr && mr == 6 && Vector128.IsHardwareAccelerated)
                {
                    for (int p = 0; p < kc; p++)
                    {
                        float* s = src + (long)p * lda;
                        float* d = panel + p * 6;
                        Vector128.Store(Vector128.Load(s), d);
                        *(long*)(d + 4) = *(long*)(s + 4);
                    }
                    continue;
                }
                for (int p = 0; p < kc; p++)
                {
                    float* s = src + (long)p * lda;
                    float* d = panel + p * mr;
                    int r = 0;
                    for (; r < rows; r++) d[r] = s[r];
                    for (; r < mr; r++) d[r] = 0f;
                }
            }
            else if (rows == mr && mr % 4 == 0 && Avx.IsSupported)
            {
                // A stored (m, k), full panel: transpose 8×8 (and 4×4) blocks of rows into the interleaved layout.
                float* src = a + (long)(i0 + r0) * lda + p0;
                int r = 0;
                for (; r + 8 <= mr; r += 8) Transpose8Columns(src + (long)r * lda, lda, kc, panel + r, mr);
                for (; r + 4 <= mr; r += 4) Transpose4Columns(src + (long)r * lda, lda, kc, panel + r, mr);
            }
            else if (rows == mr && mr == 6 && Avx.IsSupported)
            {
                // The AVX2 tile's 6-row panel: 8×8 transposes of the 6 rows (two padding rows repeat row 5), each
                // 8-wide store spilling 2 lanes into the next row of the panel, which the next store overwrites.
                Transpose6Columns(a + (long)(i0 + r0) * lda + p0, lda, kc, panel);
            }
            else
            {
                // A stored (m, k): read `rows` row streams, interleave them.
                for (int r = 0; r < rows; r++)
                {
                    float* s = a + (long)(i0 + r0 + r) * lda + p0;
                    float* d = panel + r;
                    for (int p = 0; p < kc; p++) d[p * mr] = s[p];
                }
                for (int r = rows; r < mr; r++)
                {
                    float* d = panel + r;
                    for (int p = 0; p < kc; p++) d[p * mr] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// Packs op(B)[p0 .. p0+kc, j0 .. j0+nc] into <paramref name="dst"/> (⌈nc/nr⌉ · kc · nr floats).
    /// op(B)[p, j] = B[p · ldb + j], or B[j · ldb + p] when <paramref name="transB"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackB(bool transB, float* b, int ldb, int p0, int j0, int kc, int nc, int nr, float* dst)
    {
        for (int c0 = 0; c0 < nc; c0 += nr)
        {
            int cols = Math.Min(nr, nc - c0);
            float* panel = dst + (long)c0 * kc; // (kc, nr)
            if (!transB)
            {
                // B stored (k, n): each p gives `cols` contiguous values.
                float* src = b + (long)p0 * ldb + j0 + c0;
                if (cols == nr && nr % 16 == 0 && Vector512.IsHardwareAccelerated)
                {
                    for (int p = 0; p < kc; p++)
                    {
                        float* s = src + (long)p * ldb;
                        float* d = panel + p * nr;
                        for (int j = 0; j < nr; j += 16) Vector512.Store(Vector512.Load(s + j), d + j);
                    }
                    continue;
                }
                if (cols == nr && nr % 8 == 0 && Vector256.IsHardwareAccelerated)
                {
                    for (int p = 0; p < kc; p++)
                    {
                        float* s = src + (long)p * ldb;
                        float* d = panel + p * nr;
                        for (int j = 0; j < nr; j += 8) Vector256.Store(Vector256.Load(s + j), d + j);
                    }
                    continue;
                }
                for (int p = 0; p < kc; p++)
                {
                    float* s = src + (long)p * ldb;
                    float* d = panel + p * nr;
                    int j = 0;
                    for (; j < cols; j++) d[j] = s[j];
                    for (; j < nr; j++) d[j] = 0f;
                }
            }
            else
            {
                // B stored (n, k): column j of the panel is a contiguous row of B; transpose 8 columns at a time.
                int j = 0;
                for (; j + 8 <= cols; j += 8) Transpose8Columns(b + (long)(j0 + c0 + j) * ldb + p0, ldb, kc, panel + j, nr);
                for (; j < cols; j++)
                {
                    float* s = b + (long)(j0 + c0 + j) * ldb + p0;
                    float* d = panel + j;
                    for (int p = 0; p < kc; p++) d[p * nr] = s[p];
                }
                for (; j < nr; j++)
                {
                    float* d = panel + j;
                    for (int p = 0; p < kc; p++) d[p * nr] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// dst[p · ldd + j] = src[j · lds + p] for j in 0..8, p in 0..kc: eight source rows become eight
    /// destination columns, read in 8×8 blocks through Vector256 shuffles.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Transpose8Columns(float* src, int lds, int kc, float* dst, int ldd)
    {
        int p = 0;
        if (Vector256.IsHardwareAccelerated && Avx.IsSupported)
        {
            for (; p + 8 <= kc; p += 8)
            {
                var r0 = Vector256.Load(src + p);
                var r1 = Vector256.Load(src + lds + p);
                var r2 = Vector256.Load(src + 2L * lds + p);
                var r3 = Vector256.Load(src + 3L * lds + p);
                var r4 = Vector256.Load(src + 4L * lds + p);
                var r5 = Vector256.Load(src + 5L * lds + p);
                var r6 = Vector256.Load(src + 6L * lds + p);
                var r7 = Vector256.Load(src + 7L * lds + p);
                Transpose8x8(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
                float* d = dst + (long)p * ldd;
                r0.Store(d); r1.Store(d + ldd); r2.Store(d + 2 * ldd); r3.Store(d + 3 * ldd);
                r4.Store(d + 4 * ldd); r5.Store(d + 5 * ldd); r6.Store(d + 6 * ldd); r7.Store(d + 7 * ldd);
            }
        }
        for (; p < kc; p++)
        {
            float* d = dst + (long)p * ldd;
            for (int j = 0; j < 8; j++) d[j] = src[(long)j * lds + p];
        }
    }

    /// <summary>
    /// dst[p · 6 + j] = src[j · lds + p] for j in 0..6, p in 0..kc (a 6-row A panel): 8×8 transposes whose rows 6 and 7
    /// repeat row 5; the store of p writes 8 lanes, the last 2 landing on p + 1's first two, which p + 1's store then
    /// overwrites. The final p of the block writes the scalar way, so nothing past the panel is touched.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose6Columns(float* src, int lds, int kc, float* dst)
    {
        const int ldd = 6;
        int p = 0;
        for (; p + 8 < kc; p += 8)
        {
            var r0 = Vector256.Load(src + p);
            var r1 = Vector256.Load(src + lds + p);
            var r2 = Vector256.Load(src + 2L * lds + p);
            var r3 = Vector256.Load(src + 3L * lds + p);
            var r4 = Vector256.Load(src + 4L * lds + p);
            var r5 = Vector256.Load(src + 5L * lds + p);
            var r6 = r5;
            var r7 = r5;
            Transpose8x8(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
            float* d = dst + (long)p * ldd;
            r0.Store(d); r1.Store(d + ldd); r2.Store(d + 2 * ldd); r3.Store(d + 3 * ldd);
            r4.Store(d + 4 * ldd); r5.Store(d + 5 * ldd); r6.Store(d + 6 * ldd); r7.Store(d + 7 * ldd);
        }
        for (; p < kc; p++)
        {
            float* d = dst + (long)p * ldd;
            for (int j = 0; j < 6; j++) d[j] = src[(long)j * lds + p];
        }
    }

    /// <summary>dst[p · ldd + j] = src[j · lds + p] for j in 0..4, p in 0..kc, through 4×4 Vector128 transposes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose4Columns(float* src, int lds, int kc, float* dst, int ldd)
    {
        int p = 0;
        for (; p + 4 <= kc; p += 4)
        {
            var r0 = Vector128.Load(src + p);
            var r1 = Vector128.Load(src + lds + p);
            var r2 = Vector128.Load(src + 2L * lds + p);
            var r3 = Vector128.Load(src + 3L * lds + p);
            var t0 = Sse.UnpackLow(r0, r1);   // a0 b0 a1 b1
            var t1 = Sse.UnpackHigh(r0, r1);  // a2 b2 a3 b3
            var t2 = Sse.UnpackLow(r2, r3);   // c0 d0 c1 d1
            var t3 = Sse.UnpackHigh(r2, r3);  // c2 d2 c3 d3
            float* d = dst + (long)p * ldd;
            Sse.MoveLowToHigh(t0, t2).Store(d);            // a0 b0 c0 d0
            Sse.MoveHighToLow(t2, t0).Store(d + ldd);      // a1 b1 c1 d1
            Sse.MoveLowToHigh(t1, t3).Store(d + 2 * ldd);  // a2 b2 c2 d2
            Sse.MoveHighToLow(t3, t1).Store(d + 3 * ldd);  // a3 b3 c3 d3
        }
        for (; p < kc; p++)
        {
            float* d = dst + (long)p * ldd;
            for (int j = 0; j < 4; j++) d[j] = src[(long)j * lds + p];
        }
    }

    /// <summary>In-register 8×8 transpose: on return r_i holds the former column i. Inlined: as a call, its eight
    /// vectors went through memory both ways (packing a transposed 768 × 3072 B: 5.4–8 GB/s as a call, 9–11 inlined).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(ref Vector256<float> r0, ref Vector256<float> r1, ref Vector256<float> r2, ref Vector256<float> r3,
        ref Vector256<float> r4, ref Vector256<float> r5, ref Vector256<float> r6, ref Vector256<float> r7)
    {
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var s0 = Avx.Shuffle(t0, t2, 0x44);
        var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44);
        var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44);
        var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44);
        var s7 = Avx.Shuffle(t5, t7, 0xEE);
        r0 = Avx.Permute2x128(s0, s4, 0x20);
        r1 = Avx.Permute2x128(s1, s5, 0x20);
        r2 = Avx.Permute2x128(s2, s6, 0x20);
        r3 = Avx.Permute2x128(s3, s7, 0x20);
        r4 = Avx.Permute2x128(s0, s4, 0x31);
        r5 = Avx.Permute2x128(s1, s5, 0x31);
        r6 = Avx.Permute2x128(s2, s6, 0x31);
        r7 = Avx.Permute2x128(s3, s7, 0x31);
    }
}
