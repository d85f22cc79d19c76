using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MLNetMerge.Tensors;

/// <summary>
/// Register-blocked GEMM micro-kernels over packed panels (see <see cref="GemmPacking"/>) or operands read where they
/// lie (strided: the tiles' aRow, aStep and bStep): for one MR×NR tile of C, <c>acc[r, j] = Σ_p A[p, r] · B[p, j]</c>
/// with one fused multiply-add per (p, r, j) in increasing p, then <c>C = alpha · acc + beta · C</c>. The accumulators
/// live in registers for the whole k-block. Each tile has two k loops of the same arithmetic: one for A's values of a
/// step side by side (a packed panel, or a transposed A in place: one pointer) and one for A's rows in place (four
/// pointers, rows l apart); one loop for both cost the 12×32 tile a register spill per step. Written out by hand (no loops over r or j) so the JIT keeps every accumulator in a register.
/// </summary>
internal static class GemmKernels
{
    /// <summary>Rows of the AVX-512 tile.</summary>
    internal const int Avx512Mr = 12;
    /// <summary>Columns of the AVX-512 tile (two 16-lane vectors).</summary>
    internal const int Avx512Nr = 32;
    /// <summary>Rows of the AVX2 tile.</summary>
    internal const int Avx2Mr = 6;
    /// <summary>Columns of the AVX2 tile (two 8-lane vectors).</summary>
    internal const int Avx2Nr = 16;

