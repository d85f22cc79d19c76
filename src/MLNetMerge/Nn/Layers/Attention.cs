using System.Numerics;
using System.Numerics.Tensors;
using MLNetMerge.Tensors;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// Multi-head scaled dot-product self-attention (the part between the q/k/v projections and the output projection):
/// per batch b and head h, <c>S = Q_h K_hᵀ / √d</c> (d = C/H), masked keys get −∞, <c>A = softmax_rows(S)</c>,
/// <c>O_h = A V_h</c>, written back into the head's columns of the output.
/// Q, K and V are read from rows with a common stride, so a fused (B, T, 3C) projection is used in place
/// (pass its slices starting at 0, C and 2C with <c>rowStride = 3C</c>) as well as separate (B, T, C) ones (<c>rowStride = C</c>).
/// Backward: <c>dA = dO Vᵀ</c>, <c>dV += Aᵀ dO</c>, <c>dS = A ⊙ (dA − rowsum(A ⊙ dA))</c>,
/// <c>dQ += dS K / √d</c>, <c>dK += dSᵀ Q / √d</c>.
/// The (b, h) pairs are independent; large batches split them statically over the cores (same result for any split).
/// Sequences up to <see cref="SmallHeadAttention.MaxTokens"/> tokens run the unpacked per-pair kernel of
/// <see cref="SmallHeadAttention"/>; longer ones the packed GEMM.
/// </summary>
internal static class Attention
{
    /// <summary>Workspace elements <see cref="Backward"/> needs to use every core: one (T, T) block per worker.</summary>
    public static int ScratchLength(int tokens) => Environment.ProcessorCount * tokens * tokens;

    private static int Workers(int pairs, int tokens, int headDim, int scratchBlocks)
    {
        long flops = 4L * pairs * tokens * tokens * headDim;
        if (flops < 2_000_000) return 1; // too small to pay for a thread hand-off
        return Math.Max(1, Math.Min(Math.Min(Environment.ProcessorCount, pairs), scratchBlocks));
    }

