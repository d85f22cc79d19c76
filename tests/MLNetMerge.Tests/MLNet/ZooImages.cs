using MLNetMerge.Data;
using SkiaSharp;

namespace MLNetMerge.Tests.MLNet;

/// <summary>Zoo vision images as PNG files (8-bit grayscale, as a user's image folder holds them) and their 0–255 values.</summary>
internal static class ZooImages
{
    /// <summary>The first <paramref name="count"/> test images of <paramref name="task"/> as bytes (N, 28·28), recovered from the zoo's x = b/127.5 − 1.</summary>
    public static (byte[] Pixels, int[] Labels, IReadOnlyList<string> Classes) Load(string task, int count, string split = "test")
    {
        var manifest = ZooManifest.Load(ZooPaths.Vision);
        var entry = manifest.Tasks.Single(t => t.Name == task);
        var data = ZooManifest.LoadSplit(ZooPaths.Vision, entry, split == "test" ? entry.Test : entry.Validation);
        count = Math.Min(count, data.Count);
        var bytes = new byte[count * data.FeatureLength];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)Math.Clamp(MathF.Round((data.Features[i] + 1f) * 127.5f), 0, 255);
        return (bytes, data.RequireLabels()[..count], data.ClassNames);
    }

    /// <summary>Writes image i as <c>{prefix}{i}.png</c> (28×28 Gray8) into <paramref name="folder"/>; returns the file names.</summary>
    public static string[] WritePngs(string folder, byte[] pixels, int side = 28, string prefix = "img")
    {
        int n = pixels.Length / (side * side);
        var names = new string[n];
        for (int i = 0; i < n; i++)
        {
            using var bitmap = new SKBitmap(new SKImageInfo(side, side, SKColorType.Gray8, SKAlphaType.Opaque));
            for (int y = 0; y < side; y++)
                for (int x = 0; x < side; x++)
                {
                    byte b = pixels[i * side * side + y * side + x];
                    bitmap.SetPixel(x, y, new SKColor(b, b, b));
                }
            using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            names[i] = $"{prefix}{i}.png";
            File.WriteAllBytes(Path.Combine(folder, names[i]), png.ToArray());
        }
        return names;
    }

    /// <summary>The zoo's normalisation of the bytes: x = b/127.5 − 1.</summary>
    public static float[] Normalized(byte[] pixels) => [.. pixels.Select(b => b / 127.5f - 1f)];
}
