using MLNetMerge.Alignment;
using MLNetMerge.Evaluation;
using MLNetMerge.Merging;

namespace MLNetMerge.Recipes;

/// <summary>What <see cref="RecipeRunner.Run"/> did.</summary>
/// <param name="Summary">The merge: method, effective parameters (the sweep's choice baked in), tasks and the method's notes.</param>
/// <param name="Merged">The merged model in memory, when a later step needed it (alignment, evaluation, export); null for a
/// merge streamed to disk.</param>
/// <param name="Aligned">Each alignment stage's fitted model (the recipe seed's fit), in order; what was saved.</param>
/// <param name="Chosen">Parameters the sweep selected on validation (empty without a sweep).</param>
/// <param name="Evaluation">The evaluation (bounds, protocols, sweep, alignment rows), or null when none ran.</param>
/// <param name="Output">The output folder written, or null.</param>
/// <param name="Report">The <c>report.json</c> written, or null.</param>
/// <param name="Exported">ONNX files written, relative to the export folder.</param>
internal sealed record RecipeRunResult(MergeSummary Summary, MergedModel? Merged, IReadOnlyList<AlignedModel> Aligned,
    IReadOnlyDictionary<string, double> Chosen, RecipeEvaluation? Evaluation, string? Output, string? Report, IReadOnlyList<string> Exported);
