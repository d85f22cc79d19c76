using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MLNetMerge.Evaluation;
using MLNetMerge.Onnx;
using MLNetMerge.Recipes;
using Spectre.Console;

namespace MLNetMerge.Cli.Commands;

/// <summary>
/// <c>mlnetmerge run RECIPE.yaml</c>: the model-builder-style script. Runs every section the recipe has, in order:
/// <c>sweep:</c> (merge parameters selected on validation), the merge, <c>align:</c> stages on <c>align.data</c>, saving
/// the fitted pipeline to <c>output</c>, <c>evaluate:</c> on the zoo's test splits (a table per protocol and
/// <c>report.json</c>) and <c>export:</c> (ONNX).
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var recipeArg = new Argument<string>("recipe") { Description = "Recipe YAML (method, base, models; optional sweep:, align:, evaluate:, export: sections)." };
        var output = new Option<string?>("--output", "-o") { Description = "Save the fitted pipeline here (overrides the recipe's output)." };
        var force = new Option<bool>("--force") { Description = "Replace existing output and export directories." };
        var cmd = new Command("run", "Run a recipe end to end: sweep, merge, align, save, evaluate and export, as its sections say.");
        cmd.Arguments.Add(recipeArg);
        cmd.Options.Add(output);
        cmd.Options.Add(force);
        cmd.SetAction(r =>
        {
            string path = r.GetValue(recipeArg)!;
            var recipe = MergeRecipe.Load(path);
            bool overwrite = r.GetValue(force);
            var options = new PipelineRunOptions { Output = r.GetValue(output), Overwrite = overwrite, Exporter = OnnxPipelineExtensions.Exporter(recipe, overwrite) };
            var result = ConsoleProgress.Run("run", progress => PipelineRecipeRunner.Run(recipe, options, Console.WriteLine, progress));
            if (result.Evaluation.Count > 0)
            {
                Print(result);
                string report = Path.Combine(result.Output ?? Path.Combine("out", "run", Path.GetFileNameWithoutExtension(path)), "report.json");
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(report))!);
                var json = result.Evaluation.ToDictionary(p => p.Key, p => p.Value.Tasks.ToDictionary(t => t.Key, t => EvaluationReport.Metrics(t.Value)));
                File.WriteAllText(report, JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["method"] = result.Model.Merged.Summary.Method.Name,
                    ["stages"] = result.Model.Aligned.Select(a => a.Method).ToList(),
                    ["chosen"] = result.Chosen,
                    ["protocols"] = json,
                }, new JsonSerializerOptions { WriteIndented = true }));
                Console.WriteLine($"report: {report}");
            }
            return 0;
        });
        return cmd;
    }

    private static string Pct(double v) => (100 * v).ToString("F1", CultureInfo.InvariantCulture);

    private static void Print(PipelineRunResult result)
    {
        Terminal.AtLeastWhenRedirected(200);
        string stages = result.Model.Aligned.Count == 0 ? "" : " + " + string.Join(" + ", result.Model.Aligned.Select(a => a.Method));
        var tasks = result.Evaluation.Values.First().Tasks.Keys.ToList();
        var table = new Table { Title = new TableTitle(Markup.Escape($"{result.Model.Merged.Summary.Method.Name}{stages} — test accuracy %")) };
        table.AddColumn("protocol");
        foreach (var t in tasks) table.AddColumn(new TableColumn(Markup.Escape(t)).RightAligned());
        table.AddColumn(new TableColumn("Avg").RightAligned());
        foreach (var (name, res) in result.Evaluation)
        {
            var cells = new List<string> { Markup.Escape(name) };
            foreach (var t in tasks) cells.Add(res[t].Runs.Count > 1 ? $"{Pct(res[t].Accuracy)}±{Pct(res[t].AccuracyStd)}" : Pct(res[t].Accuracy));
            cells.Add(Pct(res.AverageAccuracy));
            table.AddRow(cells.ToArray());
        }
        Terminal.Write(table);
    }
}
