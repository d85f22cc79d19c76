using MLNetMerge.Merging;

namespace MLNetMerge;

/// <summary>Settings of <see cref="MergingCatalog.RunRecipe(string, RecipeOptions?)"/>: where the run writes and how it
/// reports. A recipe runs every section it has (sweep, merge, alignment, evaluation, export), as <c>mlnetmerge run</c>
/// does.</summary>
public sealed class RecipeOptions
{
    /// <summary>Output folder; overrides the recipe's <c>output</c>. Default null: the recipe's.</summary>
    public string? Output { get; init; }

    /// <summary>Replace an existing output folder that a previous MLNetMerge run wrote (a folder it did not write is never
    /// replaced). Default false.</summary>
    public bool Overwrite { get; init; }

    /// <summary>Where <c>report.json</c> goes; overrides <c>evaluate.report</c>. Default null: the output folder.</summary>
    public string? Report { get; init; }

    /// <summary>Tasks to materialize (write a full per-task model) besides the recipe's <c>materialize</c> list.
    /// Default none.</summary>
    public IReadOnlyList<string> Materialize { get; init; } = [];

    /// <summary>Progress lines in words. Default: none.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Progress of the merge, the stages and the evaluation. Default: none.</summary>
    public IProgress<MergeProgress>? Progress { get; init; }

    /// <summary>Cancels between steps, tensors and batches; a cancelled run leaves no output behind.</summary>
    public CancellationToken CancellationToken { get; init; }
}
