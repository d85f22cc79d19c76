using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// float32 <c>e^x</c> on a whole <see cref="Vector{T}"/> in registers, for activation kernels that would otherwise make a
/// separate <c>TensorPrimitives.Exp</c> pass (which widens float to double) over a buffer.
/// <para>Range reduction <c>x = n·ln2 + r</c>, <c>n = round(x/ln2)</c>, |r| ≤ ln2/2, with ln2 split in a high part exact in
/// float and a low correction (Cody–Waite); <c>e^r ≈ 1 + r + r²·P(r)</c>, P the degree-5 minimax polynomial of the
/// Cephes <c>expf</c> (S. L. Moshier); <c>2^n</c> built in the exponent bits. Relative error within ~2 ulp for
/// x ∈ [−80, 88]; above 88 the result is e^88. Below −80 it is 0: e^x &lt; 2e-35 there, which no caller adding it to or
/// subtracting it from O(1) values can tell from 0, and an exact 0 keeps the caller's products away from denormal
/// numbers (an x86 core takes a slow microcode path on those: a GELU row of large negative pre-activations ran ~3×
/// slower before this).</para>
/// <para>The clamp and the float-to-int conversion use the processor's own instructions (<c>MinNative</c>,
/// <c>MaxNative</c>, <c>ConvertToInt32Native</c>): .NET's portable <c>Min</c>/<c>Max</c> add NaN and signed-zero handling
/// and its conversion a saturation, about twenty instructions per vector that neither changes a finite input's result
/// (the clamped n stays within [−116, 127]); a NaN input, which the native clamp would drop, is put back at the end.
/// Quick GELU over CLIP's 800 × 3072 activations: see docs/engine-inference.md.</para>
/// </summary>
internal static class VectorExp
{
    private const float Log2E = 1.44269504088896341f, Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;
    private const float Lo = -80f, Hi = 88f;
    private const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f,
        P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    /// <summary>e^x lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Exp(Vector<float> x)
    {
        var underflow = Vector.LessThan(x, new Vector<float>(Lo));
        var input = x;
        x = Vector.MinNative(Vector.MaxNative(x, new Vector<float>(Lo)), new Vector<float>(Hi)); // NaN: restored at the end
        var n = Vector.Round(x * new Vector<float>(Log2E));
        var r = Vector.FusedMultiplyAdd(n, new Vector<float>(-Ln2Hi), x);
        r = Vector.FusedMultiplyAdd(n, new Vector<float>(-Ln2Lo), r);
        var p = Vector.FusedMultiplyAdd(new Vector<float>(P0), r, new Vector<float>(P1));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(P2));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(P3));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(P4));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(P5));
        var y = Vector.FusedMultiplyAdd(p, r * r, r + Vector<float>.One);
        var scale = Vector.AsVectorSingle((Vector.ConvertToInt32Native(n) + new Vector<int>(127)) << 23); // 2^n, n ∈ [−126, 128)
        var e = Vector.ConditionalSelect(underflow, Vector<float>.Zero, y * scale);
        return Vector.ConditionalSelect(Vector.Equals(input, input), e, input);
    }

    /// <summary>e^x lane by lane on 16 lanes: the same operations per lane as the <see cref="Vector{T}"/> form (so the same
    /// bits), for kernels that run 512-bit vectors where the processor has them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var underflow = Vector512.LessThan(x, Vector512.Create(Lo));
        var input = x;
        x = Vector512.MinNative(Vector512.MaxNative(x, Vector512.Create(Lo)), Vector512.Create(Hi)); // NaN: restored at the end
        var n = Vector512.Round(x * Vector512.Create(Log2E));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        var y = Vector512.FusedMultiplyAdd(p, r * r, r + Vector512<float>.One);
        var scale = ((Vector512.ConvertToInt32Native(n) + Vector512.Create(127)) << 23).AsSingle(); // 2^n, n ∈ [−126, 128)
        var e = Vector512.ConditionalSelect(underflow, Vector512<float>.Zero, y * scale);
        return Vector512.ConditionalSelect(Vector512.Equals(input, input), e, input);
    }

    /// <summary>The same arithmetic on one float (a kernel's remainder lanes).</summary>
    public static float Exp(float x)
    {
        if (x < Lo) return 0f;
        x = MathF.Min(MathF.Max(x, Lo), Hi);
        float n = MathF.Round(x * Log2E);
        float r = MathF.FusedMultiplyAdd(n, -Ln2Hi, x);
        r = MathF.FusedMultiplyAdd(n, -Ln2Lo, r);
        float p = MathF.FusedMultiplyAdd(P0, r, P1);
        p = MathF.FusedMultiplyAdd(p, r, P2);
        p = MathF.FusedMultiplyAdd(p, r, P3);
        p = MathF.FusedMultiplyAdd(p, r, P4);
        p = MathF.FusedMultiplyAdd(p, r, P5);
        float y = MathF.FusedMultiplyAdd(p, r * r, r + 1f);
        return y * BitConverter.Int32BitsToSingle(((int)n + 127) << 23);
    }
}
