using System.Globalization;
using System.Text;
using MLNetMerge.Alignment;
using MLNetMerge.Merging;

namespace MLNetMerge;

/// <summary>The declared defaults of methods and stages (their registries hold the one declaration), as the options
/// classes' initial values, and the mapping between option enums and recipe words (<c>ElectMask</c> ↔ <c>elect_mask</c>).</summary>
internal static class Declared
{
    public static double MergeNumber(string method, string parameter) => Find(MergeMethods.Find(method).Method.Parameters, method, parameter).Default;

    public static bool MergeFlag(string method, string parameter) => MergeNumber(method, parameter) != 0;

    public static T MergeChoice<T>(string method, string parameter) where T : struct, Enum =>
        ToEnum<T>(Find(MergeMethods.Find(method).Method.Parameters, method, parameter).DefaultChoice);

    public static double StageNumber(string stage, string parameter) => Find(AlignmentMethods.Find(stage).Parameters, stage, parameter).Default;

    public static bool StageFlag(string stage, string parameter) => StageNumber(stage, parameter) != 0;

    public static T StageChoice<T>(string stage, string parameter) where T : struct, Enum =>
        ToEnum<T>(Find(AlignmentMethods.Find(stage).Parameters, stage, parameter).DefaultChoice);

    private static MethodParameter Find(IReadOnlyList<MethodParameter> declared, string owner, string parameter) =>
        declared.FirstOrDefault(p => p.Name == parameter) ?? throw new InvalidOperationException($"'{owner}' declares no parameter '{parameter}'.");

    /// <summary>The recipe word of an option enum member: its name in snake case.</summary>
    public static string Word(Enum value)
    {
        string name = value.ToString();
        var sb = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }

    /// <summary>The option enum member of a recipe word.</summary>
    public static T ToEnum<T>(string word) where T : struct, Enum =>
        Enum.GetValues<T>().FirstOrDefault(v => Word(v) == word) is var v && Word(v) == word ? v
            : throw new InvalidOperationException($"{typeof(T).Name} has no member for '{word}'.");

    /// <summary>The declared parameters an options object sets, in recipe form (null properties left out: the method's
    /// own default applies).</summary>
    public static Dictionary<string, ParameterValue> ToParameters(object options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = new Dictionary<string, ParameterValue>(StringComparer.Ordinal);
        foreach (var property in options.GetType().GetProperties())
        {
            if (property.GetCustomAttributes(typeof(RecipeParameterAttribute), false) is not [RecipeParameterAttribute attribute]) continue;
            object? value = property.GetValue(options);
            ParameterValue? p = value switch
            {
                null => null,
                double d => new ParameterValue.Scalar(d),
                int i => new ParameterValue.Scalar(i),
                bool b => new ParameterValue.Text(b ? "true" : "false"),
                Enum e => new ParameterValue.Text(Word(e)),
                string s => new ParameterValue.Text(s),
                _ => throw new InvalidOperationException($"option {property.Name} of type {property.PropertyType.Name} has no recipe form."),
            };
            if (p is not null) result[attribute.Name] = p;
        }
        return result;
    }

    /// <summary>A number as recipes write it.</summary>
    public static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
