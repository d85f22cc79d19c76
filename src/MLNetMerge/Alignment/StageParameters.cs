using System.Globalization;
using MLNetMerge.Merging;

namespace MLNetMerge.Alignment;

/// <summary>
/// Reads an alignment stage's recipe parameters (<c>align: { method: NAME, parameters: {…} }</c>) with defaults, and
/// collects the effective values so the estimator's <see cref="IAlignmentEstimator.Parameters"/> write every setting
/// back (recipe round trip). Unknown keys and bad values are <see cref="RecipeException"/>s naming the stage and key.
/// Call the getters, then <see cref="Finish"/>.
/// </summary>
public sealed class StageParameters
{
    private readonly IReadOnlyDictionary<string, ParameterValue> _given;
    private readonly Dictionary<string, ParameterValue> _effective = new(StringComparer.Ordinal);
    private readonly string _stage;

    /// <summary>Starts reading <paramref name="given"/> for stage <paramref name="stage"/>.</summary>
    public StageParameters(string stage, IReadOnlyDictionary<string, ParameterValue>? given)
    {
        _stage = stage ?? throw new ArgumentNullException(nameof(stage));
        _given = given ?? new Dictionary<string, ParameterValue>();
    }

    /// <summary>A number in [<paramref name="min"/>, <paramref name="max"/>] (default <paramref name="fallback"/>).</summary>
    /// <exception cref="RecipeException">Not a number or out of range.</exception>
    public double Number(string key, double fallback, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        double v = fallback;
        if (_given.TryGetValue(key, out var p))
        {
            if (p is ParameterValue.Scalar s) v = s.Value;
            else if (p is ParameterValue.Text t && double.TryParse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) v = d;
            else throw new RecipeException(null, $"align stage '{_stage}': parameter '{key}' must be a number.");
        }
        if (!(v >= min && v <= max)) throw new RecipeException(null, $"align stage '{_stage}': parameter '{key}' = {v.ToString(CultureInfo.InvariantCulture)} is outside [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}].");
        _effective[key] = new ParameterValue.Scalar(v);
        return v;
    }

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>] (default <paramref name="fallback"/>).</summary>
    /// <exception cref="RecipeException">Not an integer or out of range.</exception>
    public int Integer(string key, int fallback, int min = 0, int max = int.MaxValue)
    {
        double v = Number(key, fallback, min, max);
        if (v != Math.Floor(v)) throw new RecipeException(null, $"align stage '{_stage}': parameter '{key}' must be an integer, got {v.ToString(CultureInfo.InvariantCulture)}.");
        return (int)v;
    }

    /// <summary>A word out of <paramref name="choices"/> (default <paramref name="fallback"/>).</summary>
    /// <exception cref="RecipeException">Not one of the choices.</exception>
    public string Choice(string key, string fallback, params string[] choices)
    {
        string v = fallback;
        if (_given.TryGetValue(key, out var p))
            v = p switch
            {
                ParameterValue.Text t => t.Value,
                ParameterValue.Scalar s => s.Value.ToString(CultureInfo.InvariantCulture),
                _ => throw new RecipeException(null, $"align stage '{_stage}': parameter '{key}' must be one of {string.Join(", ", choices)}."),
            };
        if (!choices.Contains(v)) throw new RecipeException(null, $"align stage '{_stage}': parameter '{key}' = '{v}'; expected one of {string.Join(", ", choices)}.");
        _effective[key] = new ParameterValue.Text(v);
        return v;
    }

    /// <summary>A list of positive integers (default <paramref name="fallback"/>), e.g. <c>shots: [1, 5, 10, 20]</c>.</summary>
    /// <exception cref="RecipeException">Not a list of positive integers.</exception>
    public IReadOnlyList<int> IntegerList(string key, IReadOnlyList<int> fallback)
    {
        IReadOnlyList<int> v = fallback;
        if (_given.TryGetValue(key, out var p))
        {
            var values = p switch
            {
                ParameterValue.Gradient g => g.Values,
                ParameterValue.Scalar s => [s.Value],
                _ => throw new RecipeException(null, $"align stage '{_stage}': parameter '{key}' must be a list of positive integers."),
            };
            if (values.Count == 0 || values.Any(x => x < 1 || x != Math.Floor(x)))
                throw new RecipeException(null, $"align stage '{_stage}': parameter '{key}' must be a non-empty list of positive integers.");
            v = values.Select(x => (int)x).ToList();
        }
        _effective[key] = new ParameterValue.Gradient(v.Select(x => (double)x).ToList());
        return v;
    }

    /// <summary>Optional free text (e.g. a path); absent stays absent.</summary>
    public string? OptionalText(string key)
    {
        if (!_given.TryGetValue(key, out var p)) return null;
        if (p is not ParameterValue.Text t) throw new RecipeException(null, $"align stage '{_stage}': parameter '{key}' must be a word or path.");
        _effective[key] = t;
        return t.Value;
    }

    /// <summary>Checks that every given key was read and returns the effective settings (defaults filled in).</summary>
    /// <exception cref="RecipeException">A key was not read (unknown to the stage).</exception>
    public IReadOnlyDictionary<string, ParameterValue> Finish()
    {
        foreach (var key in _given.Keys)
            if (!_effective.ContainsKey(key))
                throw new RecipeException(null, $"align stage '{_stage}': unknown parameter '{key}'; it takes {string.Join(", ", _effective.Keys.Order(StringComparer.Ordinal))}.");
        return new Dictionary<string, ParameterValue>(_effective, StringComparer.Ordinal);
    }
}
