using MLNetMerge.Recipes;

namespace MLNetMerge;

// Recipes as ML.NET pipelines: a recipe file loads into the merge estimator it describes, and back.
public sealed partial class MergingCatalog
{
    /// <summary>
    /// The merge estimator a recipe file describes: its family (base, models, head pattern), method, parameters,
    /// per-model parameters and seed, followed by the alignment stage of its <c>align.stages</c> (at most one) with that
    /// stage's parameters. <see cref="MergeEstimator.ToRecipeYaml"/> writes it back. The estimator's
    /// <see cref="MergeEstimator.Family"/> holds the checkpoints open: dispose it when done.
    /// </summary>
    /// <param name="recipePath">The recipe file.</param>
    /// <param name="task">The one task the transformer serves (<see cref="MergeOptions.Task"/>: a recipe describes the
    /// merge, not which task a transformer serves); null: every task.</param>
    /// <exception cref="RecipeException">The recipe is not valid, or lists more than one alignment stage.</exception>
    /// <exception cref="ArgumentException">The recipe has no model named <paramref name="task"/>.</exception>
    public MergeEstimator FromRecipe(string recipePath, string? task = null)
    {
        ArgumentNullException.ThrowIfNull(recipePath);
        return RecipeEstimators.FromRecipe(_ml, MergeRecipe.Load(recipePath), task);
    }
}
