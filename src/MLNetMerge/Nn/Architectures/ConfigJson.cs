using System.Globalization;
using System.Text.Json;

namespace MLNetMerge.Nn.Architectures;

/// <summary>
/// Reads the values of a Hugging Face <c>config.json</c> strictly: an absent key takes the model type's library default,
/// but a key that is present must hold its type and range — a string, null or fractional number where an integer
/// belongs was read as the default (a 768-wide model for <c>"hidden_size": "64"</c>) or failed with a .NET format error.
/// Every refusal is an <see cref="ArgumentException"/> naming the key and what was expected; the loaders add the file.
/// </summary>
internal static class ConfigJson
{
    /// <summary>The root (or the object under <paramref name="key"/>, e.g. CLIP's <c>vision_config</c>), which must be a JSON object.</summary>
    /// <exception cref="ArgumentException">Another JSON value.</exception>
    public static JsonElement Root(JsonElement root, string? key = null) =>
        root.ValueKind == JsonValueKind.Object ? root
            : throw new ArgumentException(key is null ? $"config.json holds {Describe(root)}; expected a JSON object of settings." : $"'{key}' is {Describe(root)}; expected a JSON object of settings.");

    /// <summary>An integer of at least <paramref name="min"/>, or <paramref name="fallback"/> when the key is absent (or
    /// null, where <paramref name="nullable"/>: Hugging Face writes <c>"pad_token_id": null</c> for "none").</summary>
    /// <exception cref="ArgumentException">Not a whole number in range.</exception>
    public static int Int(JsonElement e, string name, int fallback, int min = 1, bool nullable = false)
    {
        if (!e.TryGetProperty(name, out var p) || (nullable && p.ValueKind == JsonValueKind.Null)) return fallback;
        if (p.ValueKind == JsonValueKind.Number && p.TryGetInt32(out int v) && v >= min) return v;
        throw new ArgumentException($"'{name}' is {Describe(p)}; expected a whole number{(min == int.MinValue ? "" : $" from {min} up")}.");
    }

    /// <summary>A finite number greater than 0, or <paramref name="fallback"/> when the key is absent.</summary>
    /// <exception cref="ArgumentException">Not such a number.</exception>
    public static double Positive(JsonElement e, string name, double fallback)
    {
        if (!e.TryGetProperty(name, out var p)) return fallback;
        if (p.ValueKind == JsonValueKind.Number && p.TryGetDouble(out double v) && double.IsFinite(v) && v > 0) return v;
        throw new ArgumentException($"'{name}' is {Describe(p)}; expected a finite number greater than 0.");
    }

    /// <summary>A string, or <paramref name="fallback"/> when the key is absent.</summary>
    /// <exception cref="ArgumentException">Another JSON value.</exception>
    public static string Str(JsonElement e, string name, string fallback)
    {
        if (!e.TryGetProperty(name, out var p)) return fallback;
        return p.ValueKind == JsonValueKind.String ? p.GetString()! : throw new ArgumentException($"'{name}' is {Describe(p)}; expected a string.");
    }

    /// <summary>true or false, or <paramref name="fallback"/> when the key is absent.</summary>
    /// <exception cref="ArgumentException">Another JSON value.</exception>
    public static bool Bool(JsonElement e, string name, bool fallback)
    {
        if (!e.TryGetProperty(name, out var p)) return fallback;
        return p.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new ArgumentException($"'{name}' is {Describe(p)}; expected true or false."),
        };
    }

    /// <summary>A list of integers of at least <paramref name="min"/>, or empty when the key is absent.</summary>
    /// <exception cref="ArgumentException">Not such a list.</exception>
    public static int[] Ints(JsonElement e, string name, int min = 1)
    {
        if (!e.TryGetProperty(name, out var p)) return [];
        if (p.ValueKind != JsonValueKind.Array) throw new ArgumentException($"'{name}' is {Describe(p)}; expected a list of whole numbers.");
        return [.. p.EnumerateArray().Select((v, i) => v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int x) && x >= min ? x
            : throw new ArgumentException($"'{name}'[{i}] is {Describe(v)}; expected a whole number from {min} up."))];
    }

    private static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Number => v.GetRawText(),
        JsonValueKind.String => $"the string \"{Shorten(v.GetString()!)}\"",
        JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null => v.GetRawText(),
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        _ => v.ValueKind.ToString().ToLower(CultureInfo.InvariantCulture),
    };

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
