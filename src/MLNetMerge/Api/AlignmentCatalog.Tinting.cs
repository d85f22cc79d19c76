using MLNetMerge.Alignment;

namespace MLNetMerge;

public sealed partial class AlignmentCatalog
{
    /// <summary>
    /// Model Tinting (seed 003): layer-wise merge coefficients (clamped to [0, 1], init 0.3) trained jointly with each
    /// task's head by cross-entropy to the fine-tuned models' pseudo-labels on unlabeled test inputs; with
    /// <paramref name="plusPlus"/>, Tinting++'s confidence filter.
    /// </summary>
    /// <param name="plusPlus">Tinting++ (drop samples where the models disagree and the merged one is more confident).</param>
    /// <param name="rounds">Rounds (each: one step per task in a shuffled order). Default 500.</param>
    public IAlignmentEstimator Tinting(bool plusPlus = false, int rounds = 500) =>
        Tinting(new TintingOptions { PlusPlus = plusPlus, Rounds = rounds });

    /// <summary>Model Tinting / Tinting++ with every setting.</summary>
    /// <exception cref="RecipeException">A setting is out of range.</exception>
    public IAlignmentEstimator Tinting(TintingOptions options) => new TintingEstimator(options, Seed);
}
