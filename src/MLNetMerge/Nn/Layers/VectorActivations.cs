using System.Numerics.Tensors;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// float32 activation kernels built from <see cref="TensorPrimitives"/> passes over L1-sized chunks (vectorised);
/// the same formulas as <see cref="Activation"/>'s scalar loops, which float64 (the finite-difference checks) keeps.
/// </summary>
internal static class VectorActivations
{
    private const int Chunk = 256;
    private const float InvSqrt2 = 0.70710678f, InvSqrt2Pi = 0.39894228f, SqrtTwoOverPi = 0.7978846f, TanhCoeff = 0.044715f, QuickCoeff = 1.702f;

    /// <summary>erf over a chunk by Abramowitz &amp; Stegun 7.1.26 (see <see cref="SpecialFunctions.ErfFast"/>); e and t are workspaces.</summary>
    private static void Erf(Span<float> erf, ReadOnlySpan<float> z, Span<float> e, Span<float> t)
    {
        TensorPrimitives.Multiply(z, z, e);                  // z²
        TensorPrimitives.Negate(e, e);
        TensorPrimitives.Exp(e, e);                           // e^(−z²)
        TensorPrimitives.Abs(z, t);
        TensorPrimitives.Multiply(t, 0.3275911f, t);
        TensorPrimitives.Add(t, 1f, t);
        TensorPrimitives.Reciprocal(t, t);                    // t = 1/(1 + p|z|)
        TensorPrimitives.Multiply(t, 1.061405429f, erf);      // Horner: ((((a5 t + a4) t + a3) t + a2) t + a1) t
        TensorPrimitives.Add(erf, -1.453152027f, erf);
        TensorPrimitives.FusedMultiplyAdd(erf, t, 1.421413741f, erf);
        TensorPrimitives.FusedMultiplyAdd(erf, t, -0.284496736f, erf);
        TensorPrimitives.FusedMultiplyAdd(erf, t, 0.254829592f, erf);
        TensorPrimitives.Multiply(erf, t, erf);
        TensorPrimitives.Multiply(erf, e, erf);
        TensorPrimitives.Subtract(1f, erf, erf);              // erf(|z|)
        TensorPrimitives.CopySign(erf, z, erf);
    }

    /// <summary>y = x/2 · (1 + erf(x/√2)).</summary>
    public static void GeluErfForward(Span<float> y, ReadOnlySpan<float> x)
    {
        Span<float> z = stackalloc float[Chunk], e = stackalloc float[Chunk], t = stackalloc float[Chunk];
        for (int i = 0; i < x.Length; i += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - i);
            var xi = x.Slice(i, n); var yi = y.Slice(i, n);
            TensorPrimitives.Multiply(xi, InvSqrt2, z[..n]);
            Erf(yi, z[..n], e[..n], t[..n]);
            TensorPrimitives.Add(yi, 1f, yi);
            TensorPrimitives.Multiply(yi, xi, yi);
            TensorPrimitives.Multiply(yi, 0.5f, yi);
        }
    }

    /// <summary>dx += dy · ((1 + erf(x/√2))/2 + x·φ(x)).</summary>
    public static void GeluErfBackward(Span<float> dx, ReadOnlySpan<float> dy, ReadOnlySpan<float> x)
    {
        Span<float> z = stackalloc float[Chunk], e = stackalloc float[Chunk], t = stackalloc float[Chunk], a = stackalloc float[Chunk], b = stackalloc float[Chunk];
        for (int i = 0; i < x.Length; i += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - i);
            var xi = x.Slice(i, n);
            TensorPrimitives.Multiply(xi, InvSqrt2, z[..n]);
            Erf(a[..n], z[..n], e[..n], t[..n]);
            TensorPrimitives.Multiply(xi, xi, b[..n]);
            TensorPrimitives.Multiply(b[..n], -0.5f, b[..n]);
            TensorPrimitives.Exp(b[..n], b[..n]);
            TensorPrimitives.Multiply(b[..n], InvSqrt2Pi, b[..n]);
            TensorPrimitives.Multiply(b[..n], xi, b[..n]);     // x·φ(x)
            TensorPrimitives.Add(a[..n], 1f, a[..n]);
            TensorPrimitives.FusedMultiplyAdd(a[..n], 0.5f, b[..n], a[..n]);
            TensorPrimitives.FusedMultiplyAdd(dy.Slice(i, n), a[..n], dx.Slice(i, n), dx.Slice(i, n));
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
