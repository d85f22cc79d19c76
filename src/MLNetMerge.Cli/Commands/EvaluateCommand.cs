using System.CommandLine;
using MLNetMerge.Recipes;

namespace MLNetMerge.Cli.Commands;

/// <summary>
/// <c>mlnetmerge evaluate RECIPE.yaml</c>: the recipe run with <see cref="RecipeSteps.EvaluateOnly"/> — merges in memory
/// (a <c>sweep:</c> selected on validation), evaluates on the zoo's tasks (base and individual bounds, the
/// <c>evaluate:</c> protocols), prints the seeds' table layout and writes <c>report.json</c> and <c>report.html</c>.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var recipeArg = new Argument<string>("recipe") { Description = "Recipe YAML (method, base, models; optional evaluate: and sweep: sections)." };
        var report = new Option<string?>("--report") { Description = "Where to write report.json: a path ending in .json, else a folder to hold report.json and report.html (overrides evaluate.report; default: out/run/<recipe file name>/report.json under the working directory; evaluate saves no model, so the recipe's output is not used)." };
        var cmd = new Command("evaluate", "Merge a recipe in memory and evaluate it on the zoo's tasks: base/individual bounds, Current and KNN protocols, sweep on validation.");
        cmd.Arguments.Add(recipeArg);
        cmd.Options.Add(report);
        cmd.SetAction(r => RunCommand.Execute(r.GetValue(recipeArg)!, RecipeSteps.EvaluateOnly, new RecipeRunOptions { Report = r.GetValue(report) }));
        return cmd;
    }
}
