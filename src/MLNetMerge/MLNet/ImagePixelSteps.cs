using Microsoft.ML;
using Microsoft.ML.Transforms.Image;

namespace MLNetMerge.MLNet;

/// <summary>
/// Images as ML.NET users have them: <c>LoadImages → ResizeImages → ExtractPixels</c>, channel-planar
/// (<c>interleavePixelColors: false</c>, i.e. (C, H, W) as the exported encoders take <c>pixel_values</c>).
/// ExtractPixels computes <c>(pixel − offset) × scale</c> with one offset and scale for every channel; a per-channel
/// mean/std goes inside the exported graph instead (<c>OnnxExportOptions.PixelMean</c>/<c>PixelStd</c>).
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
        int imageSize, int channels, float offset, float scale)
    {
        ArgumentNullException.ThrowIfNull(ml);
        if (imageSize <= 0) throw new ArgumentException($"image size {imageSize}; expected a positive side length.", nameof(imageSize));
        var colors = channels switch
        {
            1 => ImagePixelExtractingEstimator.ColorBits.Red,
            3 => ImagePixelExtractingEstimator.ColorBits.Rgb,
            _ => throw new ArgumentException($"{channels} channels; ExtractPixels steps are built for 1 (grayscale) or 3 (RGB).", nameof(channels)),
        };
        string image = ImageColumn(outputColumnName);
        return ml.Transforms.LoadImages(image, imageFolder ?? "", imagePathColumnName)
            .Append(ml.Transforms.ResizeImages(image, imageSize, imageSize, image))
            .Append(ml.Transforms.ExtractPixels(outputColumnName, image, colors, ImagePixelExtractingEstimator.ColorsOrder.ARGB,
                interleavePixelColors: false, offsetImage: offset, scaleImage: scale))
            .Append(ml.Transforms.DropColumns(image));
    }

    /// <summary>
    /// The offset and scale for which ExtractPixels gives <c>(pixel/255 − mean)/std</c>, the same mean and std on every
    /// channel: offset = 255·mean, scale = 1/(255·std). (Zoo vision: mean 0.5, std 0.5 → offset 127.5, scale 1/127.5.)
    /// </summary>
    public static (float Offset, float Scale) OffsetAndScale(float mean, float std) =>
        std > 0 ? (255f * mean, 1f / (255f * std)) : throw new ArgumentException($"std {std}; expected a positive value.", nameof(std));
}
