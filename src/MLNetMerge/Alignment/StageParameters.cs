using System.Globalization;
using MLNetMerge.Merging;

namespace MLNetMerge.Alignment;

/// <summary>
/// Reads an alignment stage's recipe parameters (<c>align: { method: NAME, parameters: {…} }</c>) against the stage's
/// declarations (name, kind, default, range: <see cref="AlignmentMethod.Parameters"/>, the one place they are written),
/// and collects the effective values so the estimator's <see cref="IAlignmentEstimator.Parameters"/> write every setting
/// back (recipe round trip). Unknown keys and bad values are <see cref="RecipeException"/>s naming the stage and key.
/// Call the getters, then <see cref="Finish"/>.
/// </summary>
internal sealed class StageParameters
{
    private readonly IReadOnlyDictionary<string, ParameterValue> _given;
    private readonly Dictionary<string, MethodParameter> _declared;
    private readonly Dictionary<string, ParameterValue> _effective = new(StringComparer.Ordinal);
    private readonly string _stage;

    /// <summary>Starts reading <paramref name="given"/> for stage <paramref name="stage"/>.</summary>
    /// <exception cref="RecipeException">A key the stage does not declare.</exception>
    public StageParameters(string stage, IReadOnlyList<MethodParameter> declared, IReadOnlyDictionary<string, ParameterValue>? given)
    {
        _stage = stage ?? throw new ArgumentNullException(nameof(stage));
        _declared = (declared ?? throw new ArgumentNullException(nameof(declared))).ToDictionary(d => d.Name, StringComparer.Ordinal);
        _given = given ?? new Dictionary<string, ParameterValue>();
        foreach (var key in _given.Keys)
            if (!_declared.ContainsKey(key))
                throw new RecipeException(null, $"align stage '{_stage}': unknown parameter '{key}'; it takes {string.Join(", ", declared.Select(d => d.Name))}.");
    }

    private MethodParameter Declared(string key) =>
        _declared.TryGetValue(key, out var d) ? d : throw new InvalidOperationException($"stage '{_stage}' reads '{key}', which it does not declare.");

    /// <summary>A declared number, in its range (default: the declaration's, or <paramref name="fallback"/> for a default
    /// that depends on other settings).</summary>
    /// <exception cref="RecipeException">Not a number, not an integer where one is declared, or out of range.</exception>
    public double Number(string key, double? fallback = null)
    {
        var d = Declared(key);
        double v = fallback ?? d.Default;
        if (_given.TryGetValue(key, out var p))
        {
            if (p is ParameterValue.Scalar s) v = s.Value;
            else if (p is ParameterValue.Text t && double.TryParse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x)) v = x;
            else throw new RecipeException(null, $"align stage '{_stage}': parameter '{key}' must be a number.");
        }
        if (!(v >= d.Min && v <= d.Max)) throw new RecipeException(null, $"align stage '{_stage}': parameter '{key}' = {v.ToString(CultureInfo.InvariantCulture)} is outside [{d.Min.ToString(CultureInfo.InvariantCulture)}, {d.Max.ToString(CultureInfo.InvariantCulture)}].");
        if (d.Integral && v != Math.Floor(v)) throw new RecipeException(null, $"align stage '{_stage}': parameter '{key}' must be an integer, got {v.ToString(CultureInfo.InvariantCulture)}.");
        _effective[key] = new ParameterValue.Scalar(v);
        return v;
    }

    /// <summary>A declared integer.</summary>
    /// <exception cref="RecipeException">Not an integer or out of range.</exception>
    public int Integer(string key) => (int)Number(key);

    /// <summary>A declared choice's word (default: the first choice).</summary>
    /// <exception cref="RecipeException">Not one of the choices.</exception>
    public string Choice(string key)
    {
        var d = Declared(key);
        string v = d.DefaultChoice;
        if (_given.TryGetValue(key, out var p))
            v = p switch
            {
                ParameterValue.Text t => t.Value,
                ParameterValue.Scalar s => s.Value.ToString(CultureInfo.InvariantCulture),
                _ => throw new RecipeException(null, $"align stage '{_stage}': parameter '{key}' must be one of {string.Join(", ", d.Choices)}."),
            };
        if (!d.Choices.Contains(v)) throw new RecipeException(null, $"align stage '{_stage}': parameter '{key}' = '{v}'; expected one of {string.Join(", ", d.Choices)}.");
        _effective[key] = new ParameterValue.Text(v);
        return v;
    }

    /// <summary>A declared flag (<c>true</c> / <c>false</c>).</summary>
    /// <exception cref="RecipeException">Neither true nor false.</exception>
    public bool Flag(string key)
    {
        var d = Declared(key);
        bool v = d.Default != 0;
        if (_given.TryGetValue(key, out var p))
            v = p is ParameterValue.Text t && bool.TryParse(t.Value, out bool b) ? b
                : throw new RecipeException(null, $"align stage '{_stage}': parameter '{key}' must be true or false.");
        _effective[key] = new ParameterValue.Text(v ? "true" : "false");
        return v;
    }

    /// <summary>A declared choice that also takes a non-negative integer (e.g. Tinting's <c>layer</c>: <c>head</c> or a
    /// block index); null for the word.</summary>
    /// <exception cref="RecipeException">Neither the choice nor a non-negative integer.</exception>
    public int? ChoiceOrIndex(string key)
    {
        var d = Declared(key);
        if (!_given.TryGetValue(key, out var p) || p is ParameterValue.Text { Value: var w } && d.Choices.Contains(w))
        {
            _effective[key] = new ParameterValue.Text(d.DefaultChoice);
            return null;
        }
        double v = p is ParameterValue.Scalar s ? s.Value
            : p is ParameterValue.Text t && double.TryParse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : -1;
        if (v < 0 || v != Math.Floor(v) || v > int.MaxValue)
            throw new RecipeException(null, $"align stage '{_stage}': parameter '{key}' must be {string.Join(" or ", d.Choices)} or a non-negative integer.");
        _effective[key] = new ParameterValue.Scalar(v);
        return (int)v;
    }

    /// <summary>The effective settings (defaults filled in for what was read).</summary>
    /// <exception cref="RecipeException">A given parameter that these settings do not use (e.g. <c>ridge</c> for an orthogonal map).</exception>
    public IReadOnlyDictionary<string, ParameterValue> Finish()
    {
        foreach (var key in _given.Keys)
            if (!_effective.ContainsKey(key))
                throw new RecipeException(null, $"align stage '{_stage}': parameter '{key}' does not apply with these settings (used: {string.Join(", ", _effective.Keys.Order(StringComparer.Ordinal))}).");
        return new Dictionary<string, ParameterValue>(_effective, StringComparer.Ordinal);
    }
}
