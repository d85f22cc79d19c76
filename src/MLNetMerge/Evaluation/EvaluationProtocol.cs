using MLNetMerge.Tensors;
using MLNetMerge.Data;
using MLNetMerge.Encoders;

namespace MLNetMerge.Evaluation;

/// <summary>What an evaluation run produced for one task: accuracy (mean and standard deviation over seeds for the
/// few-shot protocols; std 0 for deterministic ones) and the full metrics of every run.</summary>
/// <param name="Protocol">Protocol name.</param>
/// <param name="Accuracy">Mean MicroAccuracy over runs.</param>
/// <param name="AccuracyStd">Population standard deviation of the accuracy over runs.</param>
/// <param name="Runs">Metrics of each run (one per seed).</param>
internal sealed record ProtocolResult(string Protocol, double Accuracy, double AccuracyStd, IReadOnlyList<ClassificationScores> Runs)
{
    /// <summary>Summarises runs.</summary>
    public static ProtocolResult From(string protocol, IReadOnlyList<ClassificationScores> runs)
    {
        double mean = runs.Average(r => r.MicroAccuracy);
        double var = runs.Average(r => (r.MicroAccuracy - mean) * (r.MicroAccuracy - mean));
        return new ProtocolResult(protocol, mean, Math.Sqrt(var), runs);
    }
}

/// <summary>
/// An evaluation protocol (docs/methods/evaluation-protocols.md): how the encoder output <c>f(x)</c> of a (merged) model becomes predictions
/// for a task. Protocols are objects carrying their settings, as ML.NET's trainers are.
/// </summary>
internal abstract class EvaluationProtocol
{
    /// <summary>Short name used in tables and reports (<c>current</c>, <c>knn5</c>, …).</summary>
    public abstract string Name { get; }

    /// <summary>Whether the protocol needs labeled examples besides the test set (anchors, alignment data).</summary>
    public abstract bool UsesLabeledData { get; }

    /// <summary>Evaluates precomputed embeddings.</summary>
    /// <param name="testEmbeddings">Test embeddings (N, E).</param>
    /// <param name="test">Test set (labels used for scoring).</param>
    /// <param name="head">The task's own head.</param>
    /// <param name="labeledEmbeddings">Embeddings (M, E) of the labeled pool anchors are drawn from (the validation split), or null.</param>
    /// <param name="labeled">The labeled pool, or null.</param>
    public abstract ProtocolResult Evaluate(float[] testEmbeddings, TaskDataset test, TaskHead head, float[]? labeledEmbeddings, TaskDataset? labeled);

    /// <summary>Encodes the data with <paramref name="encoder"/>'s current weights and evaluates.</summary>
    /// <param name="encoder">The encoder session, weights loaded.</param>
    /// <param name="test">Test set.</param>
    /// <param name="head">The task's own head.</param>
    /// <param name="labeled">The labeled pool, or null.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    internal ProtocolResult Evaluate(Encoders.EncoderSession encoder, TaskDataset test, TaskHead head, TaskDataset? labeled, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(test);
        return Evaluate(encoder.EmbedLoaded(test, cancellationToken), test, head,
            UsesLabeledData && labeled is not null ? encoder.EmbedLoaded(labeled, cancellationToken) : null, labeled);
    }
}

/// <summary>Current Eval: the merged encoder followed by the task's original fine-tuned head.</summary>
internal sealed class CurrentProtocol : EvaluationProtocol
{
    /// <inheritdoc />
    public override string Name => "current";

    /// <inheritdoc />
    public override bool UsesLabeledData => false;

    /// <inheritdoc />
    public override ProtocolResult Evaluate(float[] testEmbeddings, TaskDataset test, TaskHead head, float[]? labeledEmbeddings, TaskDataset? labeled)
    {
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(head);
        var probs = head.Probabilities(testEmbeddings, test.Count);
        return ProtocolResult.From(Name, [ClassificationScores.Compute(probs, test.RequireLabels(), head.ClassCount)]);
    }
}

