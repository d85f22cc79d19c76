using Microsoft.ML;
using Microsoft.ML.Transforms.Image;

namespace MLNetMerge.MLNet;

/// <summary>
/// Images as ML.NET users have them: <c>LoadImages → ResizeImages → ExtractPixels</c>, channel-planar
/// (<c>interleavePixelColors: false</c>, i.e. (C, H, W) as the exported encoders take <c>pixel_values</c>).
/// ExtractPixels computes <c>(pixel − offset) × scale</c> with one offset and scale for every channel; a per-channel
/// normalisation (CLIP's, ImageNet's) extracts each channel's plane with its own offset and scale and concatenates the
/// planes in R, G, B order — the same (C, H, W) layout, all of it ML.NET's own savable transforms.
/// </summary>
internal static class ImagePixelSteps
{
    /// <summary>The intermediate image column the steps add (the loaded, then resized, image) and drop again: named after
    /// the pixel column, so that a user's own <c>Image</c> column is neither hidden nor replaced.</summary>
    public static string ImageColumn(string outputColumnName) => outputColumnName + ".image";

    /// <summary>
    /// The three steps from a column of image paths (relative to <paramref name="imageFolder"/>, which is saved with
    /// the model) to a float vector column of C·size·size values.
    /// </summary>
    /// <param name="ml">The context.</param>
    /// <param name="outputColumnName">The pixel column (e.g. <c>pixel_values</c>, the encoder's input name).</param>
    /// <param name="imagePathColumnName">The text column of image paths.</param>
    /// <param name="imageFolder">Folder the paths are relative to; null or empty for absolute paths.</param>
    /// <param name="imageSize">Side of the square the images are resized to (the encoder's image size).</param>
    /// <param name="channels">1 (grayscale: the red channel of an image whose R = G = B) or 3 (R, G, B planes).</param>
    /// <param name="offset">Subtracted from every 0–255 pixel value.</param>
    /// <param name="scale">Multiplies the offset value.</param>
    /// <exception cref="ArgumentException">A channel count other than 1 or 3, or a non-positive size.</exception>
    public static IEstimator<ITransformer> Create(MLContext ml, string outputColumnName, string imagePathColumnName, string? imageFolder,
        int imageSize, int channels, float offset, float scale) =>
        Create(ml, outputColumnName, imagePathColumnName, imageFolder, imageSize, channels, [.. Enumerable.Repeat(offset, channels)], [.. Enumerable.Repeat(scale, channels)]);

    /// <summary>
    /// The steps with an offset and a scale per channel (<paramref name="offsets"/>[c], <paramref name="scales"/>[c]): one
    /// ExtractPixels when they are the same on every channel, else one per channel (R, G, B planes into columns
    /// <c>{output}.R</c>, <c>.G</c>, <c>.B</c>), concatenated into the output and dropped.
    /// </summary>
    /// <exception cref="ArgumentException">A channel count other than 1 or 3, a non-positive size, or not one offset and one
    /// scale per channel.</exception>
    public static IEstimator<ITransformer> Create(MLContext ml, string outputColumnName, string imagePathColumnName, string? imageFolder,
        int imageSize, int channels, float[] offsets, float[] scales)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(offsets);
        ArgumentNullException.ThrowIfNull(scales);
        if (imageSize <= 0) throw new ArgumentException($"image size {imageSize}; expected a positive side length.", nameof(imageSize));
        if (channels is not (1 or 3))
            throw new ArgumentException($"{channels} channels; ExtractPixels steps are built for 1 (grayscale) or 3 (RGB).", nameof(channels));
        if (offsets.Length != channels || scales.Length != channels)
            throw new ArgumentException($"{offsets.Length} offsets and {scales.Length} scales for {channels} channels; expected one of each per channel.", nameof(offsets));
        string image = ImageColumn(outputColumnName);
        var steps = ml.Transforms.LoadImages(image, imageFolder ?? "", imagePathColumnName)
            .Append(ml.Transforms.ResizeImages(image, imageSize, imageSize, image));
        if (offsets.All(o => o == offsets[0]) && scales.All(c => c == scales[0]))
            return steps
                .Append(ml.Transforms.ExtractPixels(outputColumnName, image, channels == 1 ? ImagePixelExtractingEstimator.ColorBits.Red : ImagePixelExtractingEstimator.ColorBits.Rgb,
                    ImagePixelExtractingEstimator.ColorsOrder.ARGB, interleavePixelColors: false, offsetImage: offsets[0], scaleImage: scales[0]))
                .Append(ml.Transforms.DropColumns(image));
        (ImagePixelExtractingEstimator.ColorBits Bits, string Suffix)[] planes =
            [(ImagePixelExtractingEstimator.ColorBits.Red, ".R"), (ImagePixelExtractingEstimator.ColorBits.Green, ".G"), (ImagePixelExtractingEstimator.ColorBits.Blue, ".B")];
        IEstimator<ITransformer> chain = steps;
        for (int c = 0; c < channels; c++)
            chain = chain.Append(ml.Transforms.ExtractPixels(outputColumnName + planes[c].Suffix, image, planes[c].Bits,
                ImagePixelExtractingEstimator.ColorsOrder.ARGB, interleavePixelColors: false, offsetImage: offsets[c], scaleImage: scales[c]));
        string[] planeColumns = [.. planes.Take(channels).Select(p => outputColumnName + p.Suffix)];
        return chain.Append(ml.Transforms.Concatenate(outputColumnName, planeColumns))
            .Append(ml.Transforms.DropColumns([image, .. planeColumns]));
    }

    /// <summary>
    /// The offset and scale for which ExtractPixels gives <c>(pixel/255 − mean)/std</c>, the same mean and std on every
    /// channel: offset = 255·mean, scale = 1/(255·std). (Zoo vision: mean 0.5, std 0.5 → offset 127.5, scale 1/127.5.)
    /// </summary>
    public static (float Offset, float Scale) OffsetAndScale(float mean, float std) =>
        std > 0 && float.IsFinite(mean) && float.IsFinite(std) ? (255f * mean, 1f / (255f * std))
            : throw new ArgumentException($"mean {mean}, std {std}; expected a finite mean and a positive, finite std.", nameof(std));
}
