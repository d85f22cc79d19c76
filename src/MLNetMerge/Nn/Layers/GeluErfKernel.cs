using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// float32 GELU (erf form) in two sweeps per chunk instead of ~20 <see cref="TensorPrimitives"/> passes: one exp call over
/// the chunk for <c>e = e^(−x²/2)</c>, then one <see cref="Vector{T}"/> loop for the rest.
/// <para><c>gelu(x) = x/2 · (1 + erf(x/√2))</c>, erf by Abramowitz &amp; Stegun 7.1.26 (as <see cref="SpecialFunctions.ErfFast"/>):
/// <c>erf(|z|) = 1 − (a1 t + a2 t² + a3 t³ + a4 t⁴ + a5 t⁵) e^(−z²)</c>, <c>t = 1/(1 + p|z|)</c>, sign of z.</para>
/// <para><c>gelu'(x) = (1 + erf(x/√2))/2 + x · φ(x)</c>, <c>φ(x) = e^(−x²/2)/√(2π)</c> — the same e as erf's, since
/// <c>z² = x²/2</c>.</para>
/// </summary>
internal static class GeluErfKernel
{
    private const int Chunk = 1024;
    private const float InvSqrt2 = 0.70710678f, InvSqrt2Pi = 0.39894228f;
    private const float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;

    /// <summary><c>y = gelu(x)</c>, split over the worker threads in whole chunks (same bits for any thread count).</summary>
    /// <param name="y">Output (N).</param>
    /// <param name="x">Input (N).</param>
    public static unsafe void Forward(Span<float> y, ReadOnlySpan<float> x)
    {
        if (y.Length < x.Length) throw new ArgumentException("GELU output shorter than its input.");
        fixed (float* py = y, px = x)
        {
            var job = RangeJob.ForThisThread;
            job.P0 = py; job.P1 = px;
            job.Run(&ForwardPart, x.Length, Chunk, x.Length);
        }
    }

    private static unsafe void ForwardPart(RangeJob j, int start, int end) =>
        ForwardRange(new Span<float>(j.P0 + start, end - start), new ReadOnlySpan<float>(j.P1 + start, end - start));

    /// <summary><c>dx += dy · gelu'(x)</c>, split over the worker threads in whole chunks.</summary>
    /// <param name="dx">Input gradient (N), added into.</param>
    /// <param name="dy">Output gradient (N).</param>
    /// <param name="x">Input of the forward pass (N).</param>
    public static unsafe void Backward(Span<float> dx, ReadOnlySpan<float> dy, ReadOnlySpan<float> x)
    {
        if (dx.Length < x.Length || dy.Length < x.Length) throw new ArgumentException("GELU gradients shorter than the input.");
        fixed (float* pdx = dx, pdy = dy, px = x)
        {
            var job = RangeJob.ForThisThread;
            job.P0 = pdx; job.P1 = pdy; job.P2 = px;
            job.Run(&BackwardPart, x.Length, Chunk, 2L * x.Length);
        }
    }

    private static unsafe void BackwardPart(RangeJob j, int start, int end) =>
        BackwardRange(new Span<float>(j.P0 + start, end - start), new ReadOnlySpan<float>(j.P1 + start, end - start), new ReadOnlySpan<float>(j.P2 + start, end - start));

