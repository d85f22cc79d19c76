using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// Attention of one (batch, head) pair without GEMM packing, for small heads (ViT/CLIP: T ≤ a few hundred, d = 16…64),
/// where the (T, T, d) products are too small for the packed GEMM to pay. Everything stays in L1: K_h (or V_h) is
/// transposed once into a (d, T) workspace, then each query row is done in one sweep, vectorised with <see cref="Vector{T}"/>.
/// <para>Forward, per row i: <c>s_j = scale · q_i · k_j</c>, masked keys −∞, <c>a = softmax(s)</c> (<c>a_j = e^(s_j − max s) / Σ_l e^(s_l − max s)</c>;
/// a row with every key masked gets a = 0; float32's exp is <see cref="ExpNonPositive"/>), <c>o_i = Σ_j a_j v_j</c>.</para>
/// <para>Backward, per row i: <c>g_j = dO_i · v_j</c>, <c>dV_j += a_j dO_i</c>, <c>dS_j = a_j (g_j − Σ_l a_l g_l)</c>,
/// <c>dQ_i += scale Σ_j dS_j k_j</c>; then per key j, down the columns of A and dS (kept in a (T, T) workspace):
/// <c>dV_j += Σ_i A_ij dO_i</c>, <c>dK_j += scale Σ_i dS_ij q_i</c>.</para>
/// Works for float32 and float64 (the finite-difference checks run it in float64); the float32 forward runs the
/// register-blocked <see cref="SmallHeadAttentionForward"/> (four query rows at a time) when Vector256 is accelerated.
/// </summary>
internal static partial class SmallHeadAttention
{
    /// <summary>Largest T this path takes; longer sequences go through the packed GEMM.</summary>
    public const int MaxTokens = 256;

    private static class Workspace<T> where T : unmanaged
    {
        [ThreadStatic] private static T[]? t_buffer;

        /// <summary>This thread's workspace of at least <paramref name="length"/> elements (grown once, then reused: no allocation per step).</summary>
        public static Span<T> Get(int length)
        {
            var w = t_buffer;
            if (w is null || w.Length < length) t_buffer = w = new T[length];
            return w.AsSpan(0, length);
        }
    }

