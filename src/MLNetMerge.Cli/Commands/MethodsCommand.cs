using System.CommandLine;
using System.Globalization;
using MLNetMerge.Merging;
using Spectre.Console;

namespace MLNetMerge.Cli.Commands;

/// <summary><c>mlnetmerge methods</c>: every method with its parameters, defaults and paper.</summary>
internal static class MethodsCommand
{
    public static Command Create()
    {
        var cmd = new Command("methods", "List the merge methods, their parameters and defaults.");
        cmd.SetAction(_ =>
        {
            var table = new Table().AddColumns("method", "what", "parameters (defaults)", "paper");
            foreach (var m in MergeMethods.All)
                table.AddRow(m.Name, Markup.Escape(m.Summary), Markup.Escape(string.Join(", ", m.Parameters.Select(Describe))), Markup.Escape(m.Reference));
            AnsiConsole.Write(table);
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
