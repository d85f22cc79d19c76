using MLNetMerge.Alignment;
using MLNetMerge.Encoders;
using MLNetMerge.Merging;

namespace MLNetMerge.Recipes;

/// <summary>What a recipe run hands to the writer of its ML.NET model zips (<c>export.mlnet</c>): the run's family,
/// merged model and fitted stage, and the folder to fill. The writer lives in the ML.NET API layer, above the recipes,
/// so the runner reaches it through <see cref="RecipeRunOptions.ModelZips"/>.</summary>
/// <param name="Family">The opened family (the runner disposes it).</param>
/// <param name="Merged">The merged model in memory.</param>
/// <param name="Aligned">The alignment stage's fitted model (the recipe seed's fit), or null without <c>align:</c>.</param>
/// <param name="Recipe">The recipe as it ran: the sweep's choice baked into its parameters.</param>
/// <param name="Export">The <c>export:</c> section.</param>
/// <param name="Folder">The folder to write (inside the output's temporary folder, renamed into place with it).</param>
/// <param name="AlignData">Where the stage took its rows, or null.</param>
internal sealed record ModelZipRequest(ModelFamily Family, MergedModel Merged, AlignedModel? Aligned, MergeRecipe Recipe, ExportSection Export,
    string Folder, AlignData? AlignData);

/// <summary>The writer of a recipe's ML.NET model zips (<c>export.mlnet</c>), which lives in the ML.NET API layer above the
/// recipes: <see cref="Check"/> refuses, before anything runs, what it could not write; <see cref="Write"/> writes.</summary>
internal interface IModelZipWriter
{
    /// <summary>Refuses settings the zips or their generated code cannot carry.</summary>
    /// <exception cref="RecipeException">A setting the writer cannot express, named.</exception>
    void Check(MergeRecipe recipe, ExportSection export);

    /// <summary>Writes the zips and their C# into the request's folder; returns the files, relative to it, in order.</summary>
    IReadOnlyList<string> Write(ModelZipRequest request);
}
