namespace MLNetMerge.Evaluation;

/// <summary>
/// The engine's multiclass scores, with ML.NET's metric names (the public API reports ML.NET's own
/// <c>MulticlassClassificationMetrics</c>, computed from the same probabilities and labels) plus calibration and correlation
/// measures the merging literature reports. Computed from class probabilities (N, K) and labels (N); the predicted
/// class is the arg-max (lowest index on ties).
/// <list type="bullet">
/// <item><c>MicroAccuracy = (1/N) Σ [ŷ_i = y_i]</c>; <c>MacroAccuracy</c> = mean over classes present of per-class recall.</item>
/// <item><c>LogLoss = −(1/N) Σ ln max(p_i[y_i], 1e−15)</c> (natural log, ML.NET's clamp);
/// <c>PerClassLogLoss[c]</c> = the same mean over examples of class c.</item>
/// <item><c>LogLossReduction = (LL_prior − LogLoss) / LL_prior</c>, with <c>LL_prior = −Σ_c q_c ln q_c</c> for the label
/// frequencies q of the evaluated set (1 = perfect, 0 = no better than the prior, negative = worse).</item>
/// <item><c>TopKAccuracy</c>: share of examples whose true class has fewer than K classes scoring strictly higher.</item>
/// <item><c>ExpectedCalibrationError</c> (15 equal-width bins of the confidence <c>max_c p_i[c]</c>, bin b = (b/15, (b+1)/15],
/// confidence 0 in bin 0): <c>Σ_b (|B_b|/N) · |acc(B_b) − conf(B_b)|</c>.</item>
/// <item><c>MatthewsCorrelation</c> (Gorodkin's R_K, the binary MCC when K = 2): with c correct, s = N, p_k predicted and
/// t_k true counts, <c>(c·s − Σ p_k t_k) / √((s² − Σ p_k²)(s² − Σ t_k²))</c>, 0 when a factor is 0.</item>
/// <item><c>F1Score</c>: for K = 2 the F1 of class 1 (<c>2PR/(P+R)</c>), else <see cref="MacroF1"/> (mean of per-class F1).</item>
/// </list>
/// </summary>
internal sealed class ClassificationScores
{
    /// <summary>Number of bins of <see cref="ExpectedCalibrationError"/>.</summary>
    public const int CalibrationBins = 15;

    private const double Epsilon = 1e-15;

    /// <summary>Computes every metric.</summary>
    /// <param name="probabilities">Class probabilities (N, K), rows summing to 1.</param>
    /// <param name="labels">True classes (N).</param>
    /// <param name="classCount">K.</param>
    /// <param name="topK">K of <see cref="TopKAccuracy"/> (default 5, ML.NET's usual choice; clipped to the class count).</param>
    public static ClassificationScores Compute(ReadOnlySpan<float> probabilities, ReadOnlySpan<int> labels, int classCount, int topK = 5)
    {
        int n = labels.Length, k = classCount;
        if (probabilities.Length != n * k) throw new ArgumentException($"expected {n}×{k} probabilities, got {probabilities.Length}.", nameof(probabilities));
        if (n == 0) throw new ArgumentException("no examples to evaluate.", nameof(labels));
        topK = Math.Clamp(topK, 1, k);
        var predictions = new int[n];                                     // (N)
        double logLoss = 0, correct = 0, topKHits = 0;
        var classLogLoss = new double[k];                                 // (K)
        var classCount_ = new int[k];                                     // (K)
        var binCount = new int[CalibrationBins];
        var binConfidence = new double[CalibrationBins];
        var binCorrect = new double[CalibrationBins];
        for (int i = 0; i < n; i++)
        {
            var row = probabilities.Slice(i * k, k);                      // (K)
            int y = labels[i];
            if ((uint)y >= (uint)k) throw new ArgumentException($"label {y} of example {i} is outside [0, {k}).", nameof(labels));
            int best = 0, higher = 0;
            for (int c = 1; c < k; c++) if (row[c] > row[best]) best = c;
            for (int c = 0; c < k; c++) if (row[c] > row[y]) higher++;
            predictions[i] = best;
            bool hit = best == y;
            if (hit) correct++;
            if (higher < topK) topKHits++;
            double ll = -Math.Log(Math.Max(row[y], Epsilon));
            logLoss += ll;
            classLogLoss[y] += ll;
            classCount_[y]++;
            double conf = row[best];
            int bin = conf <= 0 ? 0 : Math.Min(CalibrationBins - 1, (int)Math.Ceiling(conf * CalibrationBins) - 1);
            binCount[bin]++;
            binConfidence[bin] += conf;
            if (hit) binCorrect[bin]++;
        }
        var m = new ClassificationScores { ConfusionMatrix = new ConfusionMatrix(labels, predictions, k), Probabilities = probabilities.ToArray(), Labels = labels.ToArray() };
        m.MicroAccuracy = correct / n;
        m.LogLoss = logLoss / n;
        m.TopKPredictionCount = topK;
        m.TopKAccuracy = topKHits / n;
        double prior = 0, recallSum = 0;
        int present = 0;
        var perClass = new double[k];
        for (int c = 0; c < k; c++)
        {
            perClass[c] = classCount_[c] == 0 ? 0 : classLogLoss[c] / classCount_[c];
            if (classCount_[c] == 0) continue;
            double q = (double)classCount_[c] / n;
            prior -= q * Math.Log(q);
            recallSum += m.ConfusionMatrix.PerClassRecall[c];
            present++;
        }
        m.PerClassLogLoss = perClass;
        m.MacroAccuracy = recallSum / present;
        m.LogLossReduction = prior <= 0 ? 0 : (prior - m.LogLoss) / prior;
        double ece = 0;
        for (int b = 0; b < CalibrationBins; b++)
            if (binCount[b] > 0) ece += (double)binCount[b] / n * Math.Abs(binCorrect[b] / binCount[b] - binConfidence[b] / binCount[b]);
        m.ExpectedCalibrationError = ece;
        m.MatthewsCorrelation = Matthews(m.ConfusionMatrix, n, correct);
        var f1 = new double[k];
        for (int c = 0; c < k; c++)
        {
            double p = m.ConfusionMatrix.PerClassPrecision[c], r = m.ConfusionMatrix.PerClassRecall[c];
            f1[c] = p + r == 0 ? 0 : 2 * p * r / (p + r);
        }
        m.PerClassF1 = f1;
        m.MacroF1 = f1.Average();
        m.F1Score = k == 2 ? f1[1] : m.MacroF1;
        return m;
    }

