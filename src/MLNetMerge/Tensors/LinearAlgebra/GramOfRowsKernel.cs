using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// <c>G = X Xᵀ</c> (rows, rows) for X (rows, len) in float64, the Gram matrix <see cref="GramSvd"/> decomposes:
/// <c>G[i, j] = Σ_l X[i, l]·X[j, l]</c>. Blocks of four rows against two, eight 256-bit accumulators held in registers
/// (six loads feed eight multiply-adds, fused where the CPU has FMA), lanes summed in order at the end, the tail of
/// len added serially. Only blocks on or below the diagonal are computed; <c>G[i, j]</c> for i ≥ j is written to both
/// (i, j) and (j, i), so G is exactly symmetric. A deterministic function of X on a given CPU.
/// </summary>
internal static class GramOfRowsKernel
{
    /// <summary>Writes <c>X Xᵀ</c> of <paramref name="x"/> (rows, len) into <paramref name="g"/> (rows, rows).</summary>
    internal static void Compute(double[] x, int rows, int len, double[] g)
    {
        int i0 = 0;
        if (Vector256.IsHardwareAccelerated && len >= 4)
            for (; i0 <= rows - 4; i0 += 4)
            {
                int j0 = 0;
                for (; j0 <= i0 + 2; j0 += 2) Block4x2(x, len, i0, j0, rows, g);
                for (int a = 0; a < 4; a++)
                    for (int j = j0; j <= i0 + a; j++) Set(g, rows, i0 + a, j, DenseKernels.Dot(Row(x, len, i0 + a), Row(x, len, j)));
            }
        for (int i = i0; i < rows; i++)
            for (int j = 0; j <= i; j++) Set(g, rows, i, j, DenseKernels.Dot(Row(x, len, i), Row(x, len, j)));
    }

    private static ReadOnlySpan<double> Row(double[] x, int len, int i) => x.AsSpan(i * len, len);

    private static void Set(double[] g, int rows, int i, int j, double v) => g[i * rows + j] = g[j * rows + i] = v;

    /// <summary>Rows i0..i0+3 against rows j0, j0+1; writes the pairs with i ≥ j.</summary>
    private static void Block4x2(double[] x, int len, int i0, int j0, int rows, double[] g)
    {
        var r0 = x.AsSpan(i0 * len, len);
        var r1 = x.AsSpan((i0 + 1) * len, len);
        var r2 = x.AsSpan((i0 + 2) * len, len);
        var r3 = x.AsSpan((i0 + 3) * len, len);
        var c0 = x.AsSpan(j0 * len, len);
        var c1 = x.AsSpan((j0 + 1) * len, len);
        var a00 = Vector256<double>.Zero; var a01 = Vector256<double>.Zero;
        var a10 = Vector256<double>.Zero; var a11 = Vector256<double>.Zero;
        var a20 = Vector256<double>.Zero; var a21 = Vector256<double>.Zero;
        var a30 = Vector256<double>.Zero; var a31 = Vector256<double>.Zero;
        int l = 0;
        for (; l <= len - 4; l += 4)
        {
            var y0 = Vector256.Create((ReadOnlySpan<double>)c0.Slice(l, 4));
            var y1 = Vector256.Create((ReadOnlySpan<double>)c1.Slice(l, 4));
            var x0 = Vector256.Create((ReadOnlySpan<double>)r0.Slice(l, 4));
            var x1 = Vector256.Create((ReadOnlySpan<double>)r1.Slice(l, 4));
            a00 = MulAdd(x0, y0, a00); a01 = MulAdd(x0, y1, a01);
            a10 = MulAdd(x1, y0, a10); a11 = MulAdd(x1, y1, a11);
            var x2 = Vector256.Create((ReadOnlySpan<double>)r2.Slice(l, 4));
            var x3 = Vector256.Create((ReadOnlySpan<double>)r3.Slice(l, 4));
            a20 = MulAdd(x2, y0, a20); a21 = MulAdd(x2, y1, a21);
            a30 = MulAdd(x3, y0, a30); a31 = MulAdd(x3, y1, a31);
        }
        Span<double> s = [Vector256.Sum(a00), Vector256.Sum(a01), Vector256.Sum(a10), Vector256.Sum(a11),
                          Vector256.Sum(a20), Vector256.Sum(a21), Vector256.Sum(a30), Vector256.Sum(a31)];
        for (int a = 0; a < 4; a++)
            for (int c = 0; c < 2; c++)
            {
                int i = i0 + a, j = j0 + c;
                if (i < j) continue;
                double v = s[a * 2 + c];
                var ri = Row(x, len, i);
                var rj = Row(x, len, j);
                for (int t = l; t < len; t++) v += ri[t] * rj[t];
                Set(g, rows, i, j, v);
            }
    }

    private static Vector256<double> MulAdd(Vector256<double> x, Vector256<double> y, Vector256<double> acc) =>
        Fma.IsSupported ? Fma.MultiplyAdd(x, y, acc) : acc + x * y;
}
