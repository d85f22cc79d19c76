using MLNetMerge.Alignment;

namespace MLNetMerge;

public sealed partial class AlignmentCatalog
{
    /// <summary>
    /// AdaMerging: merge coefficients over the task vectors learned by minimising the entropy of every task's predictions
    /// on unlabeled test inputs (transductive); layer-wise by default, Adam 1e-3, 500 steps of batch 16, init 0.3, clamped.
    /// </summary>
    /// <param name="granularity">One coefficient per task, or per task and tensor.</param>
    /// <param name="steps">Adam steps.</param>
    public IAlignmentEstimator AdaMerging(CoefficientGranularity granularity = CoefficientGranularity.Layer, int steps = 500) =>
        AdaMerging(new AdaMergingOptions { Granularity = granularity, Steps = steps });

    /// <summary>AdaMerging (or AdaMerging++ with <see cref="AdaMergingOptions.TiesVectors"/>) with options.</summary>
    public IAlignmentEstimator AdaMerging(AdaMergingOptions options) => new Alignment.AdaMerging(options, Seed);

    /// <summary>AdaMerging++: AdaMerging over TIES-trimmed task vectors (keep 20 % by default).</summary>
    /// <param name="granularity">One coefficient per task, or per task and tensor.</param>
    /// <param name="keep">TIES's keep fraction.</param>
    public IAlignmentEstimator AdaMergingPlusPlus(CoefficientGranularity granularity = CoefficientGranularity.Layer, double keep = 0.2) =>
        AdaMerging(new AdaMergingOptions { Granularity = granularity, TiesVectors = true, Keep = keep });

    /// <summary>CART++: entropy-learned coefficients over CART's low-rank centered task vectors, from CART's λ (transductive).</summary>
    /// <param name="rankRatio">CART's rank ratio.</param>
    /// <param name="initialCoefficient">Starting λ (CART's).</param>
    public IAlignmentEstimator CartPlusPlus(double rankRatio = 0.12, double initialCoefficient = 2.0) =>
        CartPlusPlus(new CartPlusPlusOptions { RankRatio = rankRatio, InitialCoefficient = initialCoefficient });

    /// <summary>CART++ with options.</summary>
    public IAlignmentEstimator CartPlusPlus(CartPlusPlusOptions options) => new Alignment.CartPlusPlus(options, Seed);

    /// <summary>RegMean: closed-form merge of every linear layer from its inputs' Gram matrices on each task's unlabeled data.</summary>
    /// <param name="alpha">Off-diagonal factor α (0.95 for ViTs).</param>
    /// <param name="samples">Examples per task.</param>
    public IAlignmentEstimator RegMean(double alpha = 0.95, int samples = 256) => RegMean(new RegMeanOptions { Alpha = alpha, Samples = samples });

    /// <summary>RegMean with options.</summary>
    public IAlignmentEstimator RegMean(RegMeanOptions options) => new Alignment.RegMean(options);

    /// <summary>Fisher merging: average weighted by each model's diagonal Fisher from its own predictions on unlabeled data.</summary>
    /// <param name="samples">Examples per task.</param>
    public IAlignmentEstimator Fisher(int samples = 256) => Fisher(new FisherMergingOptions { Samples = samples });

    /// <summary>Fisher merging with options.</summary>
    public IAlignmentEstimator Fisher(FisherMergingOptions options) => new FisherMerging(options, Seed);
}