    private static double Matthews(ConfusionMatrix cm, double s, double c)
    {
        int k = cm.NumberOfClasses;
        double pt = 0, pp = 0, tt = 0;
        for (int j = 0; j < k; j++)
        {
            double p = 0, t = 0;
            for (int r = 0; r < k; r++) { p += cm.GetCount(r, j); t += cm.GetCount(j, r); }
            pt += p * t; pp += p * p; tt += t * t;
        }
        double den = Math.Sqrt((s * s - pp) * (s * s - tt));
        return den == 0 ? 0 : (c * s - pt) / den;
    }

    /// <summary>Share of correct predictions over all examples.</summary>
    public double MicroAccuracy { get; private set; }

    /// <summary>The class probabilities (N, K) the scores were computed from.</summary>
    internal float[] Probabilities { get; private init; } = [];

    /// <summary>The true classes (N).</summary>
    internal int[] Labels { get; private init; } = [];
    /// <summary>Mean over the classes present of the per-class accuracy (recall).</summary>
    public double MacroAccuracy { get; private set; }
    /// <summary>Mean negative natural log of the true class's probability (clamped at 1e−15).</summary>
    public double LogLoss { get; private set; }
    /// <summary>Relative log-loss improvement over predicting the label frequencies.</summary>
    public double LogLossReduction { get; private set; }
    /// <summary>K of <see cref="TopKAccuracy"/>.</summary>
    public int TopKPredictionCount { get; private set; }
    /// <summary>Share of examples whose true class is among the K highest scores.</summary>
    public double TopKAccuracy { get; private set; }
    /// <summary>Mean log-loss of the examples of each class (K).</summary>
    public IReadOnlyList<double> PerClassLogLoss { get; private set; } = [];
    /// <summary>Counts of (true, predicted) pairs.</summary>
    public ConfusionMatrix ConfusionMatrix { get; private set; } = null!;
    /// <summary>Expected calibration error over 15 equal-width confidence bins.</summary>
    public double ExpectedCalibrationError { get; private set; }
    /// <summary>Matthews correlation (multiclass R_K; binary MCC for two classes).</summary>
    public double MatthewsCorrelation { get; private set; }
    /// <summary>F1 of class 1 for two classes, macro F1 otherwise.</summary>
    public double F1Score { get; private set; }
    /// <summary>Mean of the per-class F1 scores.</summary>
    public double MacroF1 { get; private set; }
    /// <summary>F1 of each class (K).</summary>
    public IReadOnlyList<double> PerClassF1 { get; private set; } = [];
}