    /// <summary>
    /// 12×32 tile: <c>C = alpha · A · B + beta · C</c> (C read only when <paramref name="loadC"/>). Element (p, r) of A is at
    /// <c>ap[p · aStep + r · aRow]</c>: a packed (kc, 12) panel has aRow 1 and aStep 12, a transposed A read in place aRow 1
    /// and aStep lda, a row-major A read in place aRow lda and aStep 1. B's 32 values of step p are at <c>bp + p · bStep</c>:
    /// 32 for a packed panel, ldb for a row-major B read in place. Every layout gives the same products in the same order,
    /// so the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void Avx512Tile(int kc, float* ap, int aRow, int aStep, float* bp, int bStep, float* c, int ldc, float alpha, float beta, bool loadC)
    {
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero; var c4_1 = Vector512<float>.Zero;
        var c5_0 = Vector512<float>.Zero; var c5_1 = Vector512<float>.Zero;
        var c6_0 = Vector512<float>.Zero; var c6_1 = Vector512<float>.Zero;
        var c7_0 = Vector512<float>.Zero; var c7_1 = Vector512<float>.Zero;
        var c8_0 = Vector512<float>.Zero; var c8_1 = Vector512<float>.Zero;
        var c9_0 = Vector512<float>.Zero; var c9_1 = Vector512<float>.Zero;
        var c10_0 = Vector512<float>.Zero; var c10_1 = Vector512<float>.Zero;
        var c11_0 = Vector512<float>.Zero; var c11_1 = Vector512<float>.Zero;
        // B is read once per tile, 128 bytes a step: ask for the lines four steps ahead, which the hardware prefetchers
        // alone left late on an Ice Lake core (tile 5–12 % faster there, B in L2 or beyond).
        nint bs = bStep, pf = 4 * bs;
        if (aRow == 1)
        {
            nint step = aStep;
            for (int p = 0; p < kc; p++)
            {
                Sse.Prefetch0(bp + pf);
                Sse.Prefetch0(bp + pf + 16);
                var b0 = Vector512.Load(bp + 0);
                var b1 = Vector512.Load(bp + 16);
                var a0 = Vector512.Create(ap[0]);
                c0_0 = Avx512F.FusedMultiplyAdd(a0, b0, c0_0);
                c0_1 = Avx512F.FusedMultiplyAdd(a0, b1, c0_1);
                var a1 = Vector512.Create(ap[1]);
                c1_0 = Avx512F.FusedMultiplyAdd(a1, b0, c1_0);
                c1_1 = Avx512F.FusedMultiplyAdd(a1, b1, c1_1);
                var a2 = Vector512.Create(ap[2]);
                c2_0 = Avx512F.FusedMultiplyAdd(a2, b0, c2_0);
                c2_1 = Avx512F.FusedMultiplyAdd(a2, b1, c2_1);
                var a3 = Vector512.Create(ap[3]);
                c3_0 = Avx512F.FusedMultiplyAdd(a3, b0, c3_0);
                c3_1 = Avx512F.FusedMultiplyAdd(a3, b1, c3_1);
                var a4 = Vector512.Create(ap[4]);
                c4_0 = Avx512F.FusedMultiplyAdd(a4, b0, c4_0);
                c4_1 = Avx512F.FusedMultiplyAdd(a4, b1, c4_1);
                var a5 = Vector512.Create(ap[5]);
                c5_0 = Avx512F.FusedMultiplyAdd(a5, b0, c5_0);
                c5_1 = Avx512F.FusedMultiplyAdd(a5, b1, c5_1);
                var a6 = Vector512.Create(ap[6]);
                c6_0 = Avx512F.FusedMultiplyAdd(a6, b0, c6_0);
                c6_1 = Avx512F.FusedMultiplyAdd(a6, b1, c6_1);
                var a7 = Vector512.Create(ap[7]);
                c7_0 = Avx512F.FusedMultiplyAdd(a7, b0, c7_0);
                c7_1 = Avx512F.FusedMultiplyAdd(a7, b1, c7_1);
                var a8 = Vector512.Create(ap[8]);
                c8_0 = Avx512F.FusedMultiplyAdd(a8, b0, c8_0);
                c8_1 = Avx512F.FusedMultiplyAdd(a8, b1, c8_1);
                var a9 = Vector512.Create(ap[9]);
                c9_0 = Avx512F.FusedMultiplyAdd(a9, b0, c9_0);
                c9_1 = Avx512F.FusedMultiplyAdd(a9, b1, c9_1);
                var a10 = Vector512.Create(ap[10]);
                c10_0 = Avx512F.FusedMultiplyAdd(a10, b0, c10_0);
                c10_1 = Avx512F.FusedMultiplyAdd(a10, b1, c10_1);
                var a11 = Vector512.Create(ap[11]);
                c11_0 = Avx512F.FusedMultiplyAdd(a11, b0, c11_0);
                c11_1 = Avx512F.FusedMultiplyAdd(a11, b1, c11_1);
                ap += step;
                bp += bs;
            }
        }
        else
        {
            // Rows r0 + {0, l, 2l}, r3 + …, r6 + …, r9 + …: four pointers and two strides, so no row address is recomputed.
            nint l = aRow, l2 = 2 * (nint)aRow;
            float* r0 = ap, r3 = ap + 3 * l, r6 = ap + 6 * l, r9 = ap + 9 * l;
            for (int p = 0; p < kc; p++)
            {
                Sse.Prefetch0(bp + pf);
                Sse.Prefetch0(bp + pf + 16);
                var b0 = Vector512.Load(bp + 0);
                var b1 = Vector512.Load(bp + 16);
                var a0 = Vector512.Create(r0[0]);
                c0_0 = Avx512F.FusedMultiplyAdd(a0, b0, c0_0);
                c0_1 = Avx512F.FusedMultiplyAdd(a0, b1, c0_1);
                var a1 = Vector512.Create(r0[l]);
                c1_0 = Avx512F.FusedMultiplyAdd(a1, b0, c1_0);
                c1_1 = Avx512F.FusedMultiplyAdd(a1, b1, c1_1);
                var a2 = Vector512.Create(r0[l2]);
                c2_0 = Avx512F.FusedMultiplyAdd(a2, b0, c2_0);
                c2_1 = Avx512F.FusedMultiplyAdd(a2, b1, c2_1);
                var a3 = Vector512.Create(r3[0]);
                c3_0 = Avx512F.FusedMultiplyAdd(a3, b0, c3_0);
                c3_1 = Avx512F.FusedMultiplyAdd(a3, b1, c3_1);
                var a4 = Vector512.Create(r3[l]);
                c4_0 = Avx512F.FusedMultiplyAdd(a4, b0, c4_0);
                c4_1 = Avx512F.FusedMultiplyAdd(a4, b1, c4_1);
                var a5 = Vector512.Create(r3[l2]);
                c5_0 = Avx512F.FusedMultiplyAdd(a5, b0, c5_0);
                c5_1 = Avx512F.FusedMultiplyAdd(a5, b1, c5_1);
                var a6 = Vector512.Create(r6[0]);
                c6_0 = Avx512F.FusedMultiplyAdd(a6, b0, c6_0);
                c6_1 = Avx512F.FusedMultiplyAdd(a6, b1, c6_1);
                var a7 = Vector512.Create(r6[l]);
                c7_0 = Avx512F.FusedMultiplyAdd(a7, b0, c7_0);
                c7_1 = Avx512F.FusedMultiplyAdd(a7, b1, c7_1);
                var a8 = Vector512.Create(r6[l2]);
                c8_0 = Avx512F.FusedMultiplyAdd(a8, b0, c8_0);
                c8_1 = Avx512F.FusedMultiplyAdd(a8, b1, c8_1);
                var a9 = Vector512.Create(r9[0]);
                c9_0 = Avx512F.FusedMultiplyAdd(a9, b0, c9_0);
                c9_1 = Avx512F.FusedMultiplyAdd(a9, b1, c9_1);
                var a10 = Vector512.Create(r9[l]);
                c10_0 = Avx512F.FusedMultiplyAdd(a10, b0, c10_0);
                c10_1 = Avx512F.FusedMultiplyAdd(a10, b1, c10_1);
                var a11 = Vector512.Create(r9[l2]);
                c11_0 = Avx512F.FusedMultiplyAdd(a11, b0, c11_0);
                c11_1 = Avx512F.FusedMultiplyAdd(a11, b1, c11_1);
                r0++; r3++; r6++; r9++;
                bp += bs;
            }
        }
        var va = Vector512.Create(alpha);
        if (loadC)
        {
            var vb = Vector512.Create(beta);
            float* c0 = c;
            Avx512F.FusedMultiplyAdd(va, c0_0, vb * Vector512.Load(c0 + 0)).Store(c0 + 0);
            Avx512F.FusedMultiplyAdd(va, c0_1, vb * Vector512.Load(c0 + 16)).Store(c0 + 16);
            float* c1 = c + 1 * ldc;
            Avx512F.FusedMultiplyAdd(va, c1_0, vb * Vector512.Load(c1 + 0)).Store(c1 + 0);
            Avx512F.FusedMultiplyAdd(va, c1_1, vb * Vector512.Load(c1 + 16)).Store(c1 + 16);
            float* c2 = c + 2 * ldc;
            Avx512F.FusedMultiplyAdd(va, c2_0, vb * Vector512.Load(c2 + 0)).Store(c2 + 0);
            Avx512F.FusedMultiplyAdd(va, c2_1, vb * Vector512.Load(c2 + 16)).Store(c2 + 16);
            float* c3 = c + 3 * ldc;
            Avx512F.FusedMultiplyAdd(va, c3_0, vb * Vector512.Load(c3 + 0)).Store(c3 + 0);
            Avx512F.FusedMultiplyAdd(va, c3_1, vb * Vector512.Load(c3 + 16)).Store(c3 + 16);
            float* c4 = c + 4 * ldc;
            Avx512F.FusedMultiplyAdd(va, c4_0, vb * Vector512.Load(c4 + 0)).Store(c4 + 0);
            Avx512F.FusedMultiplyAdd(va, c4_1, vb * Vector512.Load(c4 + 16)).Store(c4 + 16);
            float* c5 = c + 5 * ldc;
            Avx512F.FusedMultiplyAdd(va, c5_0, vb * Vector512.Load(c5 + 0)).Store(c5 + 0);
            Avx512F.FusedMultiplyAdd(va, c5_1, vb * Vector512.Load(c5 + 16)).Store(c5 + 16);
            float* c6 = c + 6 * ldc;
            Avx512F.FusedMultiplyAdd(va, c6_0, vb * Vector512.Load(c6 + 0)).Store(c6 + 0);
            Avx512F.FusedMultiplyAdd(va, c6_1, vb * Vector512.Load(c6 + 16)).Store(c6 + 16);
            float* c7 = c + 7 * ldc;
            Avx512F.FusedMultiplyAdd(va, c7_0, vb * Vector512.Load(c7 + 0)).Store(c7 + 0);
            Avx512F.FusedMultiplyAdd(va, c7_1, vb * Vector512.Load(c7 + 16)).Store(c7 + 16);
            float* c8 = c + 8 * ldc;
            Avx512F.FusedMultiplyAdd(va, c8_0, vb * Vector512.Load(c8 + 0)).Store(c8 + 0);
            Avx512F.FusedMultiplyAdd(va, c8_1, vb * Vector512.Load(c8 + 16)).Store(c8 + 16);
            float* c9 = c + 9 * ldc;
            Avx512F.FusedMultiplyAdd(va, c9_0, vb * Vector512.Load(c9 + 0)).Store(c9 + 0);
            Avx512F.FusedMultiplyAdd(va, c9_1, vb * Vector512.Load(c9 + 16)).Store(c9 + 16);
            float* c10 = c + 10 * ldc;
            Avx512F.FusedMultiplyAdd(va, c10_0, vb * Vector512.Load(c10 + 0)).Store(c10 + 0);
            Avx512F.FusedMultiplyAdd(va, c10_1, vb * Vector512.Load(c10 + 16)).Store(c10 + 16);
            float* c11 = c + 11 * ldc;
            Avx512F.FusedMultiplyAdd(va, c11_0, vb * Vector512.Load(c11 + 0)).Store(c11 + 0);
            Avx512F.FusedMultiplyAdd(va, c11_1, vb * Vector512.Load(c11 + 16)).Store(c11 + 16);
        }
        else
        {
            float* c0 = c;
            (va * c0_0).Store(c0 + 0);
            (va * c0_1).Store(c0 + 16);
            float* c1 = c + 1 * ldc;
            (va * c1_0).Store(c1 + 0);
            (va * c1_1).Store(c1 + 16);
            float* c2 = c + 2 * ldc;
            (va * c2_0).Store(c2 + 0);
            (va * c2_1).Store(c2 + 16);
            float* c3 = c + 3 * ldc;
            (va * c3_0).Store(c3 + 0);
            (va * c3_1).Store(c3 + 16);
            float* c4 = c + 4 * ldc;
            (va * c4_0).Store(c4 + 0);
            (va * c4_1).Store(c4 + 16);
            float* c5 = c + 5 * ldc;
            (va * c5_0).Store(c5 + 0);
            (va * c5_1).Store(c5 + 16);
            float* c6 = c + 6 * ldc;
            (va * c6_0).Store(c6 + 0);
            (va * c6_1).Store(c6 + 16);
            float* c7 = c + 7 * ldc;
            (va * c7_0).Store(c7 + 0);
            (va * c7_1).Store(c7 + 16);
            float* c8 = c + 8 * ldc;
            (va * c8_0).Store(c8 + 0);
            (va * c8_1).Store(c8 + 16);
            float* c9 = c + 9 * ldc;
            (va * c9_0).Store(c9 + 0);
            (va * c9_1).Store(c9 + 16);
            float* c10 = c + 10 * ldc;
            (va * c10_0).Store(c10 + 0);
            (va * c10_1).Store(c10 + 16);
            float* c11 = c + 11 * ldc;
            (va * c11_0).Store(c11 + 0);
            (va * c11_1).Store(c11 + 16);
        }
    }

