using System.Numerics;
using System.Numerics.Tensors;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// Multi-head scaled dot-product self-attention (the part between the q/k/v projections and the output projection):
/// per batch b and head h, <c>S = Q_h K_hᵀ / √d</c> (d = C/H), masked keys get −∞, <c>A = softmax_rows(S)</c>,
/// <c>O_h = A V_h</c>, written back into the head's columns of the output.
/// Q, K and V are read from rows with a common stride, so a fused (B, T, 3C) projection is used in place
/// (pass its slices starting at 0, C and 2C with <c>rowStride = 3C</c>) as well as separate (B, T, C) ones (<c>rowStride = C</c>).
/// Backward: <c>dA = dO Vᵀ</c>, <c>dV += Aᵀ dO</c>, <c>dS = A ⊙ (dA − rowsum(A ⊙ dA))</c>,
/// <c>dQ += dS K / √d</c>, <c>dK += dSᵀ Q / √d</c>.
/// </summary>
public static class Attention
{
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
    public static void Forward<T>(Span<T> output, Span<T> probabilities, ReadOnlySpan<T> q, ReadOnlySpan<T> k,
        ReadOnlySpan<T> v, ReadOnlySpan<bool> keyMask, int batch, int tokens, int channels, int heads, int rowStride)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = channels / heads;
        T scale = T.One / T.Sqrt(T.CreateTruncating(d));
        int tt = tokens * tokens;
        for (int b = 0; b < batch; b++)
        {
            int rowBase = b * tokens * rowStride;
            for (int h = 0; h < heads; h++)
            {
                var att = probabilities.Slice((b * heads + h) * tt, tt); // (T, T)
                int colOff = rowBase + h * d;
                // S = scale · Q_h K_hᵀ
                MatMul.Multiply(false, true, tokens, tokens, d, scale, q[colOff..], rowStride, k[colOff..], rowStride,
                    T.Zero, att, tokens);
                for (int i = 0; i < tokens; i++)
                {
                    var row = att.Slice(i * tokens, tokens); // (T)
                    if (!keyMask.IsEmpty)
                    {
                        var m = keyMask.Slice(b * tokens, tokens);
                        for (int j = 0; j < tokens; j++) if (!m[j]) row[j] = T.NegativeInfinity;
                    }
                    SoftmaxInPlace(row);
                }
                // O_h = A V_h
                MatMul.Multiply(false, false, tokens, d, tokens, T.One, att, tokens, v[colOff..], rowStride, T.Zero,
                    output[(b * tokens * channels + h * d)..], channels);
            }
        }
    }

    /// <summary>Backward pass; adds into <paramref name="dq"/>, <paramref name="dk"/> and <paramref name="dv"/>.</summary>
    /// <param name="dq">Query gradient, laid out like q.</param>
    /// <param name="dk">Key gradient, laid out like k.</param>
    /// <param name="dv">Value gradient, laid out like v.</param>
    /// <param name="scratch">Workspace (T, T).</param>
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
    public static void Backward<T>(Span<T> dq, Span<T> dk, Span<T> dv, Span<T> scratch, ReadOnlySpan<T> dOutput,
        ReadOnlySpan<T> probabilities, ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v,
        int batch, int tokens, int channels, int heads, int rowStride)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = channels / heads;
        T scale = T.One / T.Sqrt(T.CreateTruncating(d));
        int tt = tokens * tokens;
        var dAtt = scratch[..tt]; // (T, T)
        for (int b = 0; b < batch; b++)
        {
            int rowBase = b * tokens * rowStride;
            for (int h = 0; h < heads; h++)
            {
                var att = probabilities.Slice((b * heads + h) * tt, tt); // (T, T)
                int colOff = rowBase + h * d;
                var dOut = dOutput[(b * tokens * channels + h * d)..]; // (T, d) with stride C
                // dA = dO V_hᵀ
                MatMul.Multiply(false, true, tokens, tokens, d, T.One, dOut, channels, v[colOff..], rowStride, T.Zero, dAtt, tokens);
                // dV_h += Aᵀ dO
                MatMul.Multiply(true, false, tokens, d, tokens, T.One, att, tokens, dOut, channels, T.One, dv[colOff..], rowStride);
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
                MatMul.Multiply(false, false, tokens, d, tokens, scale, dAtt, tokens, k[colOff..], rowStride, T.One, dq[colOff..], rowStride);
                MatMul.Multiply(true, false, tokens, d, tokens, scale, dAtt, tokens, q[colOff..], rowStride, T.One, dk[colOff..], rowStride);
            }
        }
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
