using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MLNetMerge.Nn.Layers;

internal static partial class SmallHeadAttention
{
    /// <summary>
    /// Whether the backward's column pass takes two columns of A (and dS) at a time: float32, head sizes a multiple of two
    /// vectors, and a core with 32 vector registers (AVX-512), which the pair's 16 accumulators need beside its operands.
    /// </summary>
    private static bool PairColumns<T>(int d) where T : unmanaged =>
        typeof(T) == typeof(float) && Vector512.IsHardwareAccelerated && d % (2 * Vector<T>.Count) == 0;

    /// <summary>
    /// <see cref="RowTimesMatrix{T}"/> for two rows or columns of a (T, T) block at once, <c>o0[c] += alpha · Σ_j a[j·aStride] · m[j, c]</c>
    /// and <c>o1[c] += alpha · Σ_j a[j·aStride + next] · m[j, c]</c> (columns: aStride T, next 1; rows: aStride 1, next T),
    /// d a multiple of two vectors: each row of m is loaded once for both (four loads per four FMAs instead of six), and
    /// each output keeps its own four j-phases, summed as RowTimesMatrix sums them, so each gets the same bits as alone.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowTimesMatrixPair<T>(Span<T> o0, Span<T> o1, ReadOnlySpan<T> a, int aStride, int next, ReadOnlySpan<T> m, int tokens, int d, int stride, T alpha)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T ro0 = ref MemoryMarshal.GetReference(o0);
        ref T ro1 = ref MemoryMarshal.GetReference(o1);
        ref T ra = ref MemoryMarshal.GetReference(a);
        ref T rm = ref MemoryMarshal.GetReference(m);
        int w = Vector<T>.Count, j4 = tokens & ~3;
        if (a.Length < (tokens - 1) * aStride + next + 1) throw new ArgumentException("attention: row or column pair outside the (T, T) block.");
        var va = new Vector<T>(alpha);
        nint sa = aStride, sm = stride, nx = next;
        for (int c = 0; c + 2 * w <= d; c += 2 * w)
        {
            Vector<T> a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default, d0 = default, d1 = default; // column 0
            Vector<T> e0 = default, e1 = default, f0 = default, f1 = default, g0 = default, g1 = default, h0 = default, h1 = default; // column 1
            ref T mc = ref Unsafe.Add(ref rm, c);
            nint ja = 0, jm = 0;
            int j = 0;
            for (; j < j4; j += 4, ja += 4 * sa, jm += 4 * sm)
            {
                ref T pa = ref Unsafe.Add(ref ra, ja);
                ref T r0 = ref Unsafe.Add(ref mc, jm);
                var m00 = Vector.LoadUnsafe(ref r0); var m01 = Vector.LoadUnsafe(ref r0, (nuint)w);
                a0 = Fma(new Vector<T>(pa), m00, a0); a1 = Fma(new Vector<T>(pa), m01, a1);
                e0 = Fma(new Vector<T>(Unsafe.Add(ref pa, nx)), m00, e0); e1 = Fma(new Vector<T>(Unsafe.Add(ref pa, nx)), m01, e1);
                ref T r1 = ref Unsafe.Add(ref r0, sm);
                ref T p1 = ref Unsafe.Add(ref pa, sa);
                var m10 = Vector.LoadUnsafe(ref r1); var m11 = Vector.LoadUnsafe(ref r1, (nuint)w);
                b0 = Fma(new Vector<T>(p1), m10, b0); b1 = Fma(new Vector<T>(p1), m11, b1);
                f0 = Fma(new Vector<T>(Unsafe.Add(ref p1, nx)), m10, f0); f1 = Fma(new Vector<T>(Unsafe.Add(ref p1, nx)), m11, f1);
                ref T r2 = ref Unsafe.Add(ref r0, 2 * sm);
                ref T p2 = ref Unsafe.Add(ref pa, 2 * sa);
                var m20 = Vector.LoadUnsafe(ref r2); var m21 = Vector.LoadUnsafe(ref r2, (nuint)w);
                c0 = Fma(new Vector<T>(p2), m20, c0); c1 = Fma(new Vector<T>(p2), m21, c1);
                g0 = Fma(new Vector<T>(Unsafe.Add(ref p2, nx)), m20, g0); g1 = Fma(new Vector<T>(Unsafe.Add(ref p2, nx)), m21, g1);
                ref T r3 = ref Unsafe.Add(ref r0, 3 * sm);
                ref T p3 = ref Unsafe.Add(ref pa, 3 * sa);
                var m30 = Vector.LoadUnsafe(ref r3); var m31 = Vector.LoadUnsafe(ref r3, (nuint)w);
                d0 = Fma(new Vector<T>(p3), m30, d0); d1 = Fma(new Vector<T>(p3), m31, d1);
                h0 = Fma(new Vector<T>(Unsafe.Add(ref p3, nx)), m30, h0); h1 = Fma(new Vector<T>(Unsafe.Add(ref p3, nx)), m31, h1);
            }
            for (; j < tokens; j++, ja += sa, jm += sm)
            {
                ref T pa = ref Unsafe.Add(ref ra, ja);
                ref T r0 = ref Unsafe.Add(ref mc, jm);
                var m00 = Vector.LoadUnsafe(ref r0); var m01 = Vector.LoadUnsafe(ref r0, (nuint)w);
                a0 = Fma(new Vector<T>(pa), m00, a0); a1 = Fma(new Vector<T>(pa), m01, a1);
                e0 = Fma(new Vector<T>(Unsafe.Add(ref pa, nx)), m00, e0); e1 = Fma(new Vector<T>(Unsafe.Add(ref pa, nx)), m01, e1);
            }
            Fma((a0 + b0) + (c0 + d0), va, Vector.LoadUnsafe(ref ro0, (nuint)c)).StoreUnsafe(ref ro0, (nuint)c);
            Fma((a1 + b1) + (c1 + d1), va, Vector.LoadUnsafe(ref ro0, (nuint)(c + w))).StoreUnsafe(ref ro0, (nuint)(c + w));
            Fma((e0 + f0) + (g0 + h0), va, Vector.LoadUnsafe(ref ro1, (nuint)c)).StoreUnsafe(ref ro1, (nuint)c);
            Fma((e1 + f1) + (g1 + h1), va, Vector.LoadUnsafe(ref ro1, (nuint)(c + w))).StoreUnsafe(ref ro1, (nuint)(c + w));
        }
    }
}
