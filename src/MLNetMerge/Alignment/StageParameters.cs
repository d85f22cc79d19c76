using System.Globalization;
using MLNetMerge.Merging;

namespace MLNetMerge.Alignment;

/// <summary>
/// Reads an alignment stage's recipe parameters (<c>align: { method: NAME, parameters: {…} }</c>): numbers and words
/// with defaults, unknown keys refused. The keys a fitted model adds for its own restoration
/// (<see cref="MergedEncoderModel.ConfigKey"/>, <see cref="MergedEncoderModel.PrefixKey"/>) are accepted and ignored.
/// </summary>
internal sealed class StageParameters
{
    private readonly string _stage;
    private readonly IReadOnlyDictionary<string, ParameterValue> _values;

    /// <exception cref="RecipeException">A key is not one of <paramref name="known"/>.</exception>
    public StageParameters(string stage, IReadOnlyDictionary<string, ParameterValue>? values, params string[] known)
    {
        _stage = stage;
        _values = values ?? new Dictionary<string, ParameterValue>();
        foreach (var key in _values.Keys)
            if (!known.Contains(key) && key != MergedEncoderModel.ConfigKey && key != MergedEncoderModel.PrefixKey)
                throw new RecipeException(null, $"alignment method '{stage}' has no parameter '{key}'; expected one of: {string.Join(", ", known)}.");
    }

    /// <exception cref="RecipeException">Not a number, or outside [min, max].</exception>
    public double Number(string key, double fallback, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        if (!_values.TryGetValue(key, out var v)) return fallback;
        double d = v.ResolveNumber(key, -1, 1);
        if (!(d >= min && d <= max)) throw new RecipeException(null, $"alignment method '{_stage}': '{key}' is {d.ToString(CultureInfo.InvariantCulture)}; expected a number in [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}].");
        return d;
    }

    /// <exception cref="RecipeException">Not a whole number in [min, max].</exception>
    public int Integer(string key, int fallback, int min, int max)
    {
        double d = Number(key, fallback, min, max);
        if (d != Math.Floor(d)) throw new RecipeException(null, $"alignment method '{_stage}': '{key}' must be a whole number, not {d.ToString(CultureInfo.InvariantCulture)}.");
        return (int)d;
    }

    /// <exception cref="RecipeException">Not one of <paramref name="choices"/>.</exception>
    public string Choice(string key, params string[] choices)
    {
        if (!_values.TryGetValue(key, out var v)) return choices[0];
        string s = v.ResolveText(key);
        return choices.Contains(s) ? s : throw new RecipeException(null, $"alignment method '{_stage}': '{key}' is '{s}'; expected one of: {string.Join(", ", choices)}.");
    }

    /// <exception cref="RecipeException">Not true/false.</exception>
    public bool Flag(string key, bool fallback)
    {
        if (!_values.TryGetValue(key, out var v)) return fallback;
        string s = v.ResolveText(key).ToLowerInvariant();
        return s switch
        {
            "true" or "1" or "yes" => true,
            "false" or "0" or "no" => false,
            _ => throw new RecipeException(null, $"alignment method '{_stage}': '{key}' is '{s}'; expected true or false."),
        };
    }

    public static ParameterValue N(double v) => new ParameterValue.Scalar(v);

    public static ParameterValue T(string v) => new ParameterValue.Text(v);
}
