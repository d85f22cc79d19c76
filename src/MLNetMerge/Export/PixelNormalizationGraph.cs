using MLNetMerge.Nn.Architectures;

namespace MLNetMerge.Export;

/// <summary>
/// The per-channel normalisation <c>x' = (x − mean[c]) / std[c]</c> as the first nodes of an exported vision graph
/// (<c>Sub</c>, then <c>Div</c>, with mean and std as (1, C, 1, 1) initializers broadcast over batch, height and width).
/// </summary>
internal static class PixelNormalizationGraph
{
    /// <summary>Validates <see cref="OnnxExportOptions.PixelMean"/> and <see cref="OnnxExportOptions.PixelStd"/> against the architecture.</summary>
    /// <exception cref="ArgumentException">Only one of them set, a non-vision architecture, a length other than C, or a std ≤ 0.</exception>
    public static void Check(object architecture, OnnxExportOptions options)
    {
        if (architecture is not VisionTransformerConfig vit)
            throw new ArgumentException($"PixelMean/PixelStd normalise image channels; {architecture.GetType().Name} takes no images.", nameof(options));
        if (options.PixelMean is null || options.PixelStd is null)
            throw new ArgumentException("set PixelMean and PixelStd together.", nameof(options));
        if (options.PixelMean.Length != vit.NumChannels || options.PixelStd.Length != vit.NumChannels)
            throw new ArgumentException($"PixelMean has {options.PixelMean.Length} values and PixelStd {options.PixelStd.Length}; the encoder has {vit.NumChannels} channels.", nameof(options));
        if (options.PixelStd.Any(s => !(s > 0) || float.IsInfinity(s)))
            throw new ArgumentException($"PixelStd ({string.Join(", ", options.PixelStd)}) must be finite and positive.", nameof(options));
    }

    /// <summary>Adds the normalisation of <paramref name="pixels"/> when the options ask for it; returns the value the encoder reads.</summary>
    public static string Prepend(OnnxGraphBuilder g, string pixels, OnnxExportOptions options)
    {
        if (options.PixelMean is not { } mean || options.PixelStd is not { } std) return pixels;
        string centered = g.Node("Sub", [pixels, g.Initializer("pixel_normalization.mean", mean, 1, mean.Length, 1, 1)]);
        return g.Node("Div", [centered, g.Initializer("pixel_normalization.std", std, 1, std.Length, 1, 1)]);
    }
}
