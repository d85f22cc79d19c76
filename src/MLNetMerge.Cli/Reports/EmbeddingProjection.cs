using MLNetMerge.Checkpoints;
using MLNetMerge.Evaluation;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using MLNetMerge.Cli.Zoo;
using MLNetMerge.Encoders;
using MLNetMerge.Data;

namespace MLNetMerge.Cli.Reports;

/// <summary>
/// The report's t-SNE figure (Kong et al. 2024, arXiv:2412.13526, Fig. 1): the test split of one task embedded by the merged encoder and by the
/// task's fine-tuned encoder, each projected to 2-D with <see cref="Tsne"/> separately, and stored as plain numbers
/// (<c>tsne</c> in the method's <c>report.json</c> row) so that re-rendering needs no model.
/// </summary>
internal static class EmbeddingProjection
{
    /// <summary>Merges the recipe with <paramref name="parameters"/>, embeds <paramref name="task"/>'s test split with
    /// the merged and the fine-tuned encoders, and runs t-SNE on each.</summary>
    /// <param name="recipe">A vision-zoo recipe (its <c>evaluate.zoo</c>, else the base's folder, holds manifest.json).</param>
    /// <param name="parameters">The merge parameters (the selected sweep point).</param>
    /// <param name="task">Task name.</param>
    /// <param name="options">t-SNE settings (default perplexity 30, seed 0).</param>
    /// <param name="maxPoints">Most test examples used (evenly spaced over the split), at most <see cref="Tsne.MaxPoints"/>.</param>
    /// <returns>The JSON object: task, method, classes, perplexity, iterations, seed, kl_divergence and panels of x, y, labels.</returns>
    /// <exception cref="RecipeException">The zoo has no such task.</exception>
    public static Dictionary<string, object> Compute(MergeRecipe recipe, MergeParameters parameters, string task, TsneOptions? options = null, int maxPoints = 1000)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(parameters);
        options ??= new TsneOptions();
        maxPoints = Math.Clamp(maxPoints, 4, Tsne.MaxPoints);
        var section = EvaluateSection.Read(recipe);
        string zooDir = section.Zoo ?? Path.GetDirectoryName(Path.GetFullPath(recipe.Base))!;
        var manifest = ZooManifest.Load(zooDir);
        var zt = manifest.Tasks.FirstOrDefault(t => t.Name == task)
            ?? throw new RecipeException(recipe.Source, $"t-SNE: the zoo in {zooDir} has no task '{task}' (tasks: {string.Join(", ", manifest.Tasks.Select(t => t.Name))}).");
        using var family = ModelFamily.Load(recipe.Base, recipe.Models.Select(m => (m.Name, m.Path)), new ModelFamilyOptions { Heads = recipe.Heads });
        var member = family.Tasks.FirstOrDefault(t => t.Name == task)
            ?? throw new RecipeException(recipe.Source, $"t-SNE: the recipe has no model named '{task}'.");
        var encoder = family.Session;

        var test = ZooManifest.LoadSplit(zooDir, zt, zt.Test);
        if (test.Count > maxPoints) test = test.Subset(Enumerable.Range(0, maxPoints).Select(i => (int)((long)i * test.Count / maxPoints)).ToList());
        var labels = test.RequireLabels();

        var merged = MergeExecutor.RunInMemory(family, parameters.Method, parameters, new MergeExecutionOptions { Seed = recipe.Seed });
        var mergedEmbeddings = encoder.EmbedMerged(merged, task, test);            // (N, E)
        var fineTunedEmbeddings = encoder.EmbedCheckpoint(member.Reader, test);   // (N, E)

        var panels = new List<Dictionary<string, object>>();
        var kl = new List<double>();
        foreach (var (model, x) in new[] { ($"{parameters.Method.Name} (merged)", mergedEmbeddings), ($"{task} fine-tuned", fineTunedEmbeddings) })
        {
            var result = Tsne.Embed(x, test.Count, encoder.EmbeddingSize, options);
            panels.Add(new Dictionary<string, object>
            {
                ["model"] = model,
                ["x"] = Enumerable.Range(0, test.Count).Select(i => Math.Round((double)result.Embedding[2 * i], 3)).ToList(),
                ["y"] = Enumerable.Range(0, test.Count).Select(i => Math.Round((double)result.Embedding[2 * i + 1], 3)).ToList(),
                ["labels"] = labels,
            });
            kl.Add(result.KlDivergence);
        }
        return new Dictionary<string, object>
        {
            ["task"] = task,
            ["method"] = parameters.Method.Name,
            ["classes"] = zt.Classes,
            ["perplexity"] = options.Perplexity,
            ["iterations"] = options.Iterations,
            ["seed"] = options.Seed,
            ["kl_divergence"] = kl,
            ["panels"] = panels,
        };
    }
}
