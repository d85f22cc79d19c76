using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Float64 vector helpers shared by the factorisations: dot products, axpy and plane rotations on contiguous rows.
/// </summary>
internal static class DenseKernels
{
    /// <summary><c>Σ_i x[i] · y[i]</c>.</summary>
    internal static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y) => TensorPrimitives.Dot(x, y);

    /// <summary><c>y[i] += alpha · x[i]</c>.</summary>
    internal static void Axpy(double alpha, ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.MultiplyAdd(x, alpha, y, y);

    /// <summary>Symmetric rank-2 update of one row: <c>row[j] −= a · x[j] + b · y[j]</c>.</summary>
    internal static void SubtractTwoScaled(Span<double> row, double a, ReadOnlySpan<double> x, double b, ReadOnlySpan<double> y)
    {
        int n = row.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var va = new Vector<double>(a);
            var vb = new Vector<double>(b);
            for (; i <= n - Vector<double>.Count; i += Vector<double>.Count)
            {
                var r = new Vector<double>(row.Slice(i));
                (r - va * new Vector<double>(x.Slice(i)) - vb * new Vector<double>(y.Slice(i))).CopyTo(row.Slice(i));
            }
        }
        for (; i < n; i++) row[i] -= a * x[i] + b * y[i];
    }

    /// <summary>Dot product for short rows, without the dispatch cost of a library call: <c>Σ_i x[i] · y[i]</c>.</summary>
    internal static double DotShort(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int n = x.Length, i = 0;
        double s = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var acc = Vector<double>.Zero;
            for (; i <= n - Vector<double>.Count; i += Vector<double>.Count)
                acc += new Vector<double>(x.Slice(i)) * new Vector<double>(y.Slice(i));
            s = Vector.Sum(acc);
        }
        for (; i < n; i++) s += x[i] * y[i];
        return s;
    }

    /// <summary>
    /// Four independent <see cref="DotShort"/>s, <c>result[r] = Σ_i x_r[i] · y_r[i]</c>, each bit for bit what
    /// <see cref="DotShort"/> gives (the same vector blocks in the same order into its own accumulator, the same lane sum
    /// and scalar tail); the four dependency chains run interleaved, so a core keeps four additions in flight where one
    /// chain waits on each. The lengths may differ.
    /// </summary>
    internal static void DotShort4(ReadOnlySpan<double> x0, ReadOnlySpan<double> y0, ReadOnlySpan<double> x1, ReadOnlySpan<double> y1,
        ReadOnlySpan<double> x2, ReadOnlySpan<double> y2, ReadOnlySpan<double> x3, ReadOnlySpan<double> y3, Span<double> result)
    {
        if (y0.Length < x0.Length || y1.Length < x1.Length || y2.Length < x2.Length || y3.Length < x3.Length || result.Length < 4)
            throw new ArgumentException("each y must be as long as its x, and four results.");
        int w = Vector<double>.Count;
        bool vec = Vector.IsHardwareAccelerated;
        int b0 = vec && x0.Length >= w ? x0.Length / w : 0, b1 = vec && x1.Length >= w ? x1.Length / w : 0;
        int b2 = vec && x2.Length >= w ? x2.Length / w : 0, b3 = vec && x3.Length >= w ? x3.Length / w : 0;
        ref double p0 = ref MemoryMarshal.GetReference(x0); ref double q0 = ref MemoryMarshal.GetReference(y0);
        ref double p1 = ref MemoryMarshal.GetReference(x1); ref double q1 = ref MemoryMarshal.GetReference(y1);
        ref double p2 = ref MemoryMarshal.GetReference(x2); ref double q2 = ref MemoryMarshal.GetReference(y2);
        ref double p3 = ref MemoryMarshal.GetReference(x3); ref double q3 = ref MemoryMarshal.GetReference(y3);
        var a0 = Vector<double>.Zero; var a1 = Vector<double>.Zero; var a2 = Vector<double>.Zero; var a3 = Vector<double>.Zero;
        int common = Math.Min(Math.Min(b0, b1), Math.Min(b2, b3)), b = 0;
        for (; b < common; b++)
        {
            nuint i = (nuint)(b * w);
            a0 += Vector.LoadUnsafe(ref p0, i) * Vector.LoadUnsafe(ref q0, i);
            a1 += Vector.LoadUnsafe(ref p1, i) * Vector.LoadUnsafe(ref q1, i);
            a2 += Vector.LoadUnsafe(ref p2, i) * Vector.LoadUnsafe(ref q2, i);
            a3 += Vector.LoadUnsafe(ref p3, i) * Vector.LoadUnsafe(ref q3, i);
        }
        result[0] = Finish(ref p0, ref q0, x0.Length, a0, b, b0);
        result[1] = Finish(ref p1, ref q1, x1.Length, a1, b, b1);
        result[2] = Finish(ref p2, ref q2, x2.Length, a2, b, b2);
        result[3] = Finish(ref p3, ref q3, x3.Length, a3, b, b3);

        // The chain's remaining blocks from `from` to `blocks`, its lane sum and scalar tail, as DotShort does them.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static double Finish(ref double x, ref double y, int length, Vector<double> acc, int from, int blocks)
        {
            int w = Vector<double>.Count;
            for (int k = from; k < blocks; k++) acc += Vector.LoadUnsafe(ref x, (nuint)(k * w)) * Vector.LoadUnsafe(ref y, (nuint)(k * w));
            double s = blocks > 0 ? Vector.Sum(acc) : 0;
            for (int i = blocks * w; i < length; i++) s += Unsafe.Add(ref x, i) * Unsafe.Add(ref y, i);
            return s;
        }
    }

    /// <summary><c>y[i] += alpha · x[i]</c> for short rows, without the dispatch cost of a library call.</summary>
    internal static void AxpyShort(double alpha, ReadOnlySpan<double> x, Span<double> y)
    {
        int n = y.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var va = new Vector<double>(alpha);
            for (; i <= n - Vector<double>.Count; i += Vector<double>.Count)
                (new Vector<double>(y.Slice(i)) + va * new Vector<double>(x.Slice(i))).CopyTo(y.Slice(i));
        }
        for (; i < n; i++) y[i] += alpha * x[i];
    }

    /// <summary>Plane rotation of two rows: <c>x' = c·x − s·y</c>, <c>y' = s·x + c·y</c>.</summary>
    internal static void Rotate(Span<double> x, Span<double> y, double c, double s)
    {
        int n = x.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var vc = new Vector<double>(c);
            var vs = new Vector<double>(s);
            for (; i <= n - Vector<double>.Count; i += Vector<double>.Count)
            {
                var xi = new Vector<double>(x.Slice(i));
                var yi = new Vector<double>(y.Slice(i));
                (vc * xi - vs * yi).CopyTo(x.Slice(i));
                (vs * xi + vc * yi).CopyTo(y.Slice(i));
            }
        }
        for (; i < n; i++)
        {
            double xi = x[i], yi = y[i];
            x[i] = c * xi - s * yi;
            y[i] = s * xi + c * yi;
        }
    }

    /// <summary>Widens a row-major float32 matrix to float64, transposed when asked: dst (cols, rows) = srcᵀ.</summary>
    internal static void ToDouble(ReadOnlySpan<float> src, int rows, int cols, Span<double> dst, bool transpose)
    {
        if (!transpose)
        {
            for (int i = 0; i < rows * cols; i++) dst[i] = src[i];
            return;
        }
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                dst[j * rows + i] = src[i * cols + j];
    }

    /// <summary>Throws when a span is shorter than a (rows, cols) matrix needs.</summary>
    internal static void Require(string what, int length, long rows, long cols)
    {
        if (rows < 0 || cols < 0) throw new ArgumentException($"{what}: dimensions must be non-negative, got ({rows}, {cols}).");
        if (length < rows * cols) throw new ArgumentException($"{what}: a ({rows}, {cols}) matrix needs {rows * cols} elements, the span has {length}.");
    }
}
