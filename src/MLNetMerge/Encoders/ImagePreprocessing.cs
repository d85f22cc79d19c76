using System.Globalization;
using System.Text.Json;

namespace MLNetMerge.Encoders;

/// <summary>
/// How a vision encoder's pixels were normalised in training, read from the Hugging Face image processor's
/// <c>preprocessor_config.json</c> beside the model's <c>config.json</c>: <c>x = (pixel·r − image_mean[c]) / image_std[c]</c>
/// with <c>r = rescale_factor</c> (1/255 by default; 1 with <c>do_rescale: false</c>) and mean 0, std 1 with
/// <c>do_normalize: false</c>. Stated here on the [0, 1] scale, <c>x = (pixel/255 − Mean[c]) / Std[c]</c>, the form
/// ML.NET's ExtractPixels steps take (a rescale other than 1/255 folds into both: Mean = mean/(255r), Std = std/(255r)).
/// </summary>
/// <param name="Mean">Per channel, on [0, 1] pixels.</param>
/// <param name="Std">Per channel, positive.</param>
internal sealed record ImagePreprocessing(float[] Mean, float[] Std)
{
    /// <summary>The image processor's file name.</summary>
    public const string FileName = "preprocessor_config.json";

    /// <summary>The normalisation of the model in <paramref name="directory"/>, or null when it has no
    /// <see cref="FileName"/>.</summary>
    /// <param name="directory">The folder of the model's <c>config.json</c> (null: none).</param>
    /// <param name="channels">The encoder's image channels (a single mean or std applies to every channel).</param>
    /// <exception cref="MergeException">The file is not JSON, or a value is missing its meaning: not a number, a count other than
    /// 1 or the channel count, a non-positive std or rescale factor.</exception>
    public static ImagePreprocessing? Read(string? directory, int channels)
    {
        if (directory is null) return null;
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) return null;
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new MergeException(path, null, "is not valid JSON: " + e.Message, e);
        }
        if (root.ValueKind != JsonValueKind.Object) throw new MergeException(path, null, "is not a JSON object.");
        bool Flag(string key) => !root.TryGetProperty(key, out var v) || v.ValueKind != JsonValueKind.False;
        double rescale = 1.0 / 255;
        if (Flag("do_rescale") && root.TryGetProperty("rescale_factor", out var rf))
            rescale = rf.TryGetDouble(out double r) && r > 0 && double.IsFinite(r) ? r
                : throw new MergeException(path, null, $"rescale_factor is {rf.GetRawText()}; expected a positive number.");
        else if (!Flag("do_rescale")) rescale = 1;
        double[] mean = Flag("do_normalize") ? Values(root, "image_mean", path, channels, positive: false) ?? Fill(0.5, channels) : Fill(0, channels);
        double[] std = Flag("do_normalize") ? Values(root, "image_std", path, channels, positive: true) ?? Fill(0.5, channels) : Fill(1, channels);
        double toUnit = 255 * rescale;
        return new ImagePreprocessing([.. mean.Select(m => (float)(m / toUnit))], [.. std.Select(s => (float)(s / toUnit))]);
    }

    private static double[] Fill(double value, int channels) => [.. Enumerable.Repeat(value, channels)];

    private static double[]? Values(JsonElement root, string key, string path, int channels, bool positive)
    {
        if (!root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        double[] values = v.ValueKind == JsonValueKind.Array ? [.. v.EnumerateArray().Select(e => Number(e, key, path))] : [Number(v, key, path)];
        if (values.Length == 1) values = Fill(values[0], channels);
        if (values.Length != channels)
            throw new MergeException(path, null, $"{key} has {values.Length} values; the encoder has {channels} channels.");
        if (positive && values.Any(x => x <= 0))
            throw new MergeException(path, null, $"{key} holds {string.Join(", ", values.Select(x => x.ToString(CultureInfo.InvariantCulture)))}; expected positive values.");
        return values;
    }

    private static double Number(JsonElement e, string key, string path) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out double d) && double.IsFinite(d) ? d
            : throw new MergeException(path, null, $"{key} holds {e.GetRawText()}; expected numbers.");
}