    /// <summary>6×16 tile: <c>C = alpha · A · B + beta · C</c> (C read only when <paramref name="loadC"/>), A and B laid out
    /// as for <see cref="Avx512Tile"/> (a packed A panel has aStep 6, a packed B panel bStep 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void Avx2Tile(int kc, float* ap, int aRow, int aStep, float* bp, int bStep, float* c, int ldc, float alpha, float beta, bool loadC)
    {
        var c0_0 = Vector256<float>.Zero; var c0_1 = Vector256<float>.Zero;
        var c1_0 = Vector256<float>.Zero; var c1_1 = Vector256<float>.Zero;
        var c2_0 = Vector256<float>.Zero; var c2_1 = Vector256<float>.Zero;
        var c3_0 = Vector256<float>.Zero; var c3_1 = Vector256<float>.Zero;
        var c4_0 = Vector256<float>.Zero; var c4_1 = Vector256<float>.Zero;
        var c5_0 = Vector256<float>.Zero; var c5_1 = Vector256<float>.Zero;
        nint bs = bStep, pf = 8 * bs; // B's line eight steps ahead, as in the 512-bit tile
        if (aRow == 1)
        {
            nint step = aStep;
            for (int p = 0; p < kc; p++)
            {
                Sse.Prefetch0(bp + pf);
                var b0 = Vector256.Load(bp + 0);
                var b1 = Vector256.Load(bp + 8);
                var a0 = Vector256.Create(ap[0]);
                c0_0 = Fma.MultiplyAdd(a0, b0, c0_0);
                c0_1 = Fma.MultiplyAdd(a0, b1, c0_1);
                var a1 = Vector256.Create(ap[1]);
                c1_0 = Fma.MultiplyAdd(a1, b0, c1_0);
                c1_1 = Fma.MultiplyAdd(a1, b1, c1_1);
                var a2 = Vector256.Create(ap[2]);
                c2_0 = Fma.MultiplyAdd(a2, b0, c2_0);
                c2_1 = Fma.MultiplyAdd(a2, b1, c2_1);
                var a3 = Vector256.Create(ap[3]);
                c3_0 = Fma.MultiplyAdd(a3, b0, c3_0);
                c3_1 = Fma.MultiplyAdd(a3, b1, c3_1);
                var a4 = Vector256.Create(ap[4]);
                c4_0 = Fma.MultiplyAdd(a4, b0, c4_0);
                c4_1 = Fma.MultiplyAdd(a4, b1, c4_1);
                var a5 = Vector256.Create(ap[5]);
                c5_0 = Fma.MultiplyAdd(a5, b0, c5_0);
                c5_1 = Fma.MultiplyAdd(a5, b1, c5_1);
                ap += step;
                bp += bs;
            }
        }
        else
        {
            nint l = aRow, l2 = 2 * (nint)aRow;
            float* r0 = ap, r3 = ap + 3 * l;
            for (int p = 0; p < kc; p++)
            {
                Sse.Prefetch0(bp + pf);
                var b0 = Vector256.Load(bp + 0);
                var b1 = Vector256.Load(bp + 8);
                var a0 = Vector256.Create(r0[0]);
                c0_0 = Fma.MultiplyAdd(a0, b0, c0_0);
                c0_1 = Fma.MultiplyAdd(a0, b1, c0_1);
                var a1 = Vector256.Create(r0[l]);
                c1_0 = Fma.MultiplyAdd(a1, b0, c1_0);
                c1_1 = Fma.MultiplyAdd(a1, b1, c1_1);
                var a2 = Vector256.Create(r0[l2]);
                c2_0 = Fma.MultiplyAdd(a2, b0, c2_0);
                c2_1 = Fma.MultiplyAdd(a2, b1, c2_1);
                var a3 = Vector256.Create(r3[0]);
                c3_0 = Fma.MultiplyAdd(a3, b0, c3_0);
                c3_1 = Fma.MultiplyAdd(a3, b1, c3_1);
                var a4 = Vector256.Create(r3[l]);
                c4_0 = Fma.MultiplyAdd(a4, b0, c4_0);
                c4_1 = Fma.MultiplyAdd(a4, b1, c4_1);
                var a5 = Vector256.Create(r3[l2]);
                c5_0 = Fma.MultiplyAdd(a5, b0, c5_0);
                c5_1 = Fma.MultiplyAdd(a5, b1, c5_1);
                r0++; r3++;
                bp += bs;
            }
        }
        var va = Vector256.Create(alpha);
        if (loadC)
        {
            var vb = Vector256.Create(beta);
            float* c0 = c;
            Fma.MultiplyAdd(va, c0_0, vb * Vector256.Load(c0 + 0)).Store(c0 + 0);
            Fma.MultiplyAdd(va, c0_1, vb * Vector256.Load(c0 + 8)).Store(c0 + 8);
            float* c1 = c + 1 * ldc;
            Fma.MultiplyAdd(va, c1_0, vb * Vector256.Load(c1 + 0)).Store(c1 + 0);
            Fma.MultiplyAdd(va, c1_1, vb * Vector256.Load(c1 + 8)).Store(c1 + 8);
            float* c2 = c + 2 * ldc;
            Fma.MultiplyAdd(va, c2_0, vb * Vector256.Load(c2 + 0)).Store(c2 + 0);
            Fma.MultiplyAdd(va, c2_1, vb * Vector256.Load(c2 + 8)).Store(c2 + 8);
            float* c3 = c + 3 * ldc;
            Fma.MultiplyAdd(va, c3_0, vb * Vector256.Load(c3 + 0)).Store(c3 + 0);
            Fma.MultiplyAdd(va, c3_1, vb * Vector256.Load(c3 + 8)).Store(c3 + 8);
            float* c4 = c + 4 * ldc;
            Fma.MultiplyAdd(va, c4_0, vb * Vector256.Load(c4 + 0)).Store(c4 + 0);
            Fma.MultiplyAdd(va, c4_1, vb * Vector256.Load(c4 + 8)).Store(c4 + 8);
            float* c5 = c + 5 * ldc;
            Fma.MultiplyAdd(va, c5_0, vb * Vector256.Load(c5 + 0)).Store(c5 + 0);
            Fma.MultiplyAdd(va, c5_1, vb * Vector256.Load(c5 + 8)).Store(c5 + 8);
        }
        else
        {
            float* c0 = c;
            (va * c0_0).Store(c0 + 0);
            (va * c0_1).Store(c0 + 8);
            float* c1 = c + 1 * ldc;
            (va * c1_0).Store(c1 + 0);
            (va * c1_1).Store(c1 + 8);
            float* c2 = c + 2 * ldc;
            (va * c2_0).Store(c2 + 0);
            (va * c2_1).Store(c2 + 8);
            float* c3 = c + 3 * ldc;
            (va * c3_0).Store(c3 + 0);
            (va * c3_1).Store(c3 + 8);
            float* c4 = c + 4 * ldc;
            (va * c4_0).Store(c4 + 0);
            (va * c4_1).Store(c4 + 8);
            float* c5 = c + 5 * ldc;
            (va * c5_0).Store(c5 + 0);
            (va * c5_1).Store(c5 + 8);
        }
    }
}
