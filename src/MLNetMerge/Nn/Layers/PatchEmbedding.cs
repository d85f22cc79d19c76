using System.Numerics;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// Patch embedding: a convolution with stride = kernel = P over (B, Cin, H, W) images, done as im2col + GEMM.
/// Patch (gy, gx) becomes row <c>gy·(W/P) + gx</c> (the order of <c>conv(x).flatten(2).transpose(1, 2)</c>), its column vector
/// laid out (Cin, P, P) like the weight (C, Cin, P, P), so <c>y = cols · Wᵀ + b</c> (a <see cref="Linear"/> over K = Cin·P·P).
/// </summary>
internal static class PatchEmbedding
{
    /// <summary>Forward pass.</summary>
    /// <param name="output">Output (B, Np, C), Np = (H/P)·(W/P).</param>
    /// <param name="columns">Cache: im2col matrix (B·Np, Cin·P·P).</param>
    /// <param name="images">Input (B, Cin, H, W).</param>
    /// <param name="weight">Convolution weight (C, Cin, P, P).</param>
    /// <param name="bias">Bias (C), or empty (CLIP has none).</param>
    /// <param name="batch">B.</param>
    /// <param name="inChannels">Cin.</param>
    /// <param name="height">H (a multiple of P).</param>
    /// <param name="width">W (a multiple of P).</param>
    /// <param name="patch">P.</param>
    /// <param name="channels">C.</param>
    public static void Forward<T>(Span<T> output, Span<T> columns, ReadOnlySpan<T> images, ReadOnlySpan<T> weight,
        ReadOnlySpan<T> bias, int batch, int inChannels, int height, int width, int patch, int channels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int gh = height / patch, gw = width / patch, k = inChannels * patch * patch;
        for (int b = 0; b < batch; b++)
            for (int gy = 0; gy < gh; gy++)
                for (int gx = 0; gx < gw; gx++)
                {
                    var col = columns.Slice(((b * gh + gy) * gw + gx) * k, k); // (Cin, P, P)
                    int o = 0;
                    for (int c = 0; c < inChannels; c++)
                        for (int py = 0; py < patch; py++)
                        {
                            images.Slice(((b * inChannels + c) * height + gy * patch + py) * width + gx * patch, patch)
                                .CopyTo(col.Slice(o, patch));
                            o += patch;
                        }
                }
        Linear.Forward(output, columns, weight, bias, batch * gh * gw, k, channels);
    }

    /// <summary>Backward pass; adds into the image, weight and bias gradients (an empty span skips it).</summary>
    /// <param name="dImages">Image gradient (B, Cin, H, W), or empty.</param>
    /// <param name="dWeight">Weight gradient (C, Cin, P, P).</param>
    /// <param name="dBias">Bias gradient (C), or empty.</param>
    /// <param name="dColumns">Workspace (B·Np, Cin·P·P), used only when <paramref name="dImages"/> is given.</param>
    /// <param name="dOutput">Output gradient (B, Np, C).</param>
    /// <param name="columns">Cache from the forward pass (B·Np, Cin·P·P).</param>
    /// <param name="weight">Convolution weight (C, Cin, P, P).</param>
    /// <param name="batch">B.</param>
    /// <param name="inChannels">Cin.</param>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="patch">P.</param>
    /// <param name="channels">C.</param>
    public static void Backward<T>(Span<T> dImages, Span<T> dWeight, Span<T> dBias, Span<T> dColumns, ReadOnlySpan<T> dOutput,
        ReadOnlySpan<T> columns, ReadOnlySpan<T> weight, int batch, int inChannels, int height, int width, int patch, int channels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int gh = height / patch, gw = width / patch, k = inChannels * patch * patch, rows = batch * gh * gw;
        Span<T> dCols = dImages.IsEmpty ? default : dColumns[..(rows * k)];
        dCols.Clear();
        Linear.Backward(dCols, dWeight, dBias, dOutput, columns, weight, rows, k, channels);
        if (dImages.IsEmpty) return;
        // col2im: the patches do not overlap, so each image element receives exactly one column entry.
        for (int b = 0; b < batch; b++)
            for (int gy = 0; gy < gh; gy++)
                for (int gx = 0; gx < gw; gx++)
                {
                    var col = dCols.Slice(((b * gh + gy) * gw + gx) * k, k);
                    int o = 0;
                    for (int c = 0; c < inChannels; c++)
                        for (int py = 0; py < patch; py++)
                        {
                            var dst = dImages.Slice(((b * inChannels + c) * height + gy * patch + py) * width + gx * patch, patch);
                            for (int px = 0; px < patch; px++) dst[px] += col[o + px];
                            o += patch;
                        }
                }
    }
}
