using System.Numerics;
using System.Numerics.Tensors;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// Prepends a learned class token to every sequence: <c>y[b, 0] = cls</c>, <c>y[b, 1 + t] = x[b, t]</c>.
/// Backward: <c>dcls += Σ_b dy[b, 0]</c>, <c>dx[b, t] += dy[b, 1 + t]</c>.
/// </summary>
internal static class ClassToken
{
    /// <summary>Forward pass.</summary>
    /// <param name="output">Output (B, 1 + Np, C).</param>
    /// <param name="classToken">Class token (C).</param>
    /// <param name="patches">Input (B, Np, C).</param>
    /// <param name="batch">B.</param>
    /// <param name="patchCount">Np.</param>
    /// <param name="channels">C.</param>
    public static void Forward<T>(Span<T> output, ReadOnlySpan<T> classToken, ReadOnlySpan<T> patches, int batch, int patchCount, int channels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int inner = patchCount * channels, outer = inner + channels;
        for (int b = 0; b < batch; b++)
        {
            classToken[..channels].CopyTo(output.Slice(b * outer, channels));
            patches.Slice(b * inner, inner).CopyTo(output.Slice(b * outer + channels, inner));
        }
    }

    /// <summary>Backward pass; adds into both gradients (an empty <paramref name="dPatches"/> is skipped).</summary>
    /// <param name="dClassToken">Class token gradient (C).</param>
    /// <param name="dPatches">Input gradient (B, Np, C), or empty.</param>
    /// <param name="dOutput">Output gradient (B, 1 + Np, C).</param>
    /// <param name="batch">B.</param>
    /// <param name="patchCount">Np.</param>
    /// <param name="channels">C.</param>
    public static void Backward<T>(Span<T> dClassToken, Span<T> dPatches, ReadOnlySpan<T> dOutput, int batch, int patchCount, int channels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int inner = patchCount * channels, outer = inner + channels;
        for (int b = 0; b < batch; b++)
        {
            TensorPrimitives.Add(dClassToken[..channels], dOutput.Slice(b * outer, channels), dClassToken[..channels]);
            if (!dPatches.IsEmpty)
            {
                var dst = dPatches.Slice(b * inner, inner);
                TensorPrimitives.Add(dst, dOutput.Slice(b * outer + channels, inner), dst);
            }
        }
    }
}
