using MLNetMerge.Alignment;

namespace MLNetMerge.Tests;

/// <summary>
/// Alignment stages (<see cref="IAlignmentEstimator"/>), one entry with simple parameters and one with an <c>Options</c>
/// class each. The class is partial: each family of stages adds its entries in a file of its own
/// (<c>AlignmentCatalog.FtClassifier.cs</c>, …).
/// </summary>
internal sealed partial class AlignmentCatalog
{
    private readonly MergeContext _ctx;

    internal AlignmentCatalog(MergeContext ctx) => _ctx = ctx;

    /// <summary>The context's seed (few-shot draws, initialisation, shuffling).</summary>
    internal ulong Seed => _ctx.Seed;
}
