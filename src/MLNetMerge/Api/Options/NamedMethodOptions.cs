using System.Globalization;
using MLNetMerge.Merging;

namespace MLNetMerge;

/// <summary>A merge method chosen by its recipe name (ours or mergekit's) with parameters written as in a recipe
/// (<c>keep: 0.2</c>, <c>merge: sum</c>); a mergekit name brings the parameters it implies (<c>dare_ties</c> is
/// <c>dare</c> with <c>merge: ties</c>).</summary>
internal sealed class NamedMethodOptions : MergeOptions
{
    private readonly Dictionary<string, ParameterValue> _parameters;

    public NamedMethodOptions(string method, IReadOnlyDictionary<string, string>? parameters)
    {
        var (found, implied) = MergeMethods.Find(method);
        MethodName = found.Name;
        _parameters = new Dictionary<string, ParameterValue>(StringComparer.Ordinal);
        foreach (var (key, value) in implied) _parameters[key] = Value(value);
        foreach (var (key, value) in parameters ?? new Dictionary<string, string>()) _parameters[key] = Value(value);
    }

    internal override string MethodName { get; }

    internal override Dictionary<string, ParameterValue> RecipeParameters() => new(_parameters, StringComparer.Ordinal);

    private static ParameterValue Value(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? new ParameterValue.Scalar(d) : new ParameterValue.Text(text);
}
