using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MLNetMerge.Alignment;
using MLNetMerge.Evaluation;
using MLNetMerge.Recipes;
using Spectre.Console;

namespace MLNetMerge.Cli.Commands;

/// <summary>
/// <c>mlnetmerge align RECIPE.yaml</c>: merges in memory (sweep selected on validation), evaluates the merge like
/// <c>evaluate</c>, fits every <c>align:</c> stage on the zoo's per-task inputs with a progress bar showing the running
/// loss, prints the seeds' table (tasks, Avg, normalised; transductive rows marked) and writes <c>report.json</c>.
/// </summary>
internal static class AlignCommand
{
    public static Command Create()
    {
        var recipeArg = new Argument<string>("recipe") { Description = "Recipe YAML with an align: section (data, stages)." };
        var report = new Option<string?>("--report") { Description = "Where to write report.json (default: evaluate.report, the recipe's output folder, else out/align/<recipe name>/)." };
        var cmd = new Command("align", "Merge a recipe, fit its alignment stages (FT-Classifier, aligned transforms, surgery, AdaMerging, tinting, …) on the zoo's inputs and evaluate them.");
        cmd.Arguments.Add(recipeArg);
        cmd.Options.Add(report);
        cmd.SetAction(r =>
        {
            string recipePath = r.GetValue(recipeArg)!;
            var recipe = MergeRecipe.Load(recipePath);
            AlignSection.Read(recipe); // fail on a bad section before merging
            var result = ConsoleProgress.Run("align", progress => AlignmentEvaluator.Evaluate(recipe, progress, Console.WriteLine));
            EvaluateCommand.Print(result.Merge);
            Print(result);
            var section = RecipeEvaluator.ReadEvaluateSection(recipe);
            string path = r.GetValue(report) ?? section.Report
                ?? Path.Combine(recipe.Output ?? Path.Combine("out", "align", Path.GetFileNameWithoutExtension(recipePath)), "report.json");
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            File.WriteAllText(path, JsonSerializer.Serialize(AlignmentReport.ToJson(result), new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"report: {path}");
            Console.WriteLine($"report: {MLNetMerge.Reports.HtmlReport.Write(path)}");
            return 0;
        });
        return cmd;
    }

    private static string Pct(double v) => (100 * v).ToString("F1", CultureInfo.InvariantCulture);

    /// <summary>The alignment table: bounds and the merge under Current Eval, then a row per stage (mean±std over seeds).</summary>
    internal static void Print(AlignmentEvaluation e)
    {
        var m = e.Merge;
        var table = new Table { Title = new TableTitle($"{Markup.Escape(m.Family)} — alignment stages after {Markup.Escape(m.Method)} (test accuracy %, normalised = aligned / individual; * = transductive)") };
        table.AddColumn("model");
        foreach (var t in m.Tasks) table.AddColumn(new TableColumn(Markup.Escape(t)).RightAligned());
        table.AddColumn(new TableColumn("Avg").RightAligned());
        table.AddColumn(new TableColumn("Norm").RightAligned());
        var individual = m.Individual.Results["current"];
        void Add(string name, IReadOnlyDictionary<string, ProtocolResult> results, string? avgStd)
        {
            var cells = new List<string> { Markup.Escape(name) };
            foreach (var t in m.Tasks)
            {
                var res = results[t];
                cells.Add(res.Runs.Count > 1 ? $"{Pct(res.Accuracy)}±{Pct(res.AccuracyStd)}" : Pct(res.Accuracy));
            }
            double avg = m.Tasks.Average(t => results[t].Accuracy);
            cells.Add(avgStd is null ? Pct(avg) : $"{Pct(avg)}±{avgStd}");
            cells.Add(Pct(ModelEvaluation.NormalizedAccuracy(m.Tasks.Select(t => results[t].Accuracy).ToArray(), m.Tasks.Select(t => individual[t].Accuracy).ToArray())));
            table.AddRow(cells.ToArray());
        }
        Add("individual (current)", individual, null);
        Add($"{m.Method} (current)", m.Merged.Results["current"], null);
        foreach (var row in e.Rows)
        {
            var results = row.Evaluation.Results[AlignmentEvaluator.ProtocolName];
            Add(row.Name + (row.Transductive ? " *" : ""), results, row.Models.Count > 1 ? Pct(AlignmentReport.AverageStd(results, m.Tasks)) : null);
        }
        Terminal.Write(table);
        foreach (var row in e.Rows)
        {
            var results = row.Evaluation.Results[AlignmentEvaluator.ProtocolName];
            string extra = $"ECE {Pct(AlignmentReport.AverageEce(results, m.Tasks))} %";
            if (AlignmentReport.CoefficientSparsity(row) is { } sparsity) extra += $", coefficients below 1e-5: {Pct(sparsity)} %";
            Console.WriteLine($"{row.Name}: {row.Data}; {row.Models.Count} fit(s); {extra}.");
        }
    }
}
