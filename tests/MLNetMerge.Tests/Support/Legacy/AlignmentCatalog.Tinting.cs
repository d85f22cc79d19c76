using MLNetMerge.Alignment;

namespace MLNetMerge.Tests;

internal sealed partial class AlignmentCatalog
{
    /// <summary>Model Tinting (Tinting++ with <paramref name="plusPlus"/>) with the declared defaults except the rounds.</summary>
    public IAlignmentEstimator Tinting(bool plusPlus = false, int rounds = 500) =>
        Tinting(new TintingOptions { PlusPlus = plusPlus, Rounds = rounds });

    /// <summary>Model Tinting / Tinting++ through the public options.</summary>
    /// <exception cref="RecipeException">A setting is out of range.</exception>
    public IAlignmentEstimator Tinting(TintingOptions options) => Stage(options);
}
