using System.CommandLine;
using MLNetMerge.Cli.Reports;

namespace MLNetMerge.Cli.Commands;

/// <summary><c>mlnetmerge report REPORT.json</c>: re-renders a saved report's page beside it, under its name with <c>.html</c> (no model needed).</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var reportArg = new Argument<string>("report") { Description = "A report.json written by evaluate, align, run or demo (or the folder holding it)." };
        var cmd = new Command("report", "Re-render a saved report's page (tables, charts, diagnostics, t-SNE) beside it: report.json gives report.html.");
        cmd.Arguments.Add(reportArg);
        cmd.SetAction(r =>
        {
            string path = r.GetValue(reportArg)!;
            try
            {
                Console.WriteLine($"report: {HtmlReport.Write(path)}");
                return 0;
            }
            catch (System.Text.Json.JsonException e)
            {
                Console.Error.WriteLine($"error: {path} is not valid JSON: {e.Message}");
                return 2;
            }
        });
        return cmd;
    }
}
