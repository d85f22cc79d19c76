namespace MLNetMerge.Evaluation;

/// <summary>
/// Correlations for regression tasks (STS-B style): Pearson <c>r = Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)² Σ(y−ȳ)²)</c>, Spearman ρ =
/// Pearson of the ranks with ties given their average rank, and their mean, which the GLUE tables report. A constant
/// input has no defined correlation and gives NaN.
/// </summary>
public static class RegressionMetrics
{
    /// <summary>Pearson correlation of two equally long series.</summary>
    public static double Pearson(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (x.Length != y.Length || x.Length < 2) throw new ArgumentException($"need two series of equal length ≥ 2, got {x.Length} and {y.Length}.");
        double mx = 0, my = 0;
        for (int i = 0; i < x.Length; i++) { mx += x[i]; my += y[i]; }
        mx /= x.Length; my /= y.Length;
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
        }
        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }

    /// <summary>Spearman rank correlation (average ranks for ties).</summary>
    public static double Spearman(ReadOnlySpan<double> x, ReadOnlySpan<double> y) => Pearson(Ranks(x), Ranks(y));

    /// <summary>(Pearson + Spearman) / 2.</summary>
    public static double PearsonSpearmanMean(ReadOnlySpan<double> x, ReadOnlySpan<double> y) => (Pearson(x, y) + Spearman(x, y)) / 2;

    /// <summary>1-based ranks; a run of equal values gets the mean of the ranks it spans.</summary>
    public static double[] Ranks(ReadOnlySpan<double> values)
    {
        var v = values.ToArray();
        var order = Enumerable.Range(0, v.Length).OrderBy(i => v[i]).ThenBy(i => i).ToArray();
        var ranks = new double[v.Length];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && v[order[end + 1]] == v[order[start]]) end++;
            double avg = (start + end) / 2.0 + 1;
            for (int j = start; j <= end; j++) ranks[order[j]] = avg;
            start = end + 1;
        }
        return ranks;
    }
}
