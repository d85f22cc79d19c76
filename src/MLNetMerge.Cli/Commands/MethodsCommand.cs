using System.CommandLine;
using System.Globalization;
using MLNetMerge.Merging;
using Spectre.Console;
using MLNetMerge.Alignment;

namespace MLNetMerge.Cli.Commands;

/// <summary><c>mlnetmerge methods</c>: every method with its parameters, defaults and paper.</summary>
internal static class MethodsCommand
{
    public static Command Create()
    {
        var markdown = new Option<bool>("--markdown") { Description = "Print the README's method tables (merge methods and alignment stages) as Markdown." };
        var cmd = new Command("methods", "List the merge methods, their parameters and defaults, and the alignment stages.");
        cmd.Options.Add(markdown);
        cmd.SetAction(r =>
        {
            if (r.GetValue(markdown))
            {
                Console.Write(MethodTable.MergeMethodsMarkdown());
                Console.WriteLine();
                Console.Write(MethodTable.AlignmentMethodsMarkdown());
                return 0;
            }
            var table = new Table().AddColumns("method", "what", "parameters (defaults)", "paper");
            foreach (var m in MergeMethods.All)
                table.AddRow(m.Name, Markup.Escape(m.Summary), Markup.Escape(string.Join(", ", m.Parameters.Select(Describe))), Markup.Escape(m.Reference));
            Terminal.Write(table);
            var stages = new Table().AddColumns("alignment stage", "data it consumes", "parameters (defaults)", "paper");
            foreach (var m in AlignmentMethods.All)
                stages.AddRow(m.Name, Markup.Escape(MethodTable.Consumes(m.Consumes)), Markup.Escape(MethodTable.StageParameters(m)), Markup.Escape(m.Reference));
            Terminal.Write(stages);
            return 0;
        });
        return cmd;
    }

    internal static string Describe(MethodParameter p) => p.Kind switch
    {
        ParameterKind.Number => double.IsNaN(p.Default) ? $"{p.Name} (auto)" : $"{p.Name}={p.Default.ToString(CultureInfo.InvariantCulture)}",
        ParameterKind.Choice => $"{p.Name}={string.Join("|", p.Choices)}",
        _ => $"{p.Name}={(p.Default != 0 ? "true" : "false")}",
    };
}
