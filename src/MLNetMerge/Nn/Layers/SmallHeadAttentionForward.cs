using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// float32 forward of one (batch, head) pair for <see cref="SmallHeadAttention"/>, register-blocked over four query rows
/// (the generic path does one row at a time, so every key vector it loads feeds one FMA; here it feeds four):
/// <code>
/// Kᵀ (d, Tp) ← K_h, zero-padded to Tp = ⌈T/8⌉·8 keys
/// for each block of 4 query rows i:
///   S (4, Tp) = scale · Q[i..i+4] Kᵀ            8 accumulators: 4 rows × 16 keys, one FMA per (row, key vector, p)
///   a_i = softmax(S_i with masked keys −∞)      written to the cache A (T, T)
///   O[i..i+4] = A[i..i+4] V_h                   8 accumulators: 4 rows × 16 channels, one FMA per (row, vector, j)
/// </code>
/// Every product is summed in increasing p (for S) or j (for O) in one FMA chain per output element, then S is scaled by
/// 1/√d, so the result does not depend on which block a row falls in; softmax is <see cref="SmallHeadAttention.SoftmaxInPlace{T}"/>.
/// </summary>
internal static class SmallHeadAttentionForward
{
    private const int W = 8;   // Vector256<float> lanes
    private const int Rows = 4;

    [ThreadStatic] private static float[]? t_work;

    /// <summary>Forward of one pair (see <see cref="SmallHeadAttention.Forward{T}"/> for the arguments); needs Vector256.</summary>
    public static void Forward(Span<float> output, Span<float> att, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        ReadOnlySpan<bool> keyMask, int tokens, int d, int stride, int outStride, float scale)
    {
        int tp = (tokens + W - 1) / W * W;
        int need = d * tp + Rows * tp;
        var work = t_work;
        if (work is null || work.Length < need) t_work = work = new float[need];
        var kt = work.AsSpan(0, d * tp);                 // (d, Tp) Kᵀ, zero-padded
        var s = work.AsSpan(d * tp, Rows * tp);          // (4, Tp) scores of a row block
        for (int p = 0; p < d; p++)
        {
            var row = kt.Slice(p * tp, tp);
            for (int j = 0; j < tokens; j++) row[j] = k[j * stride + p];
            row[tokens..].Clear();
        }
        for (int i0 = 0; i0 < tokens; i0 += Rows)
        {
            int rows = Math.Min(Rows, tokens - i0);
            Scores(s, q.Slice(i0 * stride), stride, kt, d, tp, rows, scale);
            for (int r = 0; r < rows; r++)
            {
                var a = att.Slice((i0 + r) * tokens, tokens);    // (T)
                s.Slice(r * tp, tokens).CopyTo(a);
                if (!keyMask.IsEmpty)
                    for (int j = 0; j < tokens; j++) if (!keyMask[j]) a[j] = float.NegativeInfinity;
                SmallHeadAttention.SoftmaxInPlace(a);
            }
            Values(output.Slice(i0 * outStride), outStride, att.Slice(i0 * tokens), tokens, v, stride, d, rows);
        }
    }

