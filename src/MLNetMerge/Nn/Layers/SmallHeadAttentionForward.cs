using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MLNetMerge.Tensors;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// float32 forward of one (batch, head) pair for <see cref="SmallHeadAttention"/>, register-blocked over four query rows
/// (the generic path does one row at a time, so every key vector it loads feeds one FMA; here it feeds four):
/// <code>
/// Kᵀ (d, Tp) ← K_h by 8×8 transposes, zero-padded to Tp = ⌈T/8⌉·8 keys
/// for each block of 4 query rows i:
///   S (4, Tp) = scale · Q[i..i+4] Kᵀ            8 accumulators: 4 rows × 32 keys (512-bit) or × 16 (256-bit), one FMA per (row, key vector, p)
///   a_i = softmax(S_i, masked keys −∞ by a select against the key mask)   written to the cache A (T, T)
///   O[i..i+4] = A[i..i+4] V_h                   8 accumulators: 4 rows × 32 or 16 channels, one FMA per (row, vector, j)
/// </code>
/// Every product is summed in increasing p (for S) or j (for O) in one FMA chain per output element, then S is scaled by
/// 1/√d, so the result does not depend on which block a row falls in nor on the vector width (AVX2 and AVX-512 give the
/// same bits); softmax is <see cref="SoftmaxOfScores"/>, read from the scores.
/// </summary>
internal static class SmallHeadAttentionForward
{
    private const int W = 8;   // Vector256<float> lanes
    private const int Rows = 4;

    [ThreadStatic] private static float[]? t_work;

    /// <summary>Forward of one pair (see <see cref="SmallHeadAttention.Forward{T}"/> for the arguments); needs Vector256.</summary>
    public static unsafe void Forward(Span<float> output, Span<float> att, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        ReadOnlySpan<bool> keyMask, int tokens, int d, int stride, int outStride, float scale)
    {
        int tp = (tokens + W - 1) / W * W;
        int need = d * tp + Rows * tp + tp;
        var work = t_work;
        if (work is null || work.Length < need) t_work = work = new float[need];
        var kt = work.AsSpan(0, d * tp);                 // (d, Tp) Kᵀ, zero-padded
        var s = work.AsSpan(d * tp, Rows * tp);          // (4, Tp) scores of a row block
        var keep = work.AsSpan(d * tp + Rows * tp, tp);  // (Tp) all bits set where the key is attended, 0 where masked
        TransposeKeys(kt, k, tokens, d, stride, tp);
        bool masked = !keyMask.IsEmpty;
        if (masked)
        {
            var bits = MemoryMarshal.Cast<float, int>(keep);
            for (int j = 0; j < tokens; j++) bits[j] = keyMask[j] ? -1 : 0;
        }
        for (int i0 = 0; i0 < tokens; i0 += Rows)
        {
            int rows = Math.Min(Rows, tokens - i0);
            RowBlockProduct(s, tp, q.Slice(i0 * stride), stride, kt, tp, d, tp, rows, scale);      // S = scale·Q Kᵀ
            for (int r = 0; r < rows; r++)
                SoftmaxOfScores(att.Slice((i0 + r) * tokens, tokens), s.Slice(r * tp, tokens), masked ? keep : default);
            RowBlockProduct(output.Slice(i0 * outStride), outStride, att.Slice(i0 * tokens), tokens, v, stride, tokens, d, rows, 1f); // O = A V
        }
    }

    /// <summary><c>kt[p·tp + j] = k[j·stride + p]</c> for j &lt; T, p &lt; d, and 0 for T ≤ j &lt; Tp: 8×8 transposes of key rows.</summary>
    private static unsafe void TransposeKeys(Span<float> kt, ReadOnlySpan<float> k, int tokens, int d, int stride, int tp)
    {
        if ((long)(tokens - 1) * stride + d > k.Length || kt.Length < d * tp) throw new ArgumentException("attention: key rows shorter than (T, d).");
        fixed (float* pk = k, pkt = kt)
        {
            int j = 0;
            for (; j + W <= tokens; j += W) GemmPacking.Transpose8Columns(pk + (long)j * stride, stride, d, pkt + j, tp);
            for (int p = 0; p < d; p++)
            {
                float* row = pkt + (long)p * tp;
                for (int jj = j; jj < tokens; jj++) row[jj] = pk[(long)jj * stride + p];
                for (int jj = tokens; jj < tp; jj++) row[jj] = 0f;
            }
        }
    }

