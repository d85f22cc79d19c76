using System.Numerics;
using System.Numerics.Tensors;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// Sequence pooling to one vector per example. CLS: <c>y[b] = x[b, 0]</c>. Mean: <c>y[b] = Σ_t m[b,t]·x[b,t] / Σ_t m[b,t]</c>
/// (every token when no mask is given); backward spreads <c>dy[b]·m[b,t]/Σ m</c> back to the tokens.
/// </summary>
internal static class Pooling
{
    /// <summary>CLS pooling forward.</summary>
    /// <param name="output">Output (B, C).</param>
    /// <param name="x">Input (B, T, C).</param>
    /// <param name="batch">B.</param>
    /// <param name="tokens">T.</param>
    /// <param name="channels">C.</param>
    public static void ClsForward<T>(Span<T> output, ReadOnlySpan<T> x, int batch, int tokens, int channels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int b = 0; b < batch; b++) x.Slice(b * tokens * channels, channels).CopyTo(output.Slice(b * channels, channels));
    }

    /// <summary>CLS pooling backward: <c>dx[b, 0] += dy[b]</c>.</summary>
    /// <param name="dx">Input gradient (B, T, C).</param>
    /// <param name="dOutput">Output gradient (B, C).</param>
    /// <param name="batch">B.</param>
    /// <param name="tokens">T.</param>
    /// <param name="channels">C.</param>
    public static void ClsBackward<T>(Span<T> dx, ReadOnlySpan<T> dOutput, int batch, int tokens, int channels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int b = 0; b < batch; b++)
        {
            var dst = dx.Slice(b * tokens * channels, channels);
            TensorPrimitives.Add(dst, dOutput.Slice(b * channels, channels), dst);
        }
    }

    /// <summary>Masked mean pooling forward.</summary>
    /// <param name="output">Output (B, C).</param>
    /// <param name="x">Input (B, T, C).</param>
    /// <param name="mask">Token mask (B, T): true = counted; empty = all tokens.</param>
    /// <param name="batch">B.</param>
    /// <param name="tokens">T.</param>
    /// <param name="channels">C.</param>
    public static void MeanForward<T>(Span<T> output, ReadOnlySpan<T> x, ReadOnlySpan<bool> mask, int batch, int tokens, int channels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int b = 0; b < batch; b++)
        {
            var y = output.Slice(b * channels, channels); // (C)
            y.Clear();
            int count = 0;
            for (int t = 0; t < tokens; t++)
            {
                if (!mask.IsEmpty && !mask[b * tokens + t]) continue;
                TensorPrimitives.Add(y, x.Slice((b * tokens + t) * channels, channels), y);
                count++;
            }
            if (count > 0) TensorPrimitives.Multiply(y, T.One / T.CreateTruncating(count), y);
        }
    }

    /// <summary>Masked mean pooling backward: <c>dx[b, t] += dy[b] · m[b,t] / Σ_t m[b,t]</c>.</summary>
    /// <param name="dx">Input gradient (B, T, C).</param>
    /// <param name="dOutput">Output gradient (B, C).</param>
    /// <param name="mask">Token mask (B, T), or empty.</param>
    /// <param name="batch">B.</param>
    /// <param name="tokens">T.</param>
    /// <param name="channels">C.</param>
    public static void MeanBackward<T>(Span<T> dx, ReadOnlySpan<T> dOutput, ReadOnlySpan<bool> mask, int batch, int tokens, int channels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int b = 0; b < batch; b++)
        {
            int count = 0;
            for (int t = 0; t < tokens; t++) if (mask.IsEmpty || mask[b * tokens + t]) count++;
            if (count == 0) continue;
            T w = T.One / T.CreateTruncating(count);
            var dy = dOutput.Slice(b * channels, channels);
            for (int t = 0; t < tokens; t++)
            {
                if (!mask.IsEmpty && !mask[b * tokens + t]) continue;
                var dst = dx.Slice((b * tokens + t) * channels, channels);
                TensorPrimitives.MultiplyAdd(dy, w, dst, dst);
            }
        }
    }
}