    private static void ForwardRange(Span<float> y, ReadOnlySpan<float> x)
    {
        Span<float> e = stackalloc float[Chunk];                          // (chunk) e^(−x²/2)
        for (int i = 0; i < x.Length; i += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - i);
            var xi = x.Slice(i, n);
            ExpMinusHalfSquare(e[..n], xi);
            ref float rx = ref MemoryMarshal.GetReference(xi);
            ref float re = ref MemoryMarshal.GetReference(e);
            ref float ry = ref MemoryMarshal.GetReference(y.Slice(i, n));
            int w = Vector<float>.Count, j = 0;
            for (; j + w <= n; j += w)
            {
                var v = Vector.LoadUnsafe(ref rx, (nuint)j);
                var erf = ErfFromExp(v * new Vector<float>(InvSqrt2), Vector.LoadUnsafe(ref re, (nuint)j));
                (new Vector<float>(0.5f) * v * (Vector<float>.One + erf)).StoreUnsafe(ref ry, (nuint)j);
            }
            for (; j < n; j++)
            {
                float v = Unsafe.Add(ref rx, j);
                Unsafe.Add(ref ry, j) = 0.5f * v * (1f + ErfFromExp(v * InvSqrt2, Unsafe.Add(ref re, j)));
            }
        }
    }

    private static void BackwardRange(Span<float> dx, ReadOnlySpan<float> dy, ReadOnlySpan<float> x)
    {
        Span<float> e = stackalloc float[Chunk];                          // (chunk) e^(−x²/2)
        for (int i = 0; i < x.Length; i += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - i);
            var xi = x.Slice(i, n);
            ExpMinusHalfSquare(e[..n], xi);
            ref float rx = ref MemoryMarshal.GetReference(xi);
            ref float re = ref MemoryMarshal.GetReference(e);
            ref float rdy = ref MemoryMarshal.GetReference(dy.Slice(i, n));
            ref float rdx = ref MemoryMarshal.GetReference(dx.Slice(i, n));
            int w = Vector<float>.Count, j = 0;
            for (; j + w <= n; j += w)
            {
                var v = Vector.LoadUnsafe(ref rx, (nuint)j);
                var ev = Vector.LoadUnsafe(ref re, (nuint)j);
                var erf = ErfFromExp(v * new Vector<float>(InvSqrt2), ev);
                var slope = new Vector<float>(0.5f) * (Vector<float>.One + erf) + v * ev * new Vector<float>(InvSqrt2Pi);
                Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref rdy, (nuint)j), slope, Vector.LoadUnsafe(ref rdx, (nuint)j)).StoreUnsafe(ref rdx, (nuint)j);
            }
            for (; j < n; j++)
            {
                float v = Unsafe.Add(ref rx, j), ev = Unsafe.Add(ref re, j);
                float slope = 0.5f * (1f + ErfFromExp(v * InvSqrt2, ev)) + v * ev * InvSqrt2Pi;
                Unsafe.Add(ref rdx, j) = MathF.FusedMultiplyAdd(Unsafe.Add(ref rdy, j), slope, Unsafe.Add(ref rdx, j));
            }
        }
    }

    /// <summary><c>e = exp(−x²/2)</c> over a chunk: one multiply sweep, one exp call.</summary>
    private static void ExpMinusHalfSquare(Span<float> e, ReadOnlySpan<float> x)
    {
        TensorPrimitives.Multiply(x, x, e);
        TensorPrimitives.Multiply(e, -0.5f, e);
        TensorPrimitives.Exp(e, e);
    }

    /// <summary>erf(z) by A&amp;S 7.1.26 given <c>e = e^(−z²)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> ErfFromExp(Vector<float> z, Vector<float> e)
    {
        var az = Vector.Abs(z);
        var t = Vector<float>.One / (Vector<float>.One + new Vector<float>(P) * az);
        var poly = new Vector<float>(A5) * t + new Vector<float>(A4);
        poly = Vector.FusedMultiplyAdd(poly, t, new Vector<float>(A3));
        poly = Vector.FusedMultiplyAdd(poly, t, new Vector<float>(A2));
        poly = Vector.FusedMultiplyAdd(poly, t, new Vector<float>(A1));
        var erfAbs = Vector<float>.One - poly * t * e;
        return Vector.ConditionalSelect(Vector.LessThan(z, Vector<float>.Zero), -erfAbs, erfAbs);
    }

    /// <summary>Scalar erf(z) by A&amp;S 7.1.26 given <c>e = e^(−z²)</c> (the vector loop's remainder).</summary>
    private static float ErfFromExp(float z, float e)
    {
        float t = 1f / (1f + P * MathF.Abs(z));
        float poly = (((A5 * t + A4) * t + A3) * t + A2) * t + A1;
        float erfAbs = 1f - poly * t * e;
        return z < 0 ? -erfAbs : erfAbs;
    }
}