/// <summary>
/// KNN Eval (Kong et al. 2024, arXiv:2412.13526): per draw r, take <see cref="Shots"/> labeled anchors per class (class-balanced, on the
/// stream <c>("knn.anchors", r, task)</c> of <see cref="Seed"/>) and predict
/// the class whose anchors have the smallest mean Euclidean distance to <c>f(x)</c>. Scores for the probability-based
/// metrics are <c>softmax(−mean distance)</c>. Reported as mean ± std over <see cref="Seeds"/> draws.
/// </summary>
/// <param name="shots">Anchors per class k.</param>
/// <param name="seeds">Number of anchor draws.</param>
/// <param name="seed">The run's seed.</param>
internal sealed class KnnProtocol(int shots = 5, int seeds = 5, ulong seed = 0) : EvaluationProtocol
{
    /// <summary>The run's seed the anchor draws derive from.</summary>
    public ulong Seed { get; } = seed;

    /// <summary>Anchors per class.</summary>
    public int Shots { get; } = shots > 0 ? shots : throw new ArgumentOutOfRangeException(nameof(shots));

    /// <summary>Number of seeds.</summary>
    public int Seeds { get; } = seeds > 0 ? seeds : throw new ArgumentOutOfRangeException(nameof(seeds));

    /// <inheritdoc />
    public override string Name => $"knn{Shots}";

    /// <inheritdoc />
    public override bool UsesLabeledData => true;

    /// <inheritdoc />
    public override ProtocolResult Evaluate(float[] testEmbeddings, TaskDataset test, TaskHead head, float[]? labeledEmbeddings, TaskDataset? labeled)
    {
        ArgumentNullException.ThrowIfNull(test);
        if (labeledEmbeddings is null || labeled is null) throw new ArgumentException($"KNN evaluation of '{test.Name}' needs a labeled pool to draw anchors from.");
        int k = labeled.ClassCount, n = test.Count, e = testEmbeddings.Length / n;
        var runs = new List<ClassificationScores>();
        var scores = new float[n * k];                                   // (N, K)
        for (int draw = 0; draw < Seeds; draw++)
        {
            var anchors = FewShotSampler.Sample(labeled.RequireLabels(), k, Shots, RandomStreams.Key(Seed, "knn.anchors", draw, test.Name)); // (K·k) grouped by class
            MeanDistanceScores(scores, testEmbeddings, labeledEmbeddings, anchors, n, e, k, Shots);
            runs.Add(ClassificationScores.Compute(scores, test.RequireLabels(), k));
        }
        return ProtocolResult.From(Name, runs);
    }

    /// <summary>
    /// <c>scores[i, c] = softmax_c(−d̄_ic)</c> with <c>d̄_ic = (1/k) Σ_j ‖x_i − a_cj‖₂</c> over the anchors of class c.
    /// </summary>
    /// <param name="scores">Output (N, K).</param>
    /// <param name="x">Query embeddings (N, E).</param>
    /// <param name="pool">Pool embeddings (M, E).</param>
    /// <param name="anchors">Pool indices of the anchors (K·k), grouped by class.</param>
    /// <param name="n">N.</param>
    /// <param name="e">E.</param>
    /// <param name="classes">K.</param>
    /// <param name="shots">k.</param>
    public static void MeanDistanceScores(Span<float> scores, ReadOnlySpan<float> x, ReadOnlySpan<float> pool, ReadOnlySpan<int> anchors,
        int n, int e, int classes, int shots)
    {
        for (int i = 0; i < n; i++)
        {
            var q = x.Slice(i * e, e);                                   // (E)
            var row = scores.Slice(i * classes, classes);                // (K)
            float max = float.NegativeInfinity;
            for (int c = 0; c < classes; c++)
            {
                double sum = 0;
                for (int j = 0; j < shots; j++)
                    sum += System.Numerics.Tensors.TensorPrimitives.Distance(q, pool.Slice(anchors[c * shots + j] * e, e));
                row[c] = (float)(-sum / shots);
                max = Math.Max(max, row[c]);
            }
            float z = 0;
            for (int c = 0; c < classes; c++) { row[c] = MathF.Exp(row[c] - max); z += row[c]; }
            for (int c = 0; c < classes; c++) row[c] /= z;
        }
    }
}
