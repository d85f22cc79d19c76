using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MLNetMerge.Tensors;

/// <summary>The AVX2 tile of <see cref="GemmKernels"/> (16 ymm registers: 12 accumulators, 2 of B, 1 broadcast).</summary>
internal static partial class GemmKernels
{
    /// <summary>
    /// 6×16 tile: <c>C = alpha · A · B + beta · C</c> (C read only when <paramref name="loadC"/>), A and B laid out as for
    /// <see cref="Avx512Tile"/> (a packed A panel has aStep 6, a packed B panel bStep 16). Each k loop takes two steps per
    /// iteration, then a last odd step (each step written out, as the rest of the tile, so the accumulators stay in
    /// registers): with 12 multiply-adds per step, the loop's pointer and counter updates were a fifth of its instructions
    /// and shared the two ports the multiply-adds use. The same multiply-adds in the same order, so the same bits; in one
    /// process on an Ice Lake core (AVX-512 off), the tile over 256-deep panels ran 5–18 % faster (B in L1 55 → 60–65
    /// GFLOP/s, B streaming from L2 57–65 → 62–70; A in place at lda 768 52–57 → 59–61).
    /// </summary>
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
            int p = 0;
            for (; p + 2 <= kc; p += 2) // two steps per iteration: half the loop's pointer and counter updates
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
                Sse.Prefetch0(bp + bs + pf);
                b0 = Vector256.Load(bp + bs);
                b1 = Vector256.Load(bp + bs + 8);
                a0 = Vector256.Create(ap[step]);
                c0_0 = Fma.MultiplyAdd(a0, b0, c0_0);
                c0_1 = Fma.MultiplyAdd(a0, b1, c0_1);
                a1 = Vector256.Create(ap[step + 1]);
                c1_0 = Fma.MultiplyAdd(a1, b0, c1_0);
                c1_1 = Fma.MultiplyAdd(a1, b1, c1_1);
                a2 = Vector256.Create(ap[step + 2]);
                c2_0 = Fma.MultiplyAdd(a2, b0, c2_0);
                c2_1 = Fma.MultiplyAdd(a2, b1, c2_1);
                a3 = Vector256.Create(ap[step + 3]);
                c3_0 = Fma.MultiplyAdd(a3, b0, c3_0);
                c3_1 = Fma.MultiplyAdd(a3, b1, c3_1);
                a4 = Vector256.Create(ap[step + 4]);
                c4_0 = Fma.MultiplyAdd(a4, b0, c4_0);
                c4_1 = Fma.MultiplyAdd(a4, b1, c4_1);
                a5 = Vector256.Create(ap[step + 5]);
                c5_0 = Fma.MultiplyAdd(a5, b0, c5_0);
                c5_1 = Fma.MultiplyAdd(a5, b1, c5_1);
                ap += 2 * step;
                bp += 2 * bs;
            }
            for (; p < kc; p++)
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
            int p = 0;
            for (; p + 2 <= kc; p += 2) // two steps per iteration, as above
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
                Sse.Prefetch0(bp + bs + pf);
                b0 = Vector256.Load(bp + bs);
                b1 = Vector256.Load(bp + bs + 8);
                a0 = Vector256.Create(r0[1]);
                c0_0 = Fma.MultiplyAdd(a0, b0, c0_0);
                c0_1 = Fma.MultiplyAdd(a0, b1, c0_1);
                a1 = Vector256.Create(r0[l + 1]);
                c1_0 = Fma.MultiplyAdd(a1, b0, c1_0);
                c1_1 = Fma.MultiplyAdd(a1, b1, c1_1);
                a2 = Vector256.Create(r0[l2 + 1]);
                c2_0 = Fma.MultiplyAdd(a2, b0, c2_0);
                c2_1 = Fma.MultiplyAdd(a2, b1, c2_1);
                a3 = Vector256.Create(r3[1]);
                c3_0 = Fma.MultiplyAdd(a3, b0, c3_0);
                c3_1 = Fma.MultiplyAdd(a3, b1, c3_1);
                a4 = Vector256.Create(r3[l + 1]);
                c4_0 = Fma.MultiplyAdd(a4, b0, c4_0);
                c4_1 = Fma.MultiplyAdd(a4, b1, c4_1);
                a5 = Vector256.Create(r3[l2 + 1]);
                c5_0 = Fma.MultiplyAdd(a5, b0, c5_0);
                c5_1 = Fma.MultiplyAdd(a5, b1, c5_1);
                r0 += 2; r3 += 2;
                bp += 2 * bs;
            }
            for (; p < kc; p++)
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
