using System.CommandLine;
using MLNetMerge.Cli.Reports;

namespace MLNetMerge.Cli.Commands;

/// <summary><c>mlnetmerge report REPORT.json</c>: re-renders <c>report.html</c> beside a saved <c>report.json</c> (no model needed).</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var reportArg = new Argument<string>("report") { Description = "A report.json written by evaluate, demo or align." };
        var cmd = new Command("report", "Re-render report.html (tables, charts, diagnostics, t-SNE) beside a saved report.json.");
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
