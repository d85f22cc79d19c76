using System.Globalization;
using System.Text;
using MLNetMerge.Merging;
using MLNetMerge.Alignment;

namespace MLNetMerge.Cli.Commands;

/// <summary>
/// The method tables of the README, generated from the registries (<see cref="MergeMethods.All"/>,
/// <see cref="AlignmentMethods.All"/>), so docs cannot drift from the code: <c>mlnetmerge methods --markdown</c> prints
/// them and a test compares them with README.md.
/// </summary>
internal static class MethodTable
{
    /// <summary>Markdown table of the merge methods: name, what it computes, parameters with defaults, paper.</summary>
    public static string MergeMethodsMarkdown()
    {
        var sb = new StringBuilder();
        sb.Append("| method | what | parameters (defaults) | per task | paper |\n|---|---|---|---|---|\n");
        foreach (var m in MergeMethods.All)
            sb.Append("| `").Append(m.Name).Append("` | ").Append(Cell(m.Summary)).Append(" | ")
              .Append(m.Parameters.Count == 0 ? "—" : Cell(string.Join(", ", m.Parameters.Select(Describe)))).Append(" | ")
              .Append(m.IsPerTask ? "yes" : "").Append(" | ").Append(Cell(m.Reference)).Append(" |\n");
        return sb.ToString();
    }

    /// <summary>Markdown table of the alignment stages: recipe name, the data it consumes, parameters with defaults, paper.</summary>
    public static string AlignmentMethodsMarkdown()
    {
        var sb = new StringBuilder();
        sb.Append("| stage | data it consumes | parameters (defaults) | paper |\n|---|---|---|---|\n");
        foreach (var m in AlignmentMethods.All)
            sb.Append("| `").Append(m.Name).Append("` | ").Append(Consumes(m.Consumes)).Append(" | ").Append(Cell(StageParameters(m))).Append(" | ").Append(Cell(m.Reference)).Append(" |\n");
        return sb.ToString();
    }

    /// <summary>A stage's parameters with their defaults, or a dash.</summary>
    public static string StageParameters(AlignmentMethod stage)
    {
        ArgumentNullException.ThrowIfNull(stage);
        return stage.Parameters.Count == 0 ? "—" : string.Join(", ", stage.Parameters.Select(Describe));
    }

    /// <summary>A parameter with its default: <c>keep=0.2</c>, <c>merge=mean|sum</c>, <c>scale (auto)</c>.</summary>
    public static string Describe(MethodParameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        return parameter.Kind switch
        {
            ParameterKind.Number => double.IsNaN(parameter.Default) ? $"{parameter.Name} (auto)" : $"{parameter.Name}={parameter.Default.ToString(CultureInfo.InvariantCulture)}",
            ParameterKind.Choice => $"{parameter.Name}={string.Join("|", parameter.Choices)}",
            _ => $"{parameter.Name}={(parameter.Default != 0 ? "true" : "false")}",
        };
    }

    /// <summary>What a <see cref="DataRequirement"/> means, in words (transductive ones are marked).</summary>
    public static string Consumes(DataRequirement requirement) => requirement switch
    {
        DataRequirement.None => "nothing (data-free)",
        DataRequirement.UnlabeledTest => "unlabeled test inputs (transductive)",
        DataRequirement.LabeledValidation => "the labeled validation split",
        _ => "training data",
    };

    private static string Cell(string text) => text.Replace("|", "\\|").Replace("\n", " ");
}