    /// <summary>Forward pass.</summary>
    /// <param name="output">Output (B, T, C), heads concatenated along C.</param>
    /// <param name="probabilities">Cache: attention probabilities (B, H, T, T).</param>
    /// <param name="q">Queries: rows of <paramref name="rowStride"/> elements, (B, T, C) used.</param>
    /// <param name="k">Keys, same layout as <paramref name="q"/>.</param>
    /// <param name="v">Values, same layout as <paramref name="q"/>.</param>
    /// <param name="keyMask">Key padding mask (B, T): true = attend; empty = attend everywhere.</param>
    /// <param name="batch">B.</param>
    /// <param name="tokens">T.</param>
    /// <param name="channels">C.</param>
    /// <param name="heads">H (divides C).</param>
    /// <param name="rowStride">Elements between consecutive token rows of q/k/v (C separate, 3C fused).</param>
    public static unsafe void Forward<T>(Span<T> output, Span<T> probabilities, ReadOnlySpan<T> q, ReadOnlySpan<T> k,
        ReadOnlySpan<T> v, ReadOnlySpan<bool> keyMask, int batch, int tokens, int channels, int heads, int rowStride)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int pairs = batch * heads;
        int workers = Workers(pairs, tokens, channels / heads, int.MaxValue);
        if (workers == 1)
        {
            for (int bh = 0; bh < pairs; bh++) ForwardPair(bh, output, probabilities, q, k, v, keyMask, tokens, channels, heads, rowStride, int.MaxValue);
            return;
        }
        fixed (T* po = output, pp = probabilities, pq = q, pk = k, pv = v)
        fixed (bool* pm = keyMask)
        {
            var job = AttentionJob<T>.ForThisThread;
            job.Forward = true; job.Pairs = pairs; job.Parts = workers; job.Tokens = tokens; job.Channels = channels; job.Heads = heads; job.RowStride = rowStride;
            job.Out = new(po, output.Length); job.Probs = new(pp, probabilities.Length); job.Q = new(pq, q.Length); job.K = new(pk, k.Length); job.V = new(pv, v.Length);
            job.Mask = new(pm, keyMask.Length);
            Run(job, workers);
        }
    }

    private static void ForwardPair<T>(int bh, Span<T> output, Span<T> probabilities, ReadOnlySpan<T> q, ReadOnlySpan<T> k,
        ReadOnlySpan<T> v, ReadOnlySpan<bool> keyMask, int tokens, int channels, int heads, int rowStride, int maxThreads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int b = bh / heads, h = bh % heads, d = channels / heads, tt = tokens * tokens;
        T scale = T.One / T.Sqrt(T.CreateTruncating(d));
        var att = probabilities.Slice(bh * tt, tt);                     // (T, T)
        int colOff = b * tokens * rowStride + h * d;
        if (tokens <= SmallHeadAttention.MaxTokens)
        {
            SmallHeadAttention.Forward(output[(b * tokens * channels + h * d)..], att, q[colOff..], k[colOff..], v[colOff..],
                keyMask.IsEmpty ? default : keyMask.Slice(b * tokens, tokens), tokens, d, rowStride, channels, scale);
            return;
        }
        // S = scale · Q_h K_hᵀ
        MatMul.Multiply(false, true, tokens, tokens, d, scale, q[colOff..], rowStride, k[colOff..], rowStride, T.Zero, att, tokens, maxThreads);
        for (int i = 0; i < tokens; i++)
        {
            var row = att.Slice(i * tokens, tokens);                    // (T)
            if (!keyMask.IsEmpty)
            {
                var m = keyMask.Slice(b * tokens, tokens);
                for (int j = 0; j < tokens; j++) if (!m[j]) row[j] = T.NegativeInfinity;
            }
            SoftmaxInPlace(row);
        }
        // O_h = A V_h
        MatMul.Multiply(false, false, tokens, d, tokens, T.One, att, tokens, v[colOff..], rowStride, T.Zero,
            output[(b * tokens * channels + h * d)..], channels, maxThreads);
    }

    /// <summary>Backward pass; adds into <paramref name="dq"/>, <paramref name="dk"/> and <paramref name="dv"/>.</summary>
    /// <param name="dq">Query gradient, laid out like q.</param>
    /// <param name="dk">Key gradient, laid out like k.</param>
    /// <param name="dv">Value gradient, laid out like v.</param>
    /// <param name="scratch">Workspace: (T, T) at least; <see cref="ScratchLength"/> to use every core.</param>
    /// <param name="dOutput">Output gradient (B, T, C).</param>
    /// <param name="probabilities">Cache from the forward pass (B, H, T, T).</param>
    /// <param name="q">Queries of the forward pass.</param>
    /// <param name="k">Keys of the forward pass.</param>
    /// <param name="v">Values of the forward pass.</param>
    /// <param name="batch">B.</param>
    /// <param name="tokens">T.</param>
    /// <param name="channels">C.</param>
    /// <param name="heads">H.</param>
    /// <param name="rowStride">Row stride of q/k/v and their gradients.</param>
    public static unsafe void Backward<T>(Span<T> dq, Span<T> dk, Span<T> dv, Span<T> scratch, ReadOnlySpan<T> dOutput,
        ReadOnlySpan<T> probabilities, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        int batch, int tokens, int channels, int heads, int rowStride)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int pairs = batch * heads, tt = tokens * tokens;
        int workers = Workers(pairs, tokens, channels / heads, scratch.Length / Math.Max(1, tt));
        if (workers <= 1)
        {
            for (int bh = 0; bh < pairs; bh++)
                BackwardPair(bh, dq, dk, dv, scratch[..tt], dOutput, probabilities, q, k, v, tokens, channels, heads, rowStride, int.MaxValue);
            return;
        }
        fixed (T* pdq = dq, pdk = dk, pdv = dv, ps = scratch, pdo = dOutput, pp = probabilities, pq = q, pk = k, pv = v)
        {
            // Heads write disjoint columns of dq/dk/dv, batches disjoint rows: the parts never touch the same element.
            var job = AttentionJob<T>.ForThisThread;
            job.Forward = false; job.Pairs = pairs; job.Parts = workers; job.Tokens = tokens; job.Channels = channels; job.Heads = heads; job.RowStride = rowStride;
            job.DQ = new(pdq, dq.Length); job.DK = new(pdk, dk.Length); job.DV = new(pdv, dv.Length); job.Scratch = new(ps, scratch.Length);
            job.DOut = new(pdo, dOutput.Length); job.Probs = new(pp, probabilities.Length); job.Q = new(pq, q.Length); job.K = new(pk, k.Length); job.V = new(pv, v.Length);
            Run(job, workers);
        }
    }

    private static void Run<T>(AttentionJob<T> job, int parts) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // The engine's worker threads (shared with GEMM); when another caller holds them, run every part here: same result.
        parts = Math.Min(parts, GemmWorkerPool.Shared.MaxParts);
        job.Parts = parts;
        if (!GemmWorkerPool.Shared.TryRun(job, parts))
            for (int p = 0; p < parts; p++) job.RunPart(p);
    }

    /// <summary>One parallel attention pass: pointers into pinned buffers and the dimensions; reused per thread, so no allocation.</summary>
    private sealed unsafe class AttentionJob<T> : GemmWorkerPool.IJob where T : unmanaged, IFloatingPointIeee754<T>
    {
        [ThreadStatic] private static AttentionJob<T>? t_job;
        public static AttentionJob<T> ForThisThread => t_job ??= new AttentionJob<T>();

        public bool Forward;
        public int Pairs, Parts, Tokens, Channels, Heads, RowStride;
        public Pinned<T> Out, Probs, Q, K, V, DQ, DK, DV, Scratch, DOut;
        public Pinned<bool> Mask;

        private static Span<T> S(Pinned<T> b) => new(b.Ptr, b.Length);

        public void RunPart(int part)
        {
            int parts = Parts;
            int first = (int)((long)Pairs * part / parts), last = (int)((long)Pairs * (part + 1) / parts);
            int tt = Tokens * Tokens;
            for (int bh = first; bh < last; bh++)
            {
                if (Forward)
                    ForwardPair(bh, S(Out), S(Probs), S(Q), S(K), S(V), new ReadOnlySpan<bool>(Mask.Ptr, Mask.Length), Tokens, Channels, Heads, RowStride, 1);
                else
                    BackwardPair(bh, S(DQ), S(DK), S(DV), S(Scratch).Slice(part * tt, tt), S(DOut), S(Probs), S(Q), S(K), S(V), Tokens, Channels, Heads, RowStride, 1);
            }
        }
    }

    /// <summary>A pinned buffer: its first element and length.</summary>
    private readonly unsafe struct Pinned<TE>(TE* ptr, int length) where TE : unmanaged
    {
        public readonly TE* Ptr = ptr;
        public readonly int Length = length;
    }

    private static void BackwardPair<T>(int bh, Span<T> dq, Span<T> dk, Span<T> dv, Span<T> dAtt, ReadOnlySpan<T> dOutput,
        ReadOnlySpan<T> probabilities, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, int tokens, int channels, int heads, int rowStride,
        int maxThreads) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int b = bh / heads, h = bh % heads, d = channels / heads, tt = tokens * tokens;
        T scale = T.One / T.Sqrt(T.CreateTruncating(d));
        var att = probabilities.Slice(bh * tt, tt);                     // (T, T)
        int colOff = b * tokens * rowStride + h * d;
        var dOut = dOutput[(b * tokens * channels + h * d)..];          // (T, d) with stride C
        if (tokens <= SmallHeadAttention.MaxTokens)
        {
            SmallHeadAttention.Backward(dq[colOff..], dk[colOff..], dv[colOff..], dOut, att, q[colOff..], k[colOff..], v[colOff..],
                tokens, d, rowStride, channels, scale);
            return;
        }
        // dA = dO V_hᵀ
        MatMul.Multiply(false, true, tokens, tokens, d, T.One, dOut, channels, v[colOff..], rowStride, T.Zero, dAtt, tokens, maxThreads);
        // dV_h += Aᵀ dO
        MatMul.Multiply(true, false, tokens, d, tokens, T.One, att, tokens, dOut, channels, T.One, dv[colOff..], rowStride, maxThreads);
        // dS = A ⊙ (dA − rowsum(A ⊙ dA))
        for (int i = 0; i < tokens; i++)
        {
            var a = att.Slice(i * tokens, tokens);
            var g = dAtt.Slice(i * tokens, tokens);
            T dot = TensorPrimitives.Dot(a, g);
            TensorPrimitives.Subtract(g, dot, g);
            TensorPrimitives.Multiply(g, a, g);
        }
        // dQ_h += scale · dS K_h ;  dK_h += scale · dSᵀ Q_h
        MatMul.Multiply(false, false, tokens, d, tokens, scale, dAtt, tokens, k[colOff..], rowStride, T.One, dq[colOff..], rowStride, maxThreads);
        MatMul.Multiply(true, false, tokens, d, tokens, scale, dAtt, tokens, q[colOff..], rowStride, T.One, dk[colOff..], rowStride, maxThreads);
    }

    /// <summary>Numerically stable softmax of one row in place: <c>p_j = exp(x_j − max x) / Σ exp(x − max x)</c>; −∞ entries become 0.</summary>
    internal static void SoftmaxInPlace<T>(Span<T> row) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T max = TensorPrimitives.Max<T>(row);
        if (T.IsNegativeInfinity(max)) { row.Clear(); return; } // every key masked: no attention
        TensorPrimitives.Subtract(row, max, row);
        TensorPrimitives.Exp<T>(row, row);
        T sum = TensorPrimitives.Sum<T>(row);
        TensorPrimitives.Multiply(row, T.One / sum, row);
    }
}
