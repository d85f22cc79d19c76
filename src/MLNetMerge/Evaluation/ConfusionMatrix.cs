namespace MLNetMerge.Evaluation;

/// <summary>
/// Counts of (true class, predicted class) pairs, as ML.NET's <c>ConfusionMatrix</c>: rows are the true classes,
/// columns the predicted ones. Precision of class c = <c>M[c,c] / Σ_r M[r,c]</c>; recall = <c>M[c,c] / Σ_j M[c,j]</c>
/// (0 when the denominator is 0).
/// </summary>
internal sealed class ConfusionMatrix
{
    private readonly long[,] _counts;

    /// <summary>Counts predictions against labels.</summary>
    /// <param name="labels">True classes (N).</param>
    /// <param name="predictions">Predicted classes (N).</param>
    /// <param name="classCount">K.</param>
    public ConfusionMatrix(ReadOnlySpan<int> labels, ReadOnlySpan<int> predictions, int classCount)
    {
        if (labels.Length != predictions.Length) throw new ArgumentException($"{labels.Length} labels but {predictions.Length} predictions.");
        _counts = new long[classCount, classCount];
        for (int i = 0; i < labels.Length; i++) _counts[labels[i], predictions[i]]++;
        NumberOfClasses = classCount;
        var precision = new double[classCount];
        var recall = new double[classCount];
        for (int c = 0; c < classCount; c++)
        {
            long row = 0, col = 0;
            for (int j = 0; j < classCount; j++) { row += _counts[c, j]; col += _counts[j, c]; }
            precision[c] = col == 0 ? 0 : (double)_counts[c, c] / col;
            recall[c] = row == 0 ? 0 : (double)_counts[c, c] / row;
        }
        PerClassPrecision = precision;
        PerClassRecall = recall;
    }

    /// <summary>K.</summary>
    public int NumberOfClasses { get; }

    /// <summary>Examples of true class <paramref name="truth"/> predicted as <paramref name="predicted"/>.</summary>
    public long GetCount(int truth, int predicted) => _counts[truth, predicted];

    /// <summary>The matrix as rows (K × K), rows = true class.</summary>
    public long[][] Counts => Enumerable.Range(0, NumberOfClasses).Select(r => Enumerable.Range(0, NumberOfClasses).Select(c => _counts[r, c]).ToArray()).ToArray();

    /// <summary>Precision per class (K).</summary>
    public IReadOnlyList<double> PerClassPrecision { get; }

    /// <summary>Recall per class (K).</summary>
    public IReadOnlyList<double> PerClassRecall { get; }
}