    /// <summary>s'[j..j+w): the scores, −∞ where the key is masked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Scores(ref float rs, ref float rk, int j, bool masked, Vector<float> minus) => masked
        ? Vector.ConditionalSelect(Vector.AsVectorInt32(Vector.LoadUnsafe(ref rk, (nuint)j)), Vector.LoadUnsafe(ref rs, (nuint)j), minus)
        : Vector.LoadUnsafe(ref rs, (nuint)j);

    /// <summary>s'[j]: the score, −∞ where the key is masked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Score(ref float rs, ref float rk, int j, bool masked) =>
        masked && BitConverter.SingleToInt32Bits(Unsafe.Add(ref rk, j)) == 0 ? float.NegativeInfinity : Unsafe.Add(ref rs, j);

    /// <summary>
    /// <c>a = softmax(s')</c>, <c>s'[j] = keep[j] ? s[j] : −∞</c> (all of s where <paramref name="keep"/> is empty; keep holds
    /// all-ones or zero bit patterns), read from the scores instead of a masked copy of them; <paramref name="a"/> may be
    /// <paramref name="s"/> itself (<see cref="SmallHeadAttention.SoftmaxInPlace{T}"/>: each lane is read before it is
    /// written). The row maximum takes the processor's max and a separate NaN test (.NET's portable <c>Max</c> orders NaN and
    /// signed zeros per vector): the same number as the portable one — up to the sign of a zero, which no <c>x − max</c> that
    /// reaches the exponential can tell — and any NaN still makes the row NaN.
    /// </summary>
    internal static void SoftmaxOfScores(Span<float> a, ReadOnlySpan<float> s, ReadOnlySpan<float> keep)
    {
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rs = ref MemoryMarshal.GetReference(s);
        ref float rk = ref MemoryMarshal.GetReference(keep);
        bool masked = !keep.IsEmpty;
        int n = a.Length, w = Vector<float>.Count, vecEnd = n - n % w, j;
        var minus = new Vector<float>(float.NegativeInfinity);
        float max = float.NegativeInfinity;
        bool nan = false;
        if (vecEnd > 0)
        {
            var vmax = minus;
            var ordered = Vector<int>.AllBitsSet;  // lanes that have seen no NaN
            for (j = 0; j < vecEnd; j += w)
            {
                var v = Scores(ref rs, ref rk, j, masked, minus);
                vmax = Vector.MaxNative(vmax, v);
                ordered &= Vector.Equals(v, v);
            }
            nan = !Vector.EqualsAll(ordered, Vector<int>.AllBitsSet);
            for (int l = 0; l < w; l++) max = MathF.Max(max, vmax[l]);
        }
        for (j = vecEnd; j < n; j++) max = MathF.Max(max, Score(ref rs, ref rk, j, masked));
        if (nan) max = float.NaN;
        if (float.IsNegativeInfinity(max)) { a.Clear(); return; }
        var vm = new Vector<float>(max);
        var vsum = Vector<float>.Zero;
        for (j = 0; j < vecEnd; j += w)
        {
            var e = SmallHeadAttention.ExpNonPositive(Scores(ref rs, ref rk, j, masked, minus) - vm);
            e.StoreUnsafe(ref ra, (nuint)j);
            vsum += e;
        }
        float sum = Vector.Sum(vsum);
        for (j = vecEnd; j < n; j++) { float e = MathF.Exp(Score(ref rs, ref rk, j, masked) - max); Unsafe.Add(ref ra, j) = e; sum += e; }
        float inv = 1f / sum;
        var vinv = new Vector<float>(inv);
        for (j = 0; j < vecEnd; j += w) (Vector.LoadUnsafe(ref ra, (nuint)j) * vinv).StoreUnsafe(ref ra, (nuint)j);
        for (j = vecEnd; j < n; j++) Unsafe.Add(ref ra, j) *= inv;
    }

