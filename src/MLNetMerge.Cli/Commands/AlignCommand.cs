using System.CommandLine;
using MLNetMerge.Recipes;

namespace MLNetMerge.Cli.Commands;

/// <summary>
/// <c>mlnetmerge align RECIPE.yaml</c>: the recipe run with <see cref="RecipeSteps.AlignAndEvaluate"/> — merges in memory
/// (sweep selected on validation), fits every <c>align:</c> stage on the zoo's per-task inputs with a progress bar showing
/// the running loss, evaluates the merge and every stage, prints the seeds' tables (transductive rows marked) and writes
/// <c>report.json</c> and <c>report.html</c>.
/// </summary>
internal static class AlignCommand
{
    public static Command Create()
    {
        var recipeArg = new Argument<string>("recipe") { Description = "Recipe YAML with an align: section (data, stages)." };
        var report = new Option<string?>("--report") { Description = "Where to write report.json: a path ending in .json, else a folder to hold report.json and report.html (default: evaluate.report, else out/run/<recipe file name>/report.json under the working directory; align saves no model)." };
        var cmd = new Command("align", "Merge a recipe, fit its alignment stages (FT-Classifier, aligned transforms, surgery, AdaMerging, tinting, …) on the zoo's inputs and evaluate them.");
        cmd.Arguments.Add(recipeArg);
        cmd.Options.Add(report);
        cmd.SetAction(r =>
        {
            string path = r.GetValue(recipeArg)!;
            if (AlignSection.Read(MergeRecipe.Load(path)).Stages.Count == 0)
                throw new RecipeException(path, "align: no stages; add align: { stages: [ { method: …, parameters: … } ] }.");
            return RunCommand.Execute(path, RecipeSteps.AlignAndEvaluate, new RecipeRunOptions { Report = r.GetValue(report) });
        });
        return cmd;
    }
}