    /// <summary>s[r, j] = scale · Σ_p q[r·stride + p] · kt[p, j] for r &lt; rows, j &lt; Tp.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores(Span<float> s, ReadOnlySpan<float> q, int stride, ReadOnlySpan<float> kt, int d, int tp, int rows, float scale)
    {
        ref float rq = ref MemoryMarshal.GetReference(q);
        ref float rk = ref MemoryMarshal.GetReference(kt);
        ref float rs = ref MemoryMarshal.GetReference(s);
        var vs = Vector256.Create(scale);
        int j = 0;
        if (rows == Rows)
        {
            for (; j + 2 * W <= tp; j += 2 * W)
            {
                Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
                for (int p = 0; p < d; p++)
                {
                    ref float kr = ref Unsafe.Add(ref rk, p * tp + j);
                    var k0 = Vector256.LoadUnsafe(ref kr);
                    var k1 = Vector256.LoadUnsafe(ref kr, W);
                    var q0 = Vector256.Create(Unsafe.Add(ref rq, p));
                    a00 = Vector256.FusedMultiplyAdd(q0, k0, a00); a01 = Vector256.FusedMultiplyAdd(q0, k1, a01);
                    var q1 = Vector256.Create(Unsafe.Add(ref rq, stride + p));
                    a10 = Vector256.FusedMultiplyAdd(q1, k0, a10); a11 = Vector256.FusedMultiplyAdd(q1, k1, a11);
                    var q2 = Vector256.Create(Unsafe.Add(ref rq, 2 * stride + p));
                    a20 = Vector256.FusedMultiplyAdd(q2, k0, a20); a21 = Vector256.FusedMultiplyAdd(q2, k1, a21);
                    var q3 = Vector256.Create(Unsafe.Add(ref rq, 3 * stride + p));
                    a30 = Vector256.FusedMultiplyAdd(q3, k0, a30); a31 = Vector256.FusedMultiplyAdd(q3, k1, a31);
                }
                (a00 * vs).StoreUnsafe(ref rs, (nuint)j); (a01 * vs).StoreUnsafe(ref rs, (nuint)(j + W));
                (a10 * vs).StoreUnsafe(ref rs, (nuint)(tp + j)); (a11 * vs).StoreUnsafe(ref rs, (nuint)(tp + j + W));
                (a20 * vs).StoreUnsafe(ref rs, (nuint)(2 * tp + j)); (a21 * vs).StoreUnsafe(ref rs, (nuint)(2 * tp + j + W));
                (a30 * vs).StoreUnsafe(ref rs, (nuint)(3 * tp + j)); (a31 * vs).StoreUnsafe(ref rs, (nuint)(3 * tp + j + W));
            }
        }
        // Remaining key vectors (one at a time), or a block of fewer than 4 rows: the same sums, row by row.
        for (int r = 0; r < rows; r++)
        {
            int jr = rows == Rows ? j : 0;
            for (; jr < tp; jr += W)
            {
                var acc = Vector256<float>.Zero;
                for (int p = 0; p < d; p++)
                    acc = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref rq, r * stride + p)), Vector256.LoadUnsafe(ref rk, (nuint)(p * tp + jr)), acc);
                (acc * vs).StoreUnsafe(ref rs, (nuint)(r * tp + jr));
            }
        }
    }

    /// <summary>o[r·outStride + c] = Σ_j a[r·T + j] · v[j·stride + c] for r &lt; rows, c &lt; d.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Values(Span<float> o, int outStride, ReadOnlySpan<float> a, int tokens, ReadOnlySpan<float> v, int stride, int d, int rows)
    {
        ref float ro = ref MemoryMarshal.GetReference(o);
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rv = ref MemoryMarshal.GetReference(v);
        int c = 0;
        if (rows == Rows)
        {
            for (; c + 2 * W <= d; c += 2 * W)
            {
                Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
                for (int j = 0; j < tokens; j++)
                {
                    ref float vr = ref Unsafe.Add(ref rv, j * stride + c);
                    var v0 = Vector256.LoadUnsafe(ref vr);
                    var v1 = Vector256.LoadUnsafe(ref vr, W);
                    var s0 = Vector256.Create(Unsafe.Add(ref ra, j));
                    a00 = Vector256.FusedMultiplyAdd(s0, v0, a00); a01 = Vector256.FusedMultiplyAdd(s0, v1, a01);
                    var s1 = Vector256.Create(Unsafe.Add(ref ra, tokens + j));
                    a10 = Vector256.FusedMultiplyAdd(s1, v0, a10); a11 = Vector256.FusedMultiplyAdd(s1, v1, a11);
                    var s2 = Vector256.Create(Unsafe.Add(ref ra, 2 * tokens + j));
                    a20 = Vector256.FusedMultiplyAdd(s2, v0, a20); a21 = Vector256.FusedMultiplyAdd(s2, v1, a21);
                    var s3 = Vector256.Create(Unsafe.Add(ref ra, 3 * tokens + j));
                    a30 = Vector256.FusedMultiplyAdd(s3, v0, a30); a31 = Vector256.FusedMultiplyAdd(s3, v1, a31);
                }
                a00.StoreUnsafe(ref ro, (nuint)c); a01.StoreUnsafe(ref ro, (nuint)(c + W));
                a10.StoreUnsafe(ref ro, (nuint)(outStride + c)); a11.StoreUnsafe(ref ro, (nuint)(outStride + c + W));
                a20.StoreUnsafe(ref ro, (nuint)(2 * outStride + c)); a21.StoreUnsafe(ref ro, (nuint)(2 * outStride + c + W));
                a30.StoreUnsafe(ref ro, (nuint)(3 * outStride + c)); a31.StoreUnsafe(ref ro, (nuint)(3 * outStride + c + W));
            }
        }
        for (int r = 0; r < rows; r++)
        {
            int cr = rows == Rows ? c : 0;
            for (; cr + W <= d; cr += W)
            {
                var acc = Vector256<float>.Zero;
                for (int j = 0; j < tokens; j++)
                    acc = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref ra, r * tokens + j)), Vector256.LoadUnsafe(ref rv, (nuint)(j * stride + cr)), acc);
                acc.StoreUnsafe(ref ro, (nuint)(r * outStride + cr));
            }
            for (; cr < d; cr++)
            {
                float acc = 0f;
                for (int j = 0; j < tokens; j++) acc = MathF.FusedMultiplyAdd(Unsafe.Add(ref ra, r * tokens + j), Unsafe.Add(ref rv, j * stride + cr), acc);
                Unsafe.Add(ref ro, r * outStride + cr) = acc;
            }
        }
    }
}