    /// <summary>Forward of one pair.</summary>
    /// <param name="output">This head's output rows: (T, d) with row stride <paramref name="outStride"/>.</param>
    /// <param name="att">Cache: probabilities (T, T).</param>
    /// <param name="q">Queries (T, d), row stride <paramref name="stride"/>.</param>
    /// <param name="k">Keys, like q.</param>
    /// <param name="v">Values, like q.</param>
    /// <param name="keyMask">(T): true = attend; empty = every key.</param>
    /// <param name="tokens">T.</param>
    /// <param name="d">Head size.</param>
    /// <param name="stride">Row stride of q/k/v.</param>
    /// <param name="outStride">Row stride of the output.</param>
    /// <param name="scale">1/√d.</param>
    public static void Forward<T>(Span<T> output, Span<T> att, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        ReadOnlySpan<bool> keyMask, int tokens, int d, int stride, int outStride, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(q, tokens, d, stride); CheckRows(k, tokens, d, stride); CheckRows(v, tokens, d, stride);
        CheckRows(output, tokens, d, outStride);
        if (att.Length < tokens * tokens) throw new ArgumentException("attention cache shorter than (T, T).");
        if (typeof(T) == typeof(float) && System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
        {
            SmallHeadAttentionForward.Forward(MemoryMarshal.Cast<T, float>(output), MemoryMarshal.Cast<T, float>(att), MemoryMarshal.Cast<T, float>(q),
                MemoryMarshal.Cast<T, float>(k), MemoryMarshal.Cast<T, float>(v), keyMask, tokens, d, stride, outStride, float.CreateTruncating(scale));
            return;
        }
        var kt = Workspace<T>.Get(d * tokens);                                 // (d, T)
        Transpose(kt, k, tokens, d, stride);
        for (int i = 0; i < tokens; i++)
        {
            var s = att.Slice(i * tokens, tokens);                             // (T)
            RowTimesTransposed(s, q.Slice(i * stride, d), kt, tokens, d, scale);
            if (!keyMask.IsEmpty)
                for (int j = 0; j < tokens; j++) if (!keyMask[j]) s[j] = T.NegativeInfinity;
            SoftmaxInPlace(s);
            var o = output.Slice(i * outStride, d);                            // (d)
            o.Clear();
            RowTimesMatrix(o, s, 1, v, tokens, d, stride, T.One);
        }
    }

    /// <summary>Backward of one pair; adds into dq, dk and dv.</summary>
    /// <param name="dq">Query gradient rows (T, d), stride <paramref name="stride"/>.</param>
    /// <param name="dk">Key gradient, like dq.</param>
    /// <param name="dv">Value gradient, like dq.</param>
    /// <param name="dOut">This head's output gradient (T, d), stride <paramref name="outStride"/>.</param>
    /// <param name="att">Probabilities of the forward pass (T, T).</param>
    /// <param name="q">Queries.</param>
    /// <param name="k">Keys.</param>
    /// <param name="v">Values.</param>
    /// <param name="tokens">T.</param>
    /// <param name="d">Head size.</param>
    /// <param name="stride">Row stride of q/k/v and their gradients.</param>
    /// <param name="outStride">Row stride of dOut.</param>
    /// <param name="scale">1/√d.</param>
    public static void Backward<T>(Span<T> dq, Span<T> dk, Span<T> dv, ReadOnlySpan<T> dOut, ReadOnlySpan<T> att,
        ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, int tokens, int d, int stride, int outStride, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRows(q, tokens, d, stride); CheckRows(k, tokens, d, stride); CheckRows(v, tokens, d, stride);
        CheckRows(dq, tokens, d, stride); CheckRows(dk, tokens, d, stride); CheckRows(dv, tokens, d, stride);
        CheckRows(dOut, tokens, d, outStride);
        if (att.Length < tokens * tokens) throw new ArgumentException("attention cache shorter than (T, T).");
        int td = tokens * d, tt = tokens * tokens;
        var work = Workspace<T>.Get(td + tt);
        var vt = work[..td];                                                   // (d, T)
        var dS = work.Slice(td, tt);                                           // (T, T)
        Transpose(vt, v, tokens, d, stride);
        bool pairs = PairColumns<T>(d);
        int i = 0;
        for (; pairs && i + 2 <= tokens; i += 2)
        {
            for (int r = i; r < i + 2; r++)
            {
                var g = dS.Slice(r * tokens, tokens);                          // (T)
                RowTimesTransposed(g, dOut.Slice(r * outStride, d), vt, tokens, d, T.One);
                SoftmaxBackwardInPlace(g, att.Slice(r * tokens, tokens));
            }
            RowTimesMatrixPair(dq.Slice(i * stride, d), dq.Slice((i + 1) * stride, d), dS[(i * tokens)..], 1, tokens, k, tokens, d, stride, scale);
        }
        for (; i < tokens; i++)
        {
            var g = dS.Slice(i * tokens, tokens);                              // (T)
            RowTimesTransposed(g, dOut.Slice(i * outStride, d), vt, tokens, d, T.One); // g = dA row = dO_i Vᵀ
            SoftmaxBackwardInPlace(g, att.Slice(i * tokens, tokens));          // g = dS row
            RowTimesMatrix(dq.Slice(i * stride, d), g, 1, k, tokens, d, stride, scale);
        }
        // Columns of A and dS: dV_j += Σ_i A_ij dO_i, dK_j += scale Σ_i dS_ij q_i. Rows and columns go two at a time where
        // the registers allow (see RowTimesMatrixPair), each output with the same sums as alone.
        int j = 0;
        for (; pairs && j + 2 <= tokens; j += 2)
        {
            RowTimesMatrixPair(dv.Slice(j * stride, d), dv.Slice((j + 1) * stride, d), att[j..], tokens, 1, dOut, tokens, d, outStride, T.One);
            RowTimesMatrixPair(dk.Slice(j * stride, d), dk.Slice((j + 1) * stride, d), dS[j..], tokens, 1, q, tokens, d, stride, scale);
        }
        for (; j < tokens; j++)
        {
            RowTimesMatrix(dv.Slice(j * stride, d), att[j..], tokens, dOut, tokens, d, outStride, T.One);
            RowTimesMatrix(dk.Slice(j * stride, d), dS[j..], tokens, q, tokens, d, stride, scale);
        }
    }

    /// <summary>
    /// Softmax of one row in place, <c>p_j = e^(x_j − max x) / Σ_l e^(x_l − max x)</c>, in three sweeps (max; exp and sum;
    /// scale); −∞ entries give 0 and a row of only −∞ (every key masked) gives all 0. float32 is the attention forward's
    /// own softmax (<see cref="SmallHeadAttentionForward.SoftmaxOfScores"/>, scores and output the same row, exp by
    /// <see cref="ExpNonPositive"/>); float64 (the finite-difference checks) takes the scalar <c>Exp</c>.
    /// </summary>
    internal static void SoftmaxInPlace<T>(Span<T> row) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            var f = MemoryMarshal.Cast<T, float>(row);
            SmallHeadAttentionForward.SoftmaxOfScores(f, f, default);
            return;
        }
        ref T r = ref MemoryMarshal.GetReference(row);
        int n = row.Length, w = Vector<T>.Count, vecEnd = n - n % w, j;
        T max = T.NegativeInfinity;
        if (vecEnd > 0)
        {
            var vmax = Vector.LoadUnsafe(ref r);
            for (j = w; j < vecEnd; j += w) vmax = Vector.Max(vmax, Vector.LoadUnsafe(ref r, (nuint)j));
            for (int l = 0; l < w; l++) max = T.Max(max, vmax[l]);
        }
        for (j = vecEnd; j < n; j++) max = T.Max(max, Unsafe.Add(ref r, j));
        if (T.IsNegativeInfinity(max)) { row.Clear(); return; }
        T sum = T.Zero;
        for (j = 0; j < n; j++) { T e = T.Exp(Unsafe.Add(ref r, j) - max); Unsafe.Add(ref r, j) = e; sum += e; }
        T inv = T.One / sum;
        var vinv = new Vector<T>(inv);
        for (j = 0; j < vecEnd; j += w) (Vector.LoadUnsafe(ref r, (nuint)j) * vinv).StoreUnsafe(ref r, (nuint)j);
        for (j = vecEnd; j < n; j++) Unsafe.Add(ref r, j) *= inv;
    }

    /// <summary>
    /// <c>e^x</c> for x ≤ 0 (Cephes expf, about 1 ulp): <c>x = n ln2 + r</c> with n = round(x/ln2), |r| ≤ ln2/2 (ln2 in two
    /// parts for an exact r), <c>e^r ≈ 1 + r + r²(½ + r/6 + …)</c> (degree-7 polynomial), times 2ⁿ through the exponent bits;
    /// x &lt; −87.3 (including −∞) gives 0, NaN gives NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector<float> ExpNonPositive(Vector<float> x)
    {
        var under = Vector.LessThan(x, new Vector<float>(-87.3f));
        var input = x;
        x = Vector.MaxNative(x, new Vector<float>(-87.3f)); // the processor's max and conversion, as VectorExp; NaN restored at the end
        var n = Vector.Round(x * new Vector<float>(1.44269504088896341f));
        var r = Vector.FusedMultiplyAdd(n, new Vector<float>(-0.693359375f), x);
        r = Vector.FusedMultiplyAdd(n, new Vector<float>(2.12194440e-4f), r);
        var p = new Vector<float>(1.9875691500e-4f);
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1.3981999507e-3f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(8.3334519073e-3f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(4.1665795894e-2f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1.6666665459e-1f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(5.0000001201e-1f));
        p = Vector.FusedMultiplyAdd(p, r * r, r + Vector<float>.One);
        var scale = Vector.ShiftLeft(Vector.ConvertToInt32Native(n) + new Vector<int>(127), 23).As<int, float>();
        var e = Vector.ConditionalSelect(under, Vector<float>.Zero, p * scale);
        return Vector.ConditionalSelect(Vector.Equals(input, input), e, input);
    }

    /// <summary>Softmax backward of one row in place: <c>g_j ← a_j (g_j − Σ_l a_l g_l)</c> (g = ∂L/∂a in, ∂L/∂s out).</summary>
    private static void SoftmaxBackwardInPlace<T>(Span<T> g, ReadOnlySpan<T> a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T rg = ref MemoryMarshal.GetReference(g);
        ref T ra = ref MemoryMarshal.GetReference(a);
        int n = g.Length, w = Vector<T>.Count, vecEnd = n - n % w, j;
        var vdot = Vector<T>.Zero;
        for (j = 0; j < vecEnd; j += w) vdot = Fma(Vector.LoadUnsafe(ref ra, (nuint)j), Vector.LoadUnsafe(ref rg, (nuint)j), vdot);
        T dot = Vector.Sum(vdot);
        for (j = vecEnd; j < n; j++) dot += Unsafe.Add(ref ra, j) * Unsafe.Add(ref rg, j);
        var vd = new Vector<T>(dot);
        for (j = 0; j < vecEnd; j += w)
            (Vector.LoadUnsafe(ref ra, (nuint)j) * (Vector.LoadUnsafe(ref rg, (nuint)j) - vd)).StoreUnsafe(ref rg, (nuint)j);
        for (j = vecEnd; j < n; j++) Unsafe.Add(ref rg, j) = Unsafe.Add(ref ra, j) * (Unsafe.Add(ref rg, j) - dot);
    }

    /// <summary><c>a · b + c</c> fused for float and double (one rounding), plain otherwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> Fma<T>(Vector<T> a, Vector<T> b, Vector<T> c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
            return Vector.FusedMultiplyAdd(a.As<T, float>(), b.As<T, float>(), c.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector.FusedMultiplyAdd(a.As<T, double>(), b.As<T, double>(), c.As<T, double>()).As<double, T>();
        return a * b + c;
    }

    private static void CheckRows<T>(ReadOnlySpan<T> x, int rows, int cols, int stride)
    {
        if (rows > 0 && x.Length < (rows - 1) * stride + cols) throw new ArgumentException($"attention operand: ({rows}, {cols}) rows of stride {stride} need {(rows - 1) * stride + cols} elements, got {x.Length}.");
    }

    /// <summary><c>xt[p, j] = x[j, p]</c>: (d, T) from (T, d) rows of stride <paramref name="stride"/>.</summary>
    private static void Transpose<T>(Span<T> xt, ReadOnlySpan<T> x, int tokens, int d, int stride) where T : unmanaged
    {
        for (int j = 0; j < tokens; j++)
        {
            var row = x.Slice(j * stride, d);
            for (int p = 0; p < d; p++) xt[p * tokens + j] = row[p];
        }
    }

    /// <summary>
    /// <c>s[j] = alpha · Σ_p x[p] · mt[p, j]</c> for j &lt; T: a row times a transposed (d, T) matrix. Four vectors of j at a
    /// time with even and odd p in separate accumulators (eight independent FMA chains: throughput-, not latency-bound).
    /// </summary>
    private static void RowTimesTransposed<T>(Span<T> s, ReadOnlySpan<T> x, ReadOnlySpan<T> mt, int tokens, int d, T alpha)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T rs = ref MemoryMarshal.GetReference(s);
        ref T rx = ref MemoryMarshal.GetReference(x);
        ref T rm = ref MemoryMarshal.GetReference(mt);
        int w = Vector<T>.Count, j = 0, dEven = d & ~1;
        var va = new Vector<T>(alpha);
        nint t = tokens;
        for (; j + 4 * w <= tokens; j += 4 * w)
        {
            Vector<T> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
            ref T col = ref Unsafe.Add(ref rm, j);                             // mt[0, j]
            nint at = 0;                                                       // p·T, stepped (no index product per p)
            int p = 0;
            for (; p < dEven; p += 2, at += 2 * t)
            {
                var xp = new Vector<T>(Unsafe.Add(ref rx, p));
                ref T row = ref Unsafe.Add(ref col, at);
                a0 = Fma(xp, Vector.LoadUnsafe(ref row), a0);
                a1 = Fma(xp, Vector.LoadUnsafe(ref row, (nuint)w), a1);
                a2 = Fma(xp, Vector.LoadUnsafe(ref row, (nuint)(2 * w)), a2);
                a3 = Fma(xp, Vector.LoadUnsafe(ref row, (nuint)(3 * w)), a3);
                var xq = new Vector<T>(Unsafe.Add(ref rx, p + 1));
                ref T row2 = ref Unsafe.Add(ref row, tokens);
                b0 = Fma(xq, Vector.LoadUnsafe(ref row2), b0);
                b1 = Fma(xq, Vector.LoadUnsafe(ref row2, (nuint)w), b1);
                b2 = Fma(xq, Vector.LoadUnsafe(ref row2, (nuint)(2 * w)), b2);
                b3 = Fma(xq, Vector.LoadUnsafe(ref row2, (nuint)(3 * w)), b3);
            }
            if (p < d)
            {
                var xp = new Vector<T>(Unsafe.Add(ref rx, p));
                ref T row = ref Unsafe.Add(ref col, at);
                a0 = Fma(xp, Vector.LoadUnsafe(ref row), a0);
                a1 = Fma(xp, Vector.LoadUnsafe(ref row, (nuint)w), a1);
                a2 = Fma(xp, Vector.LoadUnsafe(ref row, (nuint)(2 * w)), a2);
                a3 = Fma(xp, Vector.LoadUnsafe(ref row, (nuint)(3 * w)), a3);
            }
            ((a0 + b0) * va).StoreUnsafe(ref rs, (nuint)j);
            ((a1 + b1) * va).StoreUnsafe(ref rs, (nuint)(j + w));
            ((a2 + b2) * va).StoreUnsafe(ref rs, (nuint)(j + 2 * w));
            ((a3 + b3) * va).StoreUnsafe(ref rs, (nuint)(j + 3 * w));
        }
        for (; j + w <= tokens; j += w)
        {
            Vector<T> a0 = default, b0 = default;
            int p = 0;
            for (; p < dEven; p += 2)
            {
                a0 = Fma(new Vector<T>(Unsafe.Add(ref rx, p)), Vector.LoadUnsafe(ref rm, (nuint)(p * tokens + j)), a0);
                b0 = Fma(new Vector<T>(Unsafe.Add(ref rx, p + 1)), Vector.LoadUnsafe(ref rm, (nuint)((p + 1) * tokens + j)), b0);
            }
            if (p < d) a0 = Fma(new Vector<T>(Unsafe.Add(ref rx, p)), Vector.LoadUnsafe(ref rm, (nuint)(p * tokens + j)), a0);
            ((a0 + b0) * va).StoreUnsafe(ref rs, (nuint)j);
        }
        for (; j < tokens; j++)
        {
            T acc = T.Zero;
            for (int p = 0; p < d; p++) acc += Unsafe.Add(ref rx, p) * Unsafe.Add(ref rm, p * tokens + j);
            Unsafe.Add(ref rs, j) = acc * alpha;
        }
    }

    /// <summary>
    /// <c>o[c] += alpha · Σ_j a[j·aStride] · m[j, c]</c> for c &lt; d: a (T) row (or, with aStride = T, a column of a (T, T)
    /// block) times (T, d) rows of stride <paramref name="stride"/>.
    /// One vector of c at a time with j split four ways over separate accumulators (independent FMA chains).
    /// </summary>
    private static void RowTimesMatrix<T>(Span<T> o, ReadOnlySpan<T> a, int aStride, ReadOnlySpan<T> m, int tokens, int d, int stride, T alpha)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T ro = ref MemoryMarshal.GetReference(o);
        ref T ra = ref MemoryMarshal.GetReference(a);
        ref T rm = ref MemoryMarshal.GetReference(m);
        int w = Vector<T>.Count, c = 0, j4 = tokens & ~3;
        var va = new Vector<T>(alpha);
        nint sa = aStride, sm = stride;
        for (; c + 2 * w <= d; c += 2 * w)
        {
            Vector<T> a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default, d0 = default, d1 = default;
            ref T mc = ref Unsafe.Add(ref rm, c);                              // m[0, c]
            nint ja = 0, jm = 0;                                               // j·aStride and j·stride, stepped (no index products)
            int j = 0;
            for (; j < j4; j += 4, ja += 4 * sa, jm += 4 * sm)
            {
                ref T pa = ref Unsafe.Add(ref ra, ja);
                ref T r0 = ref Unsafe.Add(ref mc, jm);
                ref T r1 = ref Unsafe.Add(ref r0, sm);
                ref T r2 = ref Unsafe.Add(ref r0, 2 * sm);
                ref T r3 = ref Unsafe.Add(ref r0, 3 * sm);
                var s0 = new Vector<T>(pa); var s1 = new Vector<T>(Unsafe.Add(ref pa, sa));
                var s2 = new Vector<T>(Unsafe.Add(ref pa, 2 * sa)); var s3 = new Vector<T>(Unsafe.Add(ref pa, 3 * sa));
                a0 = Fma(s0, Vector.LoadUnsafe(ref r0), a0); a1 = Fma(s0, Vector.LoadUnsafe(ref r0, (nuint)w), a1);
                b0 = Fma(s1, Vector.LoadUnsafe(ref r1), b0); b1 = Fma(s1, Vector.LoadUnsafe(ref r1, (nuint)w), b1);
                c0 = Fma(s2, Vector.LoadUnsafe(ref r2), c0); c1 = Fma(s2, Vector.LoadUnsafe(ref r2, (nuint)w), c1);
                d0 = Fma(s3, Vector.LoadUnsafe(ref r3), d0); d1 = Fma(s3, Vector.LoadUnsafe(ref r3, (nuint)w), d1);
            }
            for (; j < tokens; j++, ja += sa, jm += sm)
            {
                var s0 = new Vector<T>(Unsafe.Add(ref ra, ja));
                ref T r0 = ref Unsafe.Add(ref mc, jm);
                a0 = Fma(s0, Vector.LoadUnsafe(ref r0), a0); a1 = Fma(s0, Vector.LoadUnsafe(ref r0, (nuint)w), a1);
            }
            Fma((a0 + b0) + (c0 + d0), va, Vector.LoadUnsafe(ref ro, (nuint)c)).StoreUnsafe(ref ro, (nuint)c);
            Fma((a1 + b1) + (c1 + d1), va, Vector.LoadUnsafe(ref ro, (nuint)(c + w))).StoreUnsafe(ref ro, (nuint)(c + w));
        }
        for (; c + w <= d; c += w)
        {
            Vector<T> a0 = default, b0 = default;
            int j = 0;
            for (; j + 2 <= tokens; j += 2)
            {
                a0 = Fma(new Vector<T>(Unsafe.Add(ref ra, j * aStride)), Vector.LoadUnsafe(ref rm, (nuint)(j * stride + c)), a0);
                b0 = Fma(new Vector<T>(Unsafe.Add(ref ra, (j + 1) * aStride)), Vector.LoadUnsafe(ref rm, (nuint)((j + 1) * stride + c)), b0);
            }
            if (j < tokens) a0 = Fma(new Vector<T>(Unsafe.Add(ref ra, j * aStride)), Vector.LoadUnsafe(ref rm, (nuint)(j * stride + c)), a0);
            Fma(a0 + b0, va, Vector.LoadUnsafe(ref ro, (nuint)c)).StoreUnsafe(ref ro, (nuint)c);
        }
        for (; c < d; c++)
        {
            T acc = T.Zero;
            for (int j = 0; j < tokens; j++) acc += Unsafe.Add(ref ra, j * aStride) * Unsafe.Add(ref rm, j * stride + c);
            Unsafe.Add(ref ro, c) += alpha * acc;
        }
    }
}
