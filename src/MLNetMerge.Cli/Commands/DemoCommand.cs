using System.CommandLine;
using System.Globalization;
using System.Text;
using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using MLNetMerge.Zoo;
using Spectre.Console;

namespace MLNetMerge.Cli.Commands;

/// <summary>
/// <c>mlnetmerge demo</c>: builds a small family of checkpoints, merges it with every method through recipes (outputs
/// under <c>--output</c>), and prints the weight diagnostics per method. Runs in seconds.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--output", "-o") { Description = "Where the family and the merges go.", DefaultValueFactory = _ => Path.Combine("out", "demo") };
        var cmd = new Command("demo", "Build a small family and merge it with every method, printing the diagnostics table.");
        cmd.Options.Add(output);
        cmd.SetAction(r =>
        {
            string root = Path.GetFullPath(r.GetValue(output)!);
            string familyDir = Path.Combine(root, "family");
            var (basePath, tasks) = SyntheticFamily.Write(familyDir);
            Console.WriteLine($"family: base + {tasks.Count} fine-tuned models in {familyDir}");
            var table = new Table().AddColumns("method", "tasks", "per task", "sign conflicts", "L2 to fine-tuned", "cosine(τ̂, τ)");
            foreach (var method in MergeMethods.All)
            {
                var members = method.MaxModels < tasks.Count ? tasks.Take(method.MaxModels).ToList() : tasks.ToList();
                string recipePath = Path.Combine(root, "recipes", method.Name + ".yaml");
                Directory.CreateDirectory(Path.GetDirectoryName(recipePath)!);
                File.WriteAllText(recipePath, Recipe(method.Name, basePath, members, Path.Combine(root, "merges", method.Name)));
                var recipe = MergeRecipe.Load(recipePath);
                RecipeRunner.Merge(recipe, new RecipeRunOptions { Overwrite = true });
                using var family = ModelFamily.Load(recipe.Base, recipe.Models.Select(m => (m.Name, m.Path)));
                var p = recipe.ResolveParameters();
                var rows = MergeDiagnostics.Compute(family, p.Method, p, new MergeExecutionOptions { Seed = recipe.Seed });
                table.AddRow(method.Name, members.Count.ToString(CultureInfo.InvariantCulture), method.IsPerTask ? "yes" : "",
                    rows.Average(x => x.SignConflictShare).ToString("P2", CultureInfo.InvariantCulture),
                    rows.Average(x => x.L2Distance).ToString("F4", CultureInfo.InvariantCulture),
                    rows.Average(x => x.Cosine).ToString("F4", CultureInfo.InvariantCulture));
            }
            AnsiConsole.Write(table);
            Console.WriteLine($"recipes in {Path.Combine(root, "recipes")}, merged models in {Path.Combine(root, "merges")}");
            Console.WriteLine("Lower sign conflicts and L2 distance, and higher cosine, mean each task's weights stay closer to its fine-tuned model.");
            return 0;
        });
        return cmd;
    }

    private static string Recipe(string method, string basePath, IReadOnlyList<(string Name, string Path)> models, string output)
    {
        var sb = new StringBuilder();
        sb.Append("method: ").Append(method).Append("\nbase: \"").Append(basePath).Append("\"\nmodels:\n");
        foreach (var (name, path) in models) sb.Append("  - { name: ").Append(name).Append(", path: \"").Append(path).Append("\" }\n");
        sb.Append("seed: 0\noutput: \"").Append(output).Append("\"\n");
        return sb.ToString();
    }
}
