using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// float32 activation kernels (GELU-erf is <see cref="GeluErfKernel"/>) built from <see cref="TensorPrimitives"/> passes over L1-sized chunks (vectorised);
/// the same formulas as <see cref="Activation"/>'s scalar loops, which float64 (the finite-difference checks) keeps.
/// </summary>
internal static class VectorActivations
{
    private const int Chunk = 256;
    private const float SqrtTwoOverPi = 0.7978846f, TanhCoeff = 0.044715f, QuickCoeff = 1.702f;

    /// <summary>y = x · σ(1.702x) (three <see cref="TensorPrimitives"/> passes per part), split over the worker threads.</summary>
    public static unsafe void QuickGeluForward(Span<float> y, ReadOnlySpan<float> x)
    {
        fixed (float* py = y, px = x)
        {
            var job = RangeJob.ForThisThread;
            job.P0 = py; job.P1 = px;
            job.Run(&QuickGeluForwardPart, x.Length, Chunk, x.Length);
        }
    }

    private static unsafe void QuickGeluForwardPart(RangeJob j, int start, int end) =>
        QuickGeluForwardRange(new Span<float>(j.P0 + start, end - start), new ReadOnlySpan<float>(j.P1 + start, end - start));

    /// <summary>y = x · σ(1.702x) = x / (1 + e^(−1.702x)) on one range (the per-part body; also a fused GEMM epilogue's
    /// activation on a row of C): one sweep, the exp by <see cref="VectorExp"/> in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void QuickGeluForwardRange(Span<float> y, ReadOnlySpan<float> x)
    {
        int n = x.Length;
        if (y.Length < n) throw new ArgumentException("quick GELU output shorter than its input.");
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        int w = Vector<float>.Count, j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            // 16 lanes at a time where the processor has them: the same operations per lane, so the same bits.
            for (; j + 16 <= n; j += 16)
            {
                var v = Vector512.LoadUnsafe(ref rx, (nuint)j);
                (v / (Vector512<float>.One + VectorExp.Exp(v * Vector512.Create(-QuickCoeff)))).StoreUnsafe(ref ry, (nuint)j);
            }
        }
        for (; j + w <= n; j += w)
        {
            var v = Vector.LoadUnsafe(ref rx, (nuint)j);
            (v / (Vector<float>.One + VectorExp.Exp(v * new Vector<float>(-QuickCoeff)))).StoreUnsafe(ref ry, (nuint)j);
        }
        for (; j < n; j++)
        {
            float v = Unsafe.Add(ref rx, j);
            Unsafe.Add(ref ry, j) = v / (1f + VectorExp.Exp(v * -QuickCoeff));
        }
    }

    /// <summary>dx += dy · (s + 1.702·x·s·(1 − s)), s = σ(1.702x).</summary>
    public static void QuickGeluBackward(Span<float> dx, ReadOnlySpan<float> dy, ReadOnlySpan<float> x)
    {
        Span<float> s = stackalloc float[Chunk], d = stackalloc float[Chunk];
        for (int i = 0; i < x.Length; i += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - i);
            var xi = x.Slice(i, n);
            TensorPrimitives.Multiply(xi, QuickCoeff, s[..n]);
            TensorPrimitives.Sigmoid(s[..n], s[..n]);
            TensorPrimitives.Subtract(1f, s[..n], d[..n]);
            TensorPrimitives.Multiply(d[..n], s[..n], d[..n]);
            TensorPrimitives.Multiply(d[..n], xi, d[..n]);
            TensorPrimitives.FusedMultiplyAdd(d[..n], QuickCoeff, s[..n], d[..n]);
            TensorPrimitives.FusedMultiplyAdd(dy.Slice(i, n), d[..n], dx.Slice(i, n), dx.Slice(i, n));
        }
    }

    /// <summary>dx += dy · ((1 + t)/2 + x/2·(1 − t²)·√(2/π)(1 + 3·0.044715x²)), t = tanh(√(2/π)(x + 0.044715x³)).</summary>
    public static void GeluTanhBackward(Span<float> dx, ReadOnlySpan<float> dy, ReadOnlySpan<float> x)
    {
        Span<float> t = stackalloc float[Chunk], b = stackalloc float[Chunk], c = stackalloc float[Chunk];
        for (int i = 0; i < x.Length; i += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - i);
            var xi = x.Slice(i, n);
            TensorPrimitives.Multiply(xi, xi, b[..n]);                          // x²
            TensorPrimitives.Multiply(b[..n], TanhCoeff, t[..n]);
            TensorPrimitives.Add(t[..n], 1f, t[..n]);
            TensorPrimitives.Multiply(t[..n], xi, t[..n]);
            TensorPrimitives.Multiply(t[..n], SqrtTwoOverPi, t[..n]);
            TensorPrimitives.Tanh(t[..n], t[..n]);                               // t
            TensorPrimitives.Multiply(b[..n], 3f * TanhCoeff, b[..n]);
            TensorPrimitives.Add(b[..n], 1f, b[..n]);
            TensorPrimitives.Multiply(b[..n], xi, b[..n]);
            TensorPrimitives.Multiply(b[..n], 0.5f * SqrtTwoOverPi, b[..n]);    // x/2·√(2/π)(1 + 3c x²)
            TensorPrimitives.Multiply(t[..n], t[..n], c[..n]);
            TensorPrimitives.Subtract(1f, c[..n], c[..n]);                       // 1 − t²
            TensorPrimitives.Multiply(b[..n], c[..n], b[..n]);
            TensorPrimitives.Add(t[..n], 1f, t[..n]);
            TensorPrimitives.FusedMultiplyAdd(t[..n], 0.5f, b[..n], t[..n]);
            TensorPrimitives.FusedMultiplyAdd(dy.Slice(i, n), t[..n], dx.Slice(i, n), dx.Slice(i, n));
        }
    }

    /// <summary>dx += dy · (1 − tanh²(x)).</summary>
    public static void TanhBackward(Span<float> dx, ReadOnlySpan<float> dy, ReadOnlySpan<float> x)
    {
        Span<float> t = stackalloc float[Chunk];
        for (int i = 0; i < x.Length; i += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - i);
            TensorPrimitives.Tanh(x.Slice(i, n), t[..n]);
            TensorPrimitives.Multiply(t[..n], t[..n], t[..n]);
            TensorPrimitives.Subtract(1f, t[..n], t[..n]);
            TensorPrimitives.FusedMultiplyAdd(dy.Slice(i, n), t[..n], dx.Slice(i, n), dx.Slice(i, n));
        }
    }
}
