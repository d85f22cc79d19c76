using System.Globalization;

namespace MLNetMerge.Merging;

/// <summary>
/// A parameter's value as a recipe gives it, resolved per tensor: a number; a word; a list of numbers interpolated
/// linearly over the layer index (mergekit's gradients); or a list of <c>{filter, value}</c> entries where the first
/// entry whose filter is a substring of the tensor name applies (an entry without filter matches everything).
/// </summary>
internal abstract record ParameterValue
{
    /// <summary>A fixed number.</summary>
    public sealed record Scalar(double Value) : ParameterValue;

    /// <summary>A word (for choice and flag parameters).</summary>
    public sealed record Text(string Value) : ParameterValue;

    /// <summary>Numbers spread evenly over the layers, interpolated linearly between them.</summary>
    public sealed record Gradient(IReadOnlyList<double> Values) : ParameterValue;

    /// <summary>Filtered entries tried in order.</summary>
    public sealed record Filtered(IReadOnlyList<(string? Filter, ParameterValue Value)> Entries) : ParameterValue;

    /// <summary>Resolves a number for one tensor.</summary>
    /// <param name="tensorName">The tensor's name (for filters).</param>
    /// <param name="layer">Its layer index, or -1 when its name has none.</param>
    /// <param name="layerCount">Layers in the model (max layer index + 1).</param>
    /// <exception cref="RecipeException">No filter matches, the list is empty, or the value is a word (bad recipe input,
    /// found when the tensor is merged).</exception>
    public double ResolveNumber(string tensorName, int layer, int layerCount)
    {
        switch (this)
        {
            case Scalar s: return s.Value;
            case Text t:
                if (double.TryParse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
                if (bool.TryParse(t.Value, out var b)) return b ? 1 : 0;
                throw new RecipeException(null, $"'{t.Value}' is not a number.");
            case Gradient g: return Interpolate(g.Values, tensorName, layer, layerCount);
            case Filtered f:
                foreach (var (filter, value) in f.Entries)
                    if (Matches(filter, tensorName))
                        return value.ResolveNumber(tensorName, layer, layerCount);
                throw new RecipeException(null, $"no filter entry matches tensor '{tensorName}' (add an entry without 'filter' as a fallback).");
            default: throw new InvalidOperationException("unknown parameter value.");
        }
    }

    /// <summary>Whether a <c>{filter, value}</c> entry applies to <paramref name="tensorName"/>: no filter, mergekit's
    /// match-all <c>*</c>, or a substring of the name.</summary>
    internal static bool Matches(string? filter, string tensorName) =>
        filter is null or "*" || tensorName.Contains(filter, StringComparison.Ordinal);

    /// <summary>Resolves a word (choices, flags).</summary>
    public string ResolveText(string tensorName)
    {
        return this switch
        {
            Text t => t.Value,
            Scalar s => s.Value.ToString(CultureInfo.InvariantCulture),
            Filtered f => f.Entries.FirstOrDefault(e => Matches(e.Filter, tensorName)).Value?.ResolveText(tensorName)
                ?? throw new RecipeException(null, $"no filter entry matches tensor '{tensorName}'."),
            _ => throw new RecipeException(null, "a list cannot give a word."),
        };
    }

    /// <summary>
    /// Interpolates a gradient: layer l of L sits at position l/(L−1)·(n−1) among the n values. A tensor without a
    /// layer index takes the first value when its name mentions an embedding, else the last.
    /// </summary>
    internal static double Interpolate(IReadOnlyList<double> values, string tensorName, int layer, int layerCount)
    {
        if (values.Count == 0) throw new RecipeException(null, "an empty list has no value.");
        if (values.Count == 1) return values[0];
        if (layer < 0) return tensorName.Contains("embed", StringComparison.OrdinalIgnoreCase) ? values[0] : values[^1];
        double pos = layerCount <= 1 ? 0 : (double)layer / (layerCount - 1) * (values.Count - 1);
        int i = Math.Min((int)Math.Floor(pos), values.Count - 2);
        double frac = pos - i;
        return values[i] * (1 - frac) + values[i + 1] * frac;
    }
}
