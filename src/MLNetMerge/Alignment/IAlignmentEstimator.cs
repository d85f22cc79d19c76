using MLNetMerge.Merging;

namespace MLNetMerge.Alignment;

/// <summary>
/// A trainable stage fitted after a merge on task data (FT-Classifier, aligned transforms, AdaMerging, Tinting, …).
/// Implementations declare the data they consume.
/// </summary>
internal interface IAlignmentEstimator
{
    /// <summary>Recipe name of the stage.</summary>
    string Name { get; }

    /// <summary>Data it consumes.</summary>
    DataRequirement Consumes { get; }

    /// <summary>Its settings in recipe form (<c>align: { method: NAME, parameters: {…} }</c>); the registry rebuilds the
    /// same estimator from them.</summary>
    IReadOnlyDictionary<string, ParameterValue> Parameters { get; }

    /// <summary>Fits the stage.</summary>
    AlignedModel Fit(MergedModel merged, MergeInputs inputs, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default);
}
