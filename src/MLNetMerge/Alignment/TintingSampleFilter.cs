namespace MLNetMerge.Alignment;

/// <summary>Which samples Tinting++ leaves out of a task's loss.</summary>
internal enum TintingFilterRule
{
    /// <summary>Keep every sample (plain Model Tinting).</summary>
    None,

    /// <summary>The paper's text: drop a sample when the merged model's top-1 probability exceeds the individual model's.</summary>
    MoreConfident,

    /// <summary>The authors' code (default of Tinting++): drop a sample only when, in addition, the two predicted classes differ.</summary>
    DisagreeAndMoreConfident,
}

/// <summary>
/// Tinting++'s confidence filter (docs/methods/tinting.md). With <c>pm = softmax(merged logits)</c>, <c>pi = softmax(individual
/// logits)</c>, <c>ym = argmax pm</c>, <c>yi = argmax pi</c> (first index on ties), a sample is dropped when
/// <c>max pm &gt; max pi</c> (strictly) under <see cref="TintingFilterRule.MoreConfident"/>, and when
/// <c>ym ≠ yi ∧ max pm &gt; max pi</c> under <see cref="TintingFilterRule.DisagreeAndMoreConfident"/>; every other sample is kept.
/// </summary>
internal static class TintingSampleFilter
{
    /// <summary>Fills <paramref name="keep"/> (N) and returns how many samples are kept.</summary>
    /// <param name="keep">Output: whether each sample stays in the loss (N).</param>
    /// <param name="mergedProbabilities">Merged model's class probabilities (N, K).</param>
    /// <param name="individualProbabilities">Individual (fine-tuned) model's class probabilities (N, K).</param>
    /// <param name="n">N.</param>
    /// <param name="k">K.</param>
    /// <param name="rule">The rule.</param>
    public static int Apply(Span<bool> keep, ReadOnlySpan<float> mergedProbabilities, ReadOnlySpan<float> individualProbabilities, int n, int k, TintingFilterRule rule)
    {
        if (keep.Length < n || mergedProbabilities.Length < n * k || individualProbabilities.Length < n * k)
            throw new ArgumentException($"expected {n} flags and {n}×{k} probabilities for each model.");
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            bool drop = false;
            if (rule != TintingFilterRule.None)
            {
                var (ym, pm) = Top1(mergedProbabilities.Slice(i * k, k));
                var (yi, pi) = Top1(individualProbabilities.Slice(i * k, k));
                drop = pm > pi && (rule == TintingFilterRule.MoreConfident || ym != yi);
            }
            keep[i] = !drop;
            if (!drop) kept++;
        }
        return kept;
    }

    /// <summary>The first index of the largest value and that value.</summary>
    public static (int Index, float Value) Top1(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int j = 1; j < row.Length; j++) if (row[j] > row[best]) best = j;
        return (best, row[best]);
    }
}
