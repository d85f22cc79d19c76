using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// <c>G = X Xᵀ</c> (rows, rows) in float64 for X (rows, len) in float32, the Gram matrix <see cref="GramSvd"/> decomposes:
/// <c>G[i, j] = Σ_l X[i, l]·X[j, l]</c>, every X element widened to float64 exactly, without a float64 copy of X: a
/// block's four rows once into a small buffer, the other rows as they are loaded. On AVX-512 cores, blocks of four rows
/// against four, sixteen 512-bit accumulators (four widening and four plain loads feed sixteen multiply-adds, each sum run
/// as eight chains); elsewhere blocks of four against three, twelve 256-bit accumulators (three widening loads and the
/// four rows' loads feed twelve multiply-adds, four chains each, fused where the CPU has FMA) and a block row's last
/// columns four against two with the same chains. Lanes are summed at the end, the tail of len added serially.
/// Only blocks on or below the diagonal are computed; <c>G[i, j]</c> for i ≥ j is written to both (i, j) and (j, i), so G
/// is exactly symmetric. A deterministic function of X for a given instruction set (the 512-bit kernel sums in another
/// order), whatever the thread count.
/// </summary>
internal static class GramOfRowsKernel
{
    /// <summary>The block kernels: which rows of X a block multiplies and with which vectors.</summary>
    internal enum Kernel
    {
        /// <summary>Four rows against two, 256-bit (the tail of a block row on AVX2 cores).</summary>
        Narrow4x2,

        /// <summary>Four rows against three, 256-bit: <see cref="Narrow4x2"/>'s sums, the same bits, twelve accumulators.</summary>
        Narrow4x3,

        /// <summary>Four rows against four, 512-bit, eight chains per sum (other bits than the 256-bit kernels).</summary>
        Wide4x4,
    }

    /// <summary>Whether the 512-bit blocks of four rows against four run (AVX-512 cores).</summary>
    internal static readonly bool Wide512 = Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>The kernel this CPU takes: <see cref="Kernel.Wide4x4"/> on AVX-512 cores, else <see cref="Kernel.Narrow4x3"/>.</summary>
    internal static Kernel Default => Wide512 ? Kernel.Wide4x4 : Kernel.Narrow4x3;

    /// <summary>Writes <c>X Xᵀ</c> of <paramref name="x"/> (rows, len) into <paramref name="g"/> (rows, rows).</summary>
    internal static void Compute(ReadOnlySpan<float> x, int rows, int len, double[] g) => Compute(x, rows, len, g, 1);

    /// <summary>
    /// <see cref="Compute(ReadOnlySpan{float}, int, int, double[])"/> on up to <paramref name="maxThreads"/> threads: the
    /// four-row blocks are dealt out in turn (block b to part b mod parts, so the triangle's growing rows spread evenly);
    /// every element gets the same arithmetic, so G is the same for any thread count.
    /// </summary>
    internal static void Compute(ReadOnlySpan<float> x, int rows, int len, double[] g, int maxThreads) => Compute(x, rows, len, g, maxThreads, Default);

