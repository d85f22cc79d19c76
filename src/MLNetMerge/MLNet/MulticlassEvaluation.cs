using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetMerge.MLNet;

/// <summary>
/// ML.NET's own multiclass metrics from arrays the batched path computes. <see cref="MulticlassClassificationMetrics"/>
/// has no public constructor, so the numbers come from <c>ml.MulticlassClassification.Evaluate</c> over a view of
/// <c>Label</c> (key), <c>Score</c> (probabilities) and <c>PredictedLabel</c> (key) built here, with ML.NET's encodings:
/// key = 0-based class index + 1, and Score holding probabilities (logits are refused: ML.NET would take them and
/// report accuracy right but log-loss wrong).
/// </summary>
internal static class MulticlassEvaluation
{
    /// <summary>Largest |Σ p − 1| accepted for a row of probabilities (float32 softmax rounding is far below it).</summary>
    public const double ProbabilitySumTolerance = 1e-3;

    /// <summary>
    /// The view Evaluate reads: <c>Label</c> = labels as keys, <c>Score</c> = the probabilities (N, K),
    /// <c>PredictedLabel</c> = argmax as keys (the first maximum on ties); both keys carry the class names.
    /// </summary>
    /// <param name="labels">0-based class index per row (N).</param>
    /// <param name="probabilities">(N, K) row-major probabilities.</param>
    /// <param name="classNames">K class names, in class-index order.</param>
    /// <exception cref="ArgumentException">A label outside [0, K), the wrong number of scores, or rows that are not probabilities.</exception>
    public static ArrayDataView ScoredView(int[] labels, float[] probabilities, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(classNames);
        int k = classNames.Count;
        if (k == 0 || probabilities.Length != labels.Length * k)
            throw new ArgumentException($"Score has {probabilities.Length} values; {labels.Length} rows × {k} classes expected.", nameof(probabilities));
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] < 0 || labels[i] >= k)
                throw new ArgumentException($"Label: row {i} has class index {labels[i]}; expected 0..{k - 1} (0-based class indices, not ML.NET's 1-based keys).", nameof(labels));
        CheckProbabilities(probabilities, k);
        var predicted = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++) predicted[i] = ArgMax(probabilities.AsSpan(i * k, k));
        return new ArrayDataViewBuilder()
            .AddKey("Label", labels, classNames)
            .AddFloatVector("Score", probabilities, k)
            .AddKey("PredictedLabel", predicted, classNames)
            .Build();
    }

    /// <summary>ML.NET's metrics (micro/macro accuracy, log-loss, log-loss reduction, top-K, confusion matrix) of the rows.</summary>
    /// <param name="ml">The context.</param>
    /// <param name="labels">0-based class index per row (N).</param>
    /// <param name="probabilities">(N, K) probabilities.</param>
    /// <param name="classNames">K class names.</param>
    /// <param name="topKPredictionCount">K of top-K accuracy; 0 for none.</param>
    public static MulticlassClassificationMetrics Evaluate(MLContext ml, int[] labels, float[] probabilities, IReadOnlyList<string> classNames, int topKPredictionCount = 0)
    {
        ArgumentNullException.ThrowIfNull(ml);
        return ml.MulticlassClassification.Evaluate(ScoredView(labels, probabilities, classNames), "Label", "Score", "PredictedLabel", topKPredictionCount);
    }

    /// <summary>
    /// <c>MapValueToKey</c> for text labels with the key order fixed by <paramref name="classNames"/> (key = index + 1).
    /// Without <c>keyData</c> ML.NET numbers keys in order of appearance, which silently mismatches the Score columns.
    /// </summary>
    public static IEstimator<ITransformer> TextLabelsToKeys(MLContext ml, string outputColumnName, string inputColumnName, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(classNames);
        var keyData = new ArrayDataViewBuilder().AddText("Key", [.. classNames]).Build();
        return ml.Transforms.Conversion.MapValueToKey(outputColumnName, inputColumnName, keyData: keyData);
    }

    /// <summary>Refuses rows that are not probability distributions (values outside [0, 1], or a sum away from 1): most likely logits.</summary>
    private static void CheckProbabilities(float[] p, int k)
    {
        if (FirstNonDistribution(p, k) is not { } bad) return;
        throw new ArgumentException(bad.Class >= 0
            ? $"Score: row {bad.Row} class {bad.Class} is {bad.Value}; Score must hold probabilities in [0, 1] (apply softmax to logits first)."
            : $"Score: row {bad.Row} sums to {bad.Value:G6}; Score must hold probabilities that sum to 1 (apply softmax to logits first).");
    }

    /// <summary>The first row of (N, K) <paramref name="p"/> that is not a probability distribution: a value outside
    /// [0, 1] or NaN (its class and value), or a sum further than <see cref="ProbabilitySumTolerance"/> from 1 (class −1,
    /// the sum); null when every row is one.</summary>
    internal static (int Row, int Class, double Value)? FirstNonDistribution(ReadOnlySpan<float> p, int k)
    {
        for (int row = 0; row * k < p.Length; row++)
        {
            double sum = 0;
            for (int c = 0; c < k; c++)
            {
                float v = p[row * k + c];
                if (!(v >= 0 && v <= 1)) return (row, c, v);
                sum += v;
            }
            if (Math.Abs(sum - 1) > ProbabilitySumTolerance) return (row, -1, sum);
        }
        return null;
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int c = 1; c < row.Length; c++) if (row[c] > row[best]) best = c;
        return best;
    }
}
