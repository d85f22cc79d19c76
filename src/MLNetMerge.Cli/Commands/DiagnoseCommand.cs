using System.CommandLine;
using System.Globalization;
using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using Spectre.Console;
using MLNetMerge.Encoders;

namespace MLNetMerge.Cli.Commands;

/// <summary><c>mlnetmerge diagnose RECIPE.yaml</c>: per task, sign conflicts, L2 distance and cosine similarity to the fine-tuned weights.</summary>
internal static class DiagnoseCommand
{
    public static Command Create()
    {
        var recipeArg = new Argument<string>("recipe") { Description = "Recipe YAML." };
        var cmd = new Command("diagnose", "Per task: sign-conflict share, L2 distance and cosine similarity between the merged (or per-task) weights and the fine-tuned ones.");
        cmd.Arguments.Add(recipeArg);
        cmd.SetAction(r =>
        {
            var recipe = MergeRecipe.Load(r.GetValue(recipeArg)!);
            RecipeRunner.CheckSections(recipe);
            if (RecipeRunner.SkippedSections(recipe, 0) is { } skipped) Console.Error.WriteLine(skipped);
            using var family = ModelFamily.Load(recipe.Base, recipe.Models.Select(m => (m.Name, m.Path)), new ModelFamilyOptions { Heads = recipe.Heads });
            var parameters = recipe.ResolveParameters();
            var rows = ConsoleProgress.Run("diagnose", p => MergeDiagnostics.Compute(family, parameters.Method, parameters,
                new MergeExecutionOptions { Seed = recipe.Seed, AllowNonFinite = recipe.AllowNonFinite }, p));
            Print(parameters.Method.Name, rows);
            return 0;
        });
        return cmd;
    }

    internal static void Print(string method, IReadOnlyList<TaskDiagnostics> rows)
    {
        var table = new Table().AddColumns("task", "sign conflicts", "L2 to fine-tuned", "cosine(τ̂, τ)");
        table.Title = new TableTitle(method);
        foreach (var d in rows)
            table.AddRow(d.Task, d.SignConflictShare.ToString("P2", CultureInfo.InvariantCulture), d.L2Distance.ToString("F4", CultureInfo.InvariantCulture), d.Cosine.ToString("F4", CultureInfo.InvariantCulture));
        Terminal.Write(table);
    }
}
