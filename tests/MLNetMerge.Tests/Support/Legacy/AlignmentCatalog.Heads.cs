using MLNetMerge.Alignment;
using MLNetMerge.Merging;

namespace MLNetMerge.Tests;

/// <summary>Settings of <see cref="AlignmentCatalog.FtClassifier(FtClassifierOptions)"/> (the defaults of Kong et al. 2024, arXiv:2412.13526).</summary>
internal sealed class FtClassifierOptions
{
    /// <summary>Unlabeled examples per class k (labels only balance the draw); 0 = every input. Default 5.</summary>
    public int ShotsPerClass { get; init; } = 5;
    /// <summary>Passes over the sample. Default 5.</summary>
    public int Epochs { get; init; } = 5;
    /// <summary>Adam learning rate. Default 5e-4.</summary>
    public double LearningRate { get; init; } = 5e-4;
    /// <summary>Examples per step. Default 1 (the paper's).</summary>
    public int BatchSize { get; init; } = 1;
}

/// <summary>Settings of <see cref="AlignmentCatalog.AlignedTransform(AlignedTransformOptions)"/>.</summary>
internal sealed class AlignedTransformOptions
{
    /// <summary>Family member. Default <see cref="TransformKind.Orthogonal"/>.</summary>
    public TransformKind Transform { get; init; } = TransformKind.Orthogonal;
    /// <summary>Train with Adam and the <c>β‖WᵀW − I‖²</c> penalty instead of the closed form. Default false.</summary>
    public bool Trained { get; init; }
    /// <summary>Unlabeled examples per class k; 0 = every input. Default 5.</summary>
    public int ShotsPerClass { get; init; } = 5;
    /// <summary>Ridge λ of the least-squares kinds (relative to the mean feature energy). Default 1e-3.</summary>
    public double Ridge { get; init; } = 1e-3;
    /// <summary>Trained solver: Adam steps. Default 1000.</summary>
    public int Steps { get; init; } = 1000;
    /// <summary>Trained solver: learning rate. Default 1e-2.</summary>
    public double LearningRate { get; init; } = 1e-2;
    /// <summary>Trained solver: β; default null = 10 for orthogonal and Euclidean, 0.01 for invertible, 0 otherwise.</summary>
    public double? Beta { get; init; }
}

/// <summary>Settings of <see cref="AlignmentCatalog.Surgery(SurgeryOptions)"/> (Yang et al. 2024's defaults).</summary>
internal sealed class SurgeryOptions
{
    /// <summary>Bottleneck width r. Default 16.</summary>
    public int Rank { get; init; } = 16;
    /// <summary>Adam steps. Default 500.</summary>
    public int Steps { get; init; } = 500;
    /// <summary>Adam learning rate. Default 1e-3.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Examples per step. Default 32.</summary>
    public int BatchSize { get; init; } = 32;
}

internal sealed partial class AlignmentCatalog
{
    /// <summary>FT-Classifier (Kong et al. 2024, arXiv:2412.13526): a new head per task, trained with KL(fine-tuned ‖ merged) on k-shot unlabeled inputs.</summary>
    /// <param name="shotsPerClass">Examples per class (default 5).</param>
    /// <param name="epochs">Epochs (default 5).</param>
    /// <param name="learningRate">Adam learning rate (default 5e-4).</param>
    /// <param name="batchSize">Batch (default 1).</param>
    public FtClassifierEstimator FtClassifier(int shotsPerClass = 5, int epochs = 5, double learningRate = 5e-4, int batchSize = 1) =>
        FtClassifier(new FtClassifierOptions { ShotsPerClass = shotsPerClass, Epochs = epochs, LearningRate = learningRate, BatchSize = batchSize });

    /// <summary>FT-Classifier with all settings.</summary>
    public FtClassifierEstimator FtClassifier(FtClassifierOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var p = new Dictionary<string, ParameterValue>(StringComparer.Ordinal)
        {
            ["shots"] = new ParameterValue.Scalar(options.ShotsPerClass),
            ["epochs"] = new ParameterValue.Scalar(options.Epochs),
            ["learning_rate"] = new ParameterValue.Scalar(options.LearningRate),
            ["batch"] = new ParameterValue.Scalar(options.BatchSize),
        };
        return new FtClassifierEstimator(p, Seed);
    }

    /// <summary>An aligned transformation (Kong et al. 2024, arXiv:2412.13526, Table 1) per task, then the frozen fine-tuned head.</summary>
    /// <param name="transform">Family member (default orthogonal).</param>
    /// <param name="trained">Adam with the orthogonality penalty instead of the closed form (default false).</param>
    /// <param name="shotsPerClass">Examples per class (default 5).</param>
    public AlignedTransformEstimator AlignedTransform(TransformKind transform = TransformKind.Orthogonal, bool trained = false, int shotsPerClass = 5) =>
        AlignedTransform(new AlignedTransformOptions { Transform = transform, Trained = trained, ShotsPerClass = shotsPerClass });

    /// <summary>An aligned transformation with all settings.</summary>
    public AlignedTransformEstimator AlignedTransform(AlignedTransformOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var p = new Dictionary<string, ParameterValue>(StringComparer.Ordinal)
        {
            ["transform"] = new ParameterValue.Text(FeatureTransform.Names[(int)options.Transform]),
            ["solver"] = new ParameterValue.Text(options.Trained ? "trained" : "closed_form"),
            ["shots"] = new ParameterValue.Scalar(options.ShotsPerClass),
        };
        if (options.Transform is not (TransformKind.Orthogonal or TransformKind.Euclidean)) p["ridge"] = new ParameterValue.Scalar(options.Ridge);
        if (options.Trained)
        {
            p["steps"] = new ParameterValue.Scalar(options.Steps);
            p["learning_rate"] = new ParameterValue.Scalar(options.LearningRate);
            if (options.Beta is { } beta) p["beta"] = new ParameterValue.Scalar(beta);
        }
        return new AlignedTransformEstimator(p, Seed);
    }

    /// <summary>Representation Surgery (baseline): a low-rank adapter per task on the merged features, L1 to the fine-tuned features.</summary>
    /// <param name="rank">Bottleneck width (default 16).</param>
    /// <param name="steps">Adam steps (default 500).</param>
    public SurgeryEstimator Surgery(int rank = 16, int steps = 500) => Surgery(new SurgeryOptions { Rank = rank, Steps = steps });

    /// <summary>Representation Surgery with all settings.</summary>
    public SurgeryEstimator Surgery(SurgeryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var p = new Dictionary<string, ParameterValue>(StringComparer.Ordinal)
        {
            ["rank"] = new ParameterValue.Scalar(options.Rank),
            ["steps"] = new ParameterValue.Scalar(options.Steps),
            ["learning_rate"] = new ParameterValue.Scalar(options.LearningRate),
            ["batch"] = new ParameterValue.Scalar(options.BatchSize),
        };
        return new SurgeryEstimator(p, Seed);
    }
}
