using MLNetMerge.Tensors;

namespace MLNetMerge.Data;

/// <summary>Train, validation and test parts of one task.</summary>
/// <param name="Train">Training examples (fine-tuning, few-shot anchors).</param>
/// <param name="Validation">Labeled validation examples (hyperparameter selection).</param>
/// <param name="Test">Test examples (reported numbers only).</param>
internal sealed record TaskSplits(TaskDataset Train, TaskDataset Validation, TaskDataset Test);

/// <summary>
/// Seeded stratified splits: within each class the indices are shuffled (Fisher–Yates on the stream
/// <c>RandomStreams.Key(seed, "splits.stratified", class)</c>) and cut by the fractions, so every part keeps the class proportions (to within one example per
/// class). The three index sets are disjoint and cover every example.
/// </summary>
internal static class DatasetSplits
{
    /// <summary>Index sets (each sorted ascending) for train, validation and test.</summary>
    /// <param name="labels">Labels (N).</param>
    /// <param name="classCount">K.</param>
    /// <param name="validationFraction">Share of each class for validation, in [0, 1).</param>
    /// <param name="testFraction">Share of each class for test; validation + test &lt; 1.</param>
    /// <param name="seed">Seed.</param>
    public static (int[] Train, int[] Validation, int[] Test) Stratified(ReadOnlySpan<int> labels, int classCount,
        double validationFraction, double testFraction, ulong seed)
    {
        if (validationFraction < 0 || testFraction < 0 || validationFraction + testFraction >= 1)
            throw new ArgumentOutOfRangeException(nameof(validationFraction), $"validation {validationFraction} and test {testFraction} fractions must be non-negative and sum below 1.");
        var byClass = FewShotSampler.IndicesByClass(labels, classCount);
        List<int> train = [], val = [], test = [];
        for (int c = 0; c < classCount; c++)
        {
            var pool = byClass[c];
            RandomStreams.Create(seed, "splits.stratified", c).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pool));
            int nTest = (int)Math.Round(pool.Count * testFraction), nVal = (int)Math.Round(pool.Count * validationFraction);
            test.AddRange(pool.Take(nTest));
            val.AddRange(pool.Skip(nTest).Take(nVal));
            train.AddRange(pool.Skip(nTest + nVal));
        }
        train.Sort(); val.Sort(); test.Sort();
        return (train.ToArray(), val.ToArray(), test.ToArray());
    }

    /// <summary>Splits a labeled dataset (names get <c>-train</c>/<c>-validation</c>/<c>-test</c> kept as the task name).</summary>
    public static TaskSplits Stratified(TaskDataset data, double validationFraction, double testFraction, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        var (tr, va, te) = Stratified(data.RequireLabels(), data.ClassCount, validationFraction, testFraction, seed);
        return new TaskSplits(data.Subset(tr), data.Subset(va), data.Subset(te));
    }

    /// <summary>The first <paramref name="perClass"/> indices of each class after a seeded shuffle (a balanced subset), sorted.</summary>
    public static int[] BalancedSubset(ReadOnlySpan<int> labels, int classCount, int perClass, ulong seed)
    {
        var idx = FewShotSampler.Sample(labels, classCount, perClass, seed);
        Array.Sort(idx);
        return idx;
    }
}
