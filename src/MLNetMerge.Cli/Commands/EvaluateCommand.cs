using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MLNetMerge.Evaluation;
using MLNetMerge.Recipes;
using Spectre.Console;
using MLNetMerge.Merging;

namespace MLNetMerge.Cli.Commands;

/// <summary>
/// <c>mlnetmerge evaluate RECIPE.yaml</c>: merges in memory, evaluates on the zoo's tasks (base and individual bounds,
/// Current and KNN protocols, optional <c>sweep:</c> selected on validation), prints the seeds' table layout (tasks as
/// columns, Avg, normalised) and writes <c>report.json</c>.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var recipeArg = new Argument<string>("recipe") { Description = "Recipe YAML (method, base, models; optional evaluate: and sweep: sections)." };
        var report = new Option<string?>("--report") { Description = "Where to write report.json (overrides evaluate.report; default: the recipe's output folder, else out/evaluate/<recipe name>/)." };
        var cmd = new Command("evaluate", "Merge a recipe in memory and evaluate it on the zoo's tasks: base/individual bounds, Current and KNN protocols, sweep on validation.");
        cmd.Arguments.Add(recipeArg);
        cmd.Options.Add(report);
        cmd.SetAction(r =>
        {
            string recipePath = r.GetValue(recipeArg)!;
            var recipe = MergeRecipe.Load(recipePath);
            var result = RecipeEvaluator.Evaluate(recipe, Console.WriteLine);
            Print(result);
            var section = RecipeEvaluator.ReadEvaluateSection(recipe);
            string path = r.GetValue(report) ?? section.Report
                ?? Path.Combine(recipe.Output ?? Path.Combine("out", "evaluate", Path.GetFileNameWithoutExtension(recipePath)), "report.json");
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            File.WriteAllText(path, JsonSerializer.Serialize(EvaluationReport.ToJson(result), new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"report: {path}");
            Console.WriteLine($"report: {MLNetMerge.Reports.HtmlReport.Write(path)}");
            return 0;
        });
        return cmd;
    }

    /// <summary>What the method consumes, from its declaration; transductive methods are marked.</summary>
    private static string DataUse(string method) => MLNetMerge.Merging.MergeMethods.Find(method).Method.Consumes switch
    {
        DataRequirement.None => "none (data-free merge)",
        DataRequirement.UnlabeledTest => "unlabeled test inputs (transductive)",
        DataRequirement.LabeledValidation => "the labeled validation split",
        _ => "training data",
    };

    private static string Pct(double v) => (100 * v).ToString("F1", CultureInfo.InvariantCulture);

    internal static void Print(RecipeEvaluation e)
    {
        Terminal.AtLeastWhenRedirected(200); // keep rows on one line in logs
        foreach (var protocol in e.Protocols)
        {
            var table = new Table { Title = new TableTitle($"{Markup.Escape(e.Family)} — {protocol} eval (test accuracy %, normalised = merged / individual)") };
            table.AddColumn("model");
            foreach (var t in e.Tasks) table.AddColumn(new TableColumn(Markup.Escape(t)).RightAligned());
            table.AddColumn(new TableColumn("Avg").RightAligned());
            table.AddColumn(new TableColumn("Norm").RightAligned());
            foreach (var row in new[] { e.Base, e.Individual, e.Merged })
            {
                var cells = new List<string> { Markup.Escape(row.Name) };
                foreach (var t in e.Tasks)
                {
                    var res = row.Results[protocol][t];
                    cells.Add(res.Runs.Count > 1 ? $"{Pct(res.Accuracy)}±{Pct(res.AccuracyStd)}" : Pct(res.Accuracy));
                }
                cells.Add(Pct(row.Average(protocol)));
                cells.Add(Pct(row.Normalized(protocol, e.Individual)));
                table.AddRow(cells.ToArray());
            }
            Terminal.Write(table);
        }
        if (e.Merged.Hyperparameters.Count > 0) Console.WriteLine($"selected on validation: {RecipeEvaluator.Describe(e.Merged.Hyperparameters)}");
        Console.WriteLine($"data used by {e.Method}: {DataUse(e.Method)}; hyperparameters {(e.Sweep.Count > 0 ? "selected on the labeled validation split" : "from the recipe")}; KNN anchors drawn from the validation split.");
    }
}
