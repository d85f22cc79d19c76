using MLNetMerge.Alignment;

namespace MLNetMerge.Tests;

internal sealed partial class AlignmentCatalog
{
    /// <summary>AdaMerging with the declared defaults except <paramref name="granularity"/> and <paramref name="steps"/>.</summary>
    public IAlignmentEstimator AdaMerging(CoefficientGranularity granularity = CoefficientGranularity.Layer, int steps = 500) =>
        AdaMerging(new AdaMergingOptions { Granularity = granularity, Steps = steps });

    /// <summary>AdaMerging (or AdaMerging++ with TIES vectors) through the public options.</summary>
    public IAlignmentEstimator AdaMerging(AdaMergingOptions options) => Stage(options);

    /// <summary>AdaMerging++: AdaMerging over TIES-trimmed task vectors.</summary>
    public IAlignmentEstimator AdaMergingPlusPlus(CoefficientGranularity granularity = CoefficientGranularity.Layer, double keep = 0.2) =>
        AdaMerging(new AdaMergingOptions { Granularity = granularity, Vectors = AdaMergingVectors.Ties, Keep = keep });

    /// <summary>CART++ with the declared defaults except the rank ratio and the starting coefficient.</summary>
    public IAlignmentEstimator CartPlusPlus(double rankRatio = 0.12, double initialCoefficient = 2.0) =>
        CartPlusPlus(new CartPlusPlusOptions { RankRatio = rankRatio, InitialCoefficient = initialCoefficient });

    /// <summary>CART++ through the public options.</summary>
    public IAlignmentEstimator CartPlusPlus(CartPlusPlusOptions options) => Stage(options);

    /// <summary>RegMean with the declared defaults except α and the sample count.</summary>
    public IAlignmentEstimator RegMean(double alpha = 0.95, int samples = 256) => RegMean(new RegMeanOptions { Alpha = alpha, Samples = samples });

    /// <summary>RegMean through the public options.</summary>
    public IAlignmentEstimator RegMean(RegMeanOptions options) => Stage(options);

    /// <summary>Fisher merging with the declared defaults except the sample count.</summary>
    public IAlignmentEstimator Fisher(int samples = 256) => Fisher(new FisherOptions { Samples = samples });

    /// <summary>Fisher merging through the public options.</summary>
    public IAlignmentEstimator Fisher(FisherOptions options) => Stage(options);

    /// <summary>The engine's estimator of a stage given by its public options, seeded by the context.</summary>
    private IAlignmentEstimator Stage(AlignmentOptions options) => new AlignmentStage(options).Create(Seed);
}
