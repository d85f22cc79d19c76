using System.CommandLine;
using MLNetMerge.Recipes;
using MLNetMerge.Cli.Reports;

namespace MLNetMerge.Cli.Commands;

/// <summary>
/// <c>mlnetmerge run RECIPE.yaml</c>: the model-builder-style script. Runs every section the recipe has, in order:
/// <c>sweep:</c> (merge parameters selected on validation), the merge, <c>align:</c> stages on <c>align.data</c>, saving
/// to <c>output</c>, <c>evaluate:</c> on the zoo's test splits (a table per protocol, <c>report.json</c> and
/// <c>report.html</c>) and <c>export:</c> (ONNX). Every recipe command is this runner with fewer steps.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var recipeArg = new Argument<string>("recipe") { Description = "Recipe YAML (method, base, models; optional sweep:, align:, evaluate:, export: sections)." };
        var output = new Option<string?>("--output", "-o") { Description = "Save here (overrides the recipe's output)." };
        var force = new Option<bool>("--force") { Description = "Replace existing output and export folders written by an earlier run." };
        var cmd = new Command("run", "Run a recipe end to end: sweep, merge, align, save, evaluate and export, as its sections say.");
        cmd.Arguments.Add(recipeArg);
        cmd.Options.Add(output);
        cmd.Options.Add(force);
        cmd.SetAction(r => Execute(r.GetValue(recipeArg)!, RecipeSteps.All, new RecipeRunOptions { Output = r.GetValue(output), Overwrite = r.GetValue(force) }));
        return cmd;
    }

    /// <summary>Runs a recipe file with <paramref name="steps"/> under console progress; prints the tables and renders the report.</summary>
    public static int Execute(string path, RecipeSteps steps, RecipeRunOptions options)
    {
        var recipe = MergeRecipe.Load(path);
        if (steps.HasFlag(RecipeSteps.Report))
        {
            // The page is rendered beside report.json after the run: refuse a foreign report.html before running.
            string reportJson = RecipeInputs.ReportPath(recipe, options.Report ?? EvaluateSection.Read(recipe).Report,
                steps.HasFlag(RecipeSteps.Save) ? options.Output ?? recipe.Output : null);
            HtmlReport.CheckOwn(HtmlReport.PagePath(reportJson));
        }
        var result = ConsoleProgress.Run(steps == RecipeSteps.All ? "run" : recipe.Method, progress => RecipeRunner.Run(recipe, new RecipeRunOptions
        {
            Steps = steps, Output = options.Output, Overwrite = options.Overwrite, Report = options.Report, Materialize = options.Materialize,
            MaxThreads = options.MaxThreads, MemoryMap = options.MemoryMap, Log = Console.WriteLine, Progress = progress, CancellationToken = Interrupts.Token,
            ModelZips = RecipeModelZips.Writer,
        }));
        if (result.Evaluation is { } e) ResultTables.Print(e);
        if (result.Report is { } report) Console.WriteLine($"report: {HtmlReport.Write(report)}");
        return 0;
    }
}
