namespace MLNetMerge.Data;

/// <summary>
/// Single-channel image transforms used to build task variants: bilinear resize (half-pixel centres, PyTorch's
/// <c>interpolate(mode="bilinear", align_corners=False)</c>), rotation by quarter turns, and intensity inversion.
/// Images are row-major (H, W).
/// </summary>
internal static class ImageTransforms
{
    /// <summary>
    /// Bilinear resize: output pixel (i, j) samples the input at <c>y = (i + 0.5)·H/H' − 0.5</c>,
    /// <c>x = (j + 0.5)·W/W' − 0.5</c>, clamped to [0, H−1] × [0, W−1], weighting the four neighbours.
    /// </summary>
    /// <param name="output">Resized image (H', W').</param>
    /// <param name="input">Image (H, W).</param>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="outHeight">H'.</param>
    /// <param name="outWidth">W'.</param>
    public static void ResizeBilinear(Span<float> output, ReadOnlySpan<float> input, int height, int width, int outHeight, int outWidth)
    {
        float sy = (float)height / outHeight, sx = (float)width / outWidth;
        for (int i = 0; i < outHeight; i++)
        {
            float y = Math.Clamp((i + 0.5f) * sy - 0.5f, 0, height - 1);
            int y0 = (int)y, y1 = Math.Min(y0 + 1, height - 1);
            float wy = y - y0;
            for (int j = 0; j < outWidth; j++)
            {
                float x = Math.Clamp((j + 0.5f) * sx - 0.5f, 0, width - 1);
                int x0 = (int)x, x1 = Math.Min(x0 + 1, width - 1);
                float wx = x - x0;
                float top = input[y0 * width + x0] * (1 - wx) + input[y0 * width + x1] * wx;
                float bottom = input[y1 * width + x0] * (1 - wx) + input[y1 * width + x1] * wx;
                output[i * outWidth + j] = top * (1 - wy) + bottom * wy;
            }
        }
    }

    /// <summary>
    /// Rotates a square image by <paramref name="quarterTurns"/> × 90° counter-clockwise (<c>numpy.rot90(img, k)</c>):
    /// one turn maps <c>out[i, j] = in[j, S−1−i]</c>.
    /// </summary>
    /// <param name="output">Rotated image (S, S); must not overlap <paramref name="input"/>.</param>
    /// <param name="input">Image (S, S).</param>
    /// <param name="size">S.</param>
    /// <param name="quarterTurns">Any integer; taken modulo 4.</param>
    public static void Rotate90(Span<float> output, ReadOnlySpan<float> input, int size, int quarterTurns)
    {
        int k = ((quarterTurns % 4) + 4) % 4, s = size;
        for (int i = 0; i < s; i++)
        {
            for (int j = 0; j < s; j++)
            {
                int si, sj;
                switch (k)
                {
                    case 0: si = i; sj = j; break;
                    case 1: si = j; sj = s - 1 - i; break;
                    case 2: si = s - 1 - i; sj = s - 1 - j; break;
                    default: si = s - 1 - j; sj = i; break;
                }
                output[i * s + j] = input[si * s + sj];
            }
        }
    }

    /// <summary>Intensity inversion <c>out = max − in</c> (e.g. max = 1 for pixels in [0, 1]).</summary>
    public static void Invert(Span<float> output, ReadOnlySpan<float> input, float max)
    {
        for (int i = 0; i < input.Length; i++) output[i] = max - input[i];
    }
}