    /// <summary>
    /// <c>o[r·oStride + c] = scale · Σ_p x[r·xStride + p] · y[p·yStride + c]</c> for r &lt; rows (≤ 4), c &lt; cols: the
    /// scores (x = Q rows, y = Kᵀ, scale 1/√d) and the values (x = attention rows, y = V_h, scale 1). Four full rows
    /// take 16 columns at a time in 8 accumulators (each y vector feeds four FMAs), then a last 8 in four; the rest goes
    /// row by row, in 32 columns at a time (four chains), vectors of 8 and then single columns, always the same FMA chain
    /// per element in increasing p.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowBlockProduct(Span<float> o, int oStride, ReadOnlySpan<float> x, int xStride, ReadOnlySpan<float> y, int yStride,
        int depth, int cols, int rows, float scale)
    {
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        ref float ro = ref MemoryMarshal.GetReference(o);
        var vs = Vector256.Create(scale);
        int c = 0;
        if (rows == Rows && Vector512.IsHardwareAccelerated)
        {
            var vs16 = Vector512.Create(scale);
            for (; c + 4 * W <= cols; c += 4 * W)
            {
                Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
                nint yo = c;                                                    // p·yStride + c, stepped
                for (int p = 0; p < depth; p++, yo += yStride)
                {
                    ref float yr = ref Unsafe.Add(ref ry, yo);
                    var y0 = Vector512.LoadUnsafe(ref yr);
                    var y1 = Vector512.LoadUnsafe(ref yr, 2 * W);
                    var x0 = Vector512.Create(Unsafe.Add(ref rx, p));
                    a00 = Vector512.FusedMultiplyAdd(x0, y0, a00); a01 = Vector512.FusedMultiplyAdd(x0, y1, a01);
                    var x1 = Vector512.Create(Unsafe.Add(ref rx, xStride + p));
                    a10 = Vector512.FusedMultiplyAdd(x1, y0, a10); a11 = Vector512.FusedMultiplyAdd(x1, y1, a11);
                    var x2 = Vector512.Create(Unsafe.Add(ref rx, 2 * xStride + p));
                    a20 = Vector512.FusedMultiplyAdd(x2, y0, a20); a21 = Vector512.FusedMultiplyAdd(x2, y1, a21);
                    var x3 = Vector512.Create(Unsafe.Add(ref rx, 3 * xStride + p));
                    a30 = Vector512.FusedMultiplyAdd(x3, y0, a30); a31 = Vector512.FusedMultiplyAdd(x3, y1, a31);
                }
                (a00 * vs16).StoreUnsafe(ref ro, (nuint)c); (a01 * vs16).StoreUnsafe(ref ro, (nuint)(c + 2 * W));
                (a10 * vs16).StoreUnsafe(ref ro, (nuint)(oStride + c)); (a11 * vs16).StoreUnsafe(ref ro, (nuint)(oStride + c + 2 * W));
                (a20 * vs16).StoreUnsafe(ref ro, (nuint)(2 * oStride + c)); (a21 * vs16).StoreUnsafe(ref ro, (nuint)(2 * oStride + c + 2 * W));
                (a30 * vs16).StoreUnsafe(ref ro, (nuint)(3 * oStride + c)); (a31 * vs16).StoreUnsafe(ref ro, (nuint)(3 * oStride + c + 2 * W));
            }
        }
        if (rows == Rows)
        {
            for (; c + 2 * W <= cols; c += 2 * W)
            {
                Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
                nint yo = c;                                                    // p·yStride + c, stepped
                for (int p = 0; p < depth; p++, yo += yStride)
                {
                    ref float yr = ref Unsafe.Add(ref ry, yo);
                    var y0 = Vector256.LoadUnsafe(ref yr);
                    var y1 = Vector256.LoadUnsafe(ref yr, W);
                    var x0 = Vector256.Create(Unsafe.Add(ref rx, p));
                    a00 = Vector256.FusedMultiplyAdd(x0, y0, a00); a01 = Vector256.FusedMultiplyAdd(x0, y1, a01);
                    var x1 = Vector256.Create(Unsafe.Add(ref rx, xStride + p));
                    a10 = Vector256.FusedMultiplyAdd(x1, y0, a10); a11 = Vector256.FusedMultiplyAdd(x1, y1, a11);
                    var x2 = Vector256.Create(Unsafe.Add(ref rx, 2 * xStride + p));
                    a20 = Vector256.FusedMultiplyAdd(x2, y0, a20); a21 = Vector256.FusedMultiplyAdd(x2, y1, a21);
                    var x3 = Vector256.Create(Unsafe.Add(ref rx, 3 * xStride + p));
                    a30 = Vector256.FusedMultiplyAdd(x3, y0, a30); a31 = Vector256.FusedMultiplyAdd(x3, y1, a31);
                }
                (a00 * vs).StoreUnsafe(ref ro, (nuint)c); (a01 * vs).StoreUnsafe(ref ro, (nuint)(c + W));
                (a10 * vs).StoreUnsafe(ref ro, (nuint)(oStride + c)); (a11 * vs).StoreUnsafe(ref ro, (nuint)(oStride + c + W));
                (a20 * vs).StoreUnsafe(ref ro, (nuint)(2 * oStride + c)); (a21 * vs).StoreUnsafe(ref ro, (nuint)(2 * oStride + c + W));
                (a30 * vs).StoreUnsafe(ref ro, (nuint)(3 * oStride + c)); (a31 * vs).StoreUnsafe(ref ro, (nuint)(3 * oStride + c + W));
            }
        }
        if (rows == Rows && c + W <= cols)
        {
            // A last 8 columns of four rows (T = 50 keys padded to 56: one such block per row block): four chains at once,
            // where row by row each would wait on its own FMA's latency.
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            nint yo = c;
            for (int p = 0; p < depth; p++, yo += yStride)
            {
                var y0 = Vector256.LoadUnsafe(ref Unsafe.Add(ref ry, yo));
                a0 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref rx, p)), y0, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref rx, xStride + p)), y0, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref rx, 2 * xStride + p)), y0, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref rx, 3 * xStride + p)), y0, a3);
            }
            (a0 * vs).StoreUnsafe(ref ro, (nuint)c); (a1 * vs).StoreUnsafe(ref ro, (nuint)(oStride + c));
            (a2 * vs).StoreUnsafe(ref ro, (nuint)(2 * oStride + c)); (a3 * vs).StoreUnsafe(ref ro, (nuint)(3 * oStride + c));
            c += W;
        }
        for (int r = 0; r < rows; r++)
        {
            int cr = rows == Rows ? c : 0;
            for (; cr + 4 * W <= cols; cr += 4 * W)
            {
                // A lone row (the last rows of a block, T mod 4 of them): 32 columns as four chains.
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                nint yo = cr;
                for (int p = 0; p < depth; p++, yo += yStride)
                {
                    ref float yr = ref Unsafe.Add(ref ry, yo);
                    var xr = Vector256.Create(Unsafe.Add(ref rx, r * xStride + p));
                    a0 = Vector256.FusedMultiplyAdd(xr, Vector256.LoadUnsafe(ref yr), a0);
                    a1 = Vector256.FusedMultiplyAdd(xr, Vector256.LoadUnsafe(ref yr, W), a1);
                    a2 = Vector256.FusedMultiplyAdd(xr, Vector256.LoadUnsafe(ref yr, 2 * W), a2);
                    a3 = Vector256.FusedMultiplyAdd(xr, Vector256.LoadUnsafe(ref yr, 3 * W), a3);
                }
                (a0 * vs).StoreUnsafe(ref ro, (nuint)(r * oStride + cr)); (a1 * vs).StoreUnsafe(ref ro, (nuint)(r * oStride + cr + W));
                (a2 * vs).StoreUnsafe(ref ro, (nuint)(r * oStride + cr + 2 * W)); (a3 * vs).StoreUnsafe(ref ro, (nuint)(r * oStride + cr + 3 * W));
            }
            for (; cr + W <= cols; cr += W)
            {
                var acc = Vector256<float>.Zero;
                for (int p = 0; p < depth; p++)
                    acc = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref rx, r * xStride + p)), Vector256.LoadUnsafe(ref ry, (nuint)(p * yStride + cr)), acc);
                (acc * vs).StoreUnsafe(ref ro, (nuint)(r * oStride + cr));
            }
            for (; cr < cols; cr++)
            {
                float acc = 0f;
                for (int p = 0; p < depth; p++) acc = MathF.FusedMultiplyAdd(Unsafe.Add(ref rx, r * xStride + p), Unsafe.Add(ref ry, p * yStride + cr), acc);
                Unsafe.Add(ref ro, r * oStride + cr) = acc * scale;
            }
        }
    }
}
