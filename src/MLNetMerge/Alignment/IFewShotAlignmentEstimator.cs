namespace MLNetMerge.Alignment;

/// <summary>
/// An alignment stage that trains on a seeded few-shot draw (FT-Classifier, aligned transforms). Runners fit it once per
/// seed and report mean ± std; the draw may use labels to balance classes (never in the loss), so runners keep the
/// labels for these stages.
/// </summary>
internal interface IFewShotAlignmentEstimator : IAlignmentEstimator
{
    /// <summary>Examples per class k of the draw (0: every example).</summary>
    int ShotsPerClass { get; }

    /// <summary>The seed of the draw.</summary>
    ulong Seed { get; }

    /// <summary>The same stage with another draw.</summary>
    IFewShotAlignmentEstimator WithSeed(ulong seed);
}
