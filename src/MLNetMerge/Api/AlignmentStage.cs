using MLNetMerge.Alignment;

namespace MLNetMerge;

/// <summary>
/// An alignment stage to run after a merge (<see cref="MergeEstimator.Append(AlignmentStage)"/>): it reads the unlabeled
/// rows of the view the merge estimator is fitted on and learns light per-task parts (new heads, feature transforms,
/// merge coefficients, one task-specific layer). Made by <see cref="MergingCatalog"/>'s stage entries
/// (<c>ml.Merging().FtClassifier()</c>, <c>…AdaMerging()</c>, <c>…Tinting()</c>, …).
/// </summary>
public sealed class AlignmentStage
{
    internal AlignmentStage(AlignmentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // A copy: changing the options object afterwards changes no stage already made.
        Options = options.Snapshot();
        if (string.IsNullOrWhiteSpace(Options.LabelColumnName))
            throw new ArgumentException($"{nameof(AlignmentOptions.LabelColumnName)} is empty; name the view's label column (default \"Label\").", nameof(options));
        Method = AlignmentMethods.Find(options.MethodName);
    }

    /// <summary>The stage's recipe name (<c>ft_classifier</c>, <c>adamerging</c>, …).</summary>
    public string Name => Method.Name;

    /// <summary>The stage's paper.</summary>
    public string Reference => Method.Reference;

    internal AlignmentOptions Options { get; }

    /// <summary>Whether the tasks keep running one encoder after the stage (false when it duplicates a block per task).</summary>
    internal bool SharesEncoder => Options is not TintingOptions { Block: not null };

    internal AlignmentMethod Method { get; }

    /// <summary>The engine's estimator of this stage, seeded.</summary>
    internal IAlignmentEstimator Create(ulong seed) => Method.Create(Options.StageParameters(), seed);
}