    /// <summary>
    /// <see cref="Compute(ReadOnlySpan{float}, int, int, double[], int)"/> with the block kernel chosen (tests compare them):
    /// the 512-bit blocks of four rows against four (the default wherever AVX-512 is; a different order of the same float64
    /// sums, so other bits), or the 256-bit blocks of four against three or two (the same bits as each other).
    /// </summary>
    internal static unsafe void Compute(ReadOnlySpan<float> x, int rows, int len, double[] g, int maxThreads, Kernel kernel)
    {
        if (kernel == Kernel.Wide4x4 && !Wide512) throw new PlatformNotSupportedException("the 512-bit Gram blocks need AVX-512.");
        DenseKernels.Require("Gram input X", x.Length, rows, len);
        int blocks = Vector256.IsHardwareAccelerated && len >= 4 ? rows / 4 : 0;
        int parts = Math.Clamp(maxThreads, 1, Math.Max(1, blocks / 8));
        if (parts == 1) Blocks(x, rows, len, g, 0, 1, blocks, kernel);
        else
            fixed (float* px = x)
            {
                nint address = (nint)px;
                int length = x.Length;
                Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts },
                    part => Blocks(new ReadOnlySpan<float>((float*)address, length), rows, len, g, part, parts, blocks, kernel));
            }
        for (int i = blocks * 4; i < rows; i++)
            for (int j = 0; j <= i; j++) Set(g, rows, i, j, Dot(x, len, i, j));
    }

    /// <summary>The four-row blocks b &lt; <paramref name="blocks"/> with <c>b mod parts = part</c>.</summary>
    private static void Blocks(ReadOnlySpan<float> x, int rows, int len, double[] g, int part, int parts, int blocks, Kernel kernel)
    {
        double[] wide = BufferPool<double>.Shared.Rent(4 * len); // (4, len) the block's rows widened once
        try
        {
            for (int b = part; b < blocks; b += parts)
            {
                int i0 = 4 * b, j0 = 0;
                TensorPrimitives.ConvertTruncating(x.Slice(i0 * len, 4 * len), wide.AsSpan(0, 4 * len)); // exact: float → double
                if (kernel == Kernel.Wide4x4 && len >= 8)
                    for (; j0 <= i0; j0 += 4) Block4x4(x, len, i0, j0, rows, g, wide);
                if (kernel == Kernel.Narrow4x3)
                {
                    for (; j0 + 2 <= i0 + 3; j0 += 3) Block4x3(x, len, i0, j0, rows, g, wide);
                    if (j0 == i0 + 3) j0 = i0 + 2; // one column left: a pair block that writes its neighbour again (the same bits)
                }
                for (; j0 <= i0 + 2; j0 += 2) Block4x2(x, len, i0, j0, rows, g, wide);
                for (int a = 0; a < 4; a++)
                    for (int j = j0; j <= i0 + a; j++) Set(g, rows, i0 + a, j, Dot(x, len, i0 + a, j));
            }
        }
        finally
        {
            BufferPool<double>.Shared.Return(wide);
        }
    }

    private static ReadOnlySpan<float> Row(ReadOnlySpan<float> x, int len, int i) => x.Slice(i * len, len);

    /// <summary><c>Σ_l X[i, l]·X[j, l]</c> in float64 through <see cref="DenseKernels.Dot"/> on widened copies of the two rows.</summary>
    private static double Dot(ReadOnlySpan<float> x, int len, int i, int j)
    {
        var pool = BufferPool<double>.Shared;
        double[] ri = pool.Rent(len), rj = pool.Rent(len); // (len) each
        try
        {
            for (int l = 0; l < len; l++) { ri[l] = x[i * len + l]; rj[l] = x[j * len + l]; }
            return DenseKernels.Dot(ri.AsSpan(0, len), rj.AsSpan(0, len));
        }
        finally
        {
            pool.Return(ri);
            pool.Return(rj);
        }
    }

    private static void Set(double[] g, int rows, int i, int j, double v) => g[i * rows + j] = g[j * rows + i] = v;

    /// <summary>
    /// Rows i0..i0+3 (given widened in <paramref name="wide"/>, (4, len): they serve every pair of columns of the block
    /// row, so each is widened once, not once per pair) against rows j0, j0+1, widened as loaded; writes the pairs with
    /// i ≥ j. The same products in the same order as widening every load (the widening is exact), so the same bits; the
    /// conversions, which share one port, were what bound the loop.
    /// </summary>
    private static void Block4x2(ReadOnlySpan<float> x, int len, int i0, int j0, int rows, double[] g, double[] wide)
    {
        var b = new BlockRows(x, len, i0, j0, 2, wide);
        ref double r0 = ref b.R0, r1 = ref b.R1, r2 = ref b.R2, r3 = ref b.R3;
        ref float c0 = ref b.C0;
        ref float c1 = ref Unsafe.Add(ref c0, len);
        var a00 = Vector256<double>.Zero; var a01 = Vector256<double>.Zero;
        var a10 = Vector256<double>.Zero; var a11 = Vector256<double>.Zero;
        var a20 = Vector256<double>.Zero; var a21 = Vector256<double>.Zero;
        var a30 = Vector256<double>.Zero; var a31 = Vector256<double>.Zero;
        int l = 0;
        for (; l <= len - 4; l += 4)
        {
            var y0 = Widen(ref c0, l);
            var y1 = Widen(ref c1, l);
            var x0 = Vector256.LoadUnsafe(ref r0, (nuint)l);
            var x1 = Vector256.LoadUnsafe(ref r1, (nuint)l);
            a00 = MulAdd(x0, y0, a00); a01 = MulAdd(x0, y1, a01);
            a10 = MulAdd(x1, y0, a10); a11 = MulAdd(x1, y1, a11);
            var x2 = Vector256.LoadUnsafe(ref r2, (nuint)l);
            var x3 = Vector256.LoadUnsafe(ref r3, (nuint)l);
            a20 = MulAdd(x2, y0, a20); a21 = MulAdd(x2, y1, a21);
            a30 = MulAdd(x3, y0, a30); a31 = MulAdd(x3, y1, a31);
        }
        Span<double> s = [Vector256.Sum(a00), Vector256.Sum(a01), Vector256.Sum(a10), Vector256.Sum(a11),
                          Vector256.Sum(a20), Vector256.Sum(a21), Vector256.Sum(a30), Vector256.Sum(a31)];
        FinishBlock(x, len, l, i0, j0, 2, s, rows, g);
    }

    /// <summary>Rows i0..i0+3 against rows j0..j0+2: <see cref="Block4x2"/> with a third column row (twelve accumulators).</summary>
    private static void Block4x3(ReadOnlySpan<float> x, int len, int i0, int j0, int rows, double[] g, double[] wide)
    {
        var b = new BlockRows(x, len, i0, j0, 3, wide);
        ref double r0 = ref b.R0, r1 = ref b.R1, r2 = ref b.R2, r3 = ref b.R3;
        ref float c0 = ref b.C0;
        ref float c1 = ref Unsafe.Add(ref c0, len);
        ref float c2 = ref Unsafe.Add(ref c1, len);
        Vector256<double> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default;
        Vector256<double> a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default;
        int l = 0;
        for (; l <= len - 4; l += 4)
        {
            // Twelve accumulators and three column vectors take fifteen of the sixteen ymm registers: each row of the
            // block is loaded where it is used, a memory operand of its multiply-add rather than a register of its own.
            var y0 = Widen(ref c0, l);
            var y1 = Widen(ref c1, l);
            var y2 = Widen(ref c2, l);
            a00 = MulAdd(Vector256.LoadUnsafe(ref r0, (nuint)l), y0, a00);
            a01 = MulAdd(Vector256.LoadUnsafe(ref r0, (nuint)l), y1, a01);
            a02 = MulAdd(Vector256.LoadUnsafe(ref r0, (nuint)l), y2, a02);
            a10 = MulAdd(Vector256.LoadUnsafe(ref r1, (nuint)l), y0, a10);
            a11 = MulAdd(Vector256.LoadUnsafe(ref r1, (nuint)l), y1, a11);
            a12 = MulAdd(Vector256.LoadUnsafe(ref r1, (nuint)l), y2, a12);
            a20 = MulAdd(Vector256.LoadUnsafe(ref r2, (nuint)l), y0, a20);
            a21 = MulAdd(Vector256.LoadUnsafe(ref r2, (nuint)l), y1, a21);
            a22 = MulAdd(Vector256.LoadUnsafe(ref r2, (nuint)l), y2, a22);
            a30 = MulAdd(Vector256.LoadUnsafe(ref r3, (nuint)l), y0, a30);
            a31 = MulAdd(Vector256.LoadUnsafe(ref r3, (nuint)l), y1, a31);
            a32 = MulAdd(Vector256.LoadUnsafe(ref r3, (nuint)l), y2, a32);
        }
        Span<double> s = [Vector256.Sum(a00), Vector256.Sum(a01), Vector256.Sum(a02), Vector256.Sum(a10), Vector256.Sum(a11), Vector256.Sum(a12),
                          Vector256.Sum(a20), Vector256.Sum(a21), Vector256.Sum(a22), Vector256.Sum(a30), Vector256.Sum(a31), Vector256.Sum(a32)];
        FinishBlock(x, len, l, i0, j0, 3, s, rows, g);
    }

    /// <summary>
    /// A block's operands, checked: the four widened rows (4, len) of the block row and the first of its column rows j0..
    /// in X (the others follow len apart).
    /// </summary>
    private readonly ref struct BlockRows
    {
        public readonly ref double R0, R1, R2, R3;
        public readonly ref float C0;

        public BlockRows(ReadOnlySpan<float> x, int len, int i0, int j0, int cols, double[] wide)
        {
            if (x.Length < (long)(Math.Max(i0 + 3, j0 + cols - 1) + 1) * len || wide.Length < 4 * len)
                throw new ArgumentException($"rows {i0}..{i0 + 3} and {j0}..{j0 + cols - 1} of {len} do not fit X or the widened rows.");
            R0 = ref MemoryMarshal.GetArrayDataReference(wide);
            R1 = ref Unsafe.Add(ref R0, len);
            R2 = ref Unsafe.Add(ref R1, len);
            R3 = ref Unsafe.Add(ref R2, len);
            C0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), (nint)j0 * len);
        }
    }

    /// <summary>
    /// Completes a block of rows i0..i0+3 against <paramref name="cols"/> rows from j0, whose vector sums over
    /// <c>[0, done)</c> are <paramref name="sums"/> (row-major, 4 × cols): adds the tail <c>[done, len)</c> serially and
    /// writes the pairs with i ≥ j.
    /// </summary>
    private static void FinishBlock(ReadOnlySpan<float> x, int len, int done, int i0, int j0, int cols, ReadOnlySpan<double> sums, int rows, double[] g)
    {
        for (int a = 0; a < 4; a++)
            for (int c = 0; c < cols; c++)
            {
                int i = i0 + a, j = j0 + c;
                if (i < j) continue;
                double v = sums[a * cols + c];
                var ri = Row(x, len, i);
                var rj = Row(x, len, j);
                for (int t = done; t < len; t++) v += (double)ri[t] * rj[t];
                Set(g, rows, i, j, v);
            }
    }

    /// <summary>
    /// Rows i0..i0+3 (widened in <paramref name="wide"/>) against rows j0..j0+3, widened as loaded, eight float64 lanes
    /// per accumulator (sixteen 512-bit accumulators, one per pair): each element's sum runs as eight chains, l mod 8,
    /// summed lane by lane at the end, then the tail of len serially. Writes the pairs with i ≥ j.
    /// </summary>
    private static void Block4x4(ReadOnlySpan<float> x, int len, int i0, int j0, int rows, double[] g, double[] wide)
    {
        var b = new BlockRows(x, len, i0, j0, 4, wide);
        ref double r0 = ref b.R0, r1 = ref b.R1, r2 = ref b.R2, r3 = ref b.R3;
        ref float c0 = ref b.C0;
        ref float c1 = ref Unsafe.Add(ref c0, len);
        ref float c2 = ref Unsafe.Add(ref c1, len);
        ref float c3 = ref Unsafe.Add(ref c2, len);
        Vector512<double> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<double> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<double> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<double> a30 = default, a31 = default, a32 = default, a33 = default;
        int l = 0;
        for (; l <= len - 8; l += 8)
        {
            var y0 = Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(ref c0, (nuint)l));
            var y1 = Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(ref c1, (nuint)l));
            var y2 = Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(ref c2, (nuint)l));
            var y3 = Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(ref c3, (nuint)l));
            var w = Vector512.LoadUnsafe(ref r0, (nuint)l);
            a00 = Avx512F.FusedMultiplyAdd(w, y0, a00); a01 = Avx512F.FusedMultiplyAdd(w, y1, a01);
            a02 = Avx512F.FusedMultiplyAdd(w, y2, a02); a03 = Avx512F.FusedMultiplyAdd(w, y3, a03);
            w = Vector512.LoadUnsafe(ref r1, (nuint)l);
            a10 = Avx512F.FusedMultiplyAdd(w, y0, a10); a11 = Avx512F.FusedMultiplyAdd(w, y1, a11);
            a12 = Avx512F.FusedMultiplyAdd(w, y2, a12); a13 = Avx512F.FusedMultiplyAdd(w, y3, a13);
            w = Vector512.LoadUnsafe(ref r2, (nuint)l);
            a20 = Avx512F.FusedMultiplyAdd(w, y0, a20); a21 = Avx512F.FusedMultiplyAdd(w, y1, a21);
            a22 = Avx512F.FusedMultiplyAdd(w, y2, a22); a23 = Avx512F.FusedMultiplyAdd(w, y3, a23);
            w = Vector512.LoadUnsafe(ref r3, (nuint)l);
            a30 = Avx512F.FusedMultiplyAdd(w, y0, a30); a31 = Avx512F.FusedMultiplyAdd(w, y1, a31);
            a32 = Avx512F.FusedMultiplyAdd(w, y2, a32); a33 = Avx512F.FusedMultiplyAdd(w, y3, a33);
        }
        Span<double> s = [Vector512.Sum(a00), Vector512.Sum(a01), Vector512.Sum(a02), Vector512.Sum(a03),
                          Vector512.Sum(a10), Vector512.Sum(a11), Vector512.Sum(a12), Vector512.Sum(a13),
                          Vector512.Sum(a20), Vector512.Sum(a21), Vector512.Sum(a22), Vector512.Sum(a23),
                          Vector512.Sum(a30), Vector512.Sum(a31), Vector512.Sum(a32), Vector512.Sum(a33)];
        FinishBlock(x, len, l, i0, j0, 4, s, rows, g);
    }

    /// <summary>Four floats from <paramref name="row"/>[l] widened to float64 (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Widen(ref float row, int l)
    {
        var v = Vector128.LoadUnsafe(ref row, (nuint)l);
        return Avx.IsSupported ? Avx.ConvertToVector256Double(v) : Vector256.Create(Vector128.WidenLower(v), Vector128.WidenUpper(v));
    }

    private static Vector256<double> MulAdd(Vector256<double> x, Vector256<double> y, Vector256<double> acc) =>
        Fma.IsSupported ? Fma.MultiplyAdd(x, y, acc) : acc + x * y;
}
