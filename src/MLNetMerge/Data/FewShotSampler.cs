using MLNetMerge.Tensors;

namespace MLNetMerge.Data;

/// <summary>
/// Seeded class-balanced sampling: <c>k</c> examples of every class, drawn without replacement by a partial
/// Fisher–Yates shuffle of each class's indices on the stream <c>RandomStreams.Key(seed, "few_shot", class)</c>. The same seed gives
/// the same indices; classes with fewer than <c>k</c> examples are an error rather than silently unbalanced.
/// </summary>
internal static class FewShotSampler
{
    /// <summary>Indices of <paramref name="shotsPerClass"/> examples of each class, grouped by class (class 0 first).</summary>
    /// <param name="labels">Labels (N).</param>
    /// <param name="classCount">K.</param>
    /// <param name="shotsPerClass">k ≥ 1.</param>
    /// <param name="seed">Seed of the draw.</param>
    /// <exception cref="ArgumentException">A class has fewer than k examples.</exception>
    public static int[] Sample(ReadOnlySpan<int> labels, int classCount, int shotsPerClass, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shotsPerClass);
        var byClass = IndicesByClass(labels, classCount);
        var result = new int[classCount * shotsPerClass];
        for (int c = 0; c < classCount; c++)
        {
            var pool = byClass[c];
            if (pool.Count < shotsPerClass)
                throw new ArgumentException($"class {c} has {pool.Count} examples; {shotsPerClass} shots per class were asked for.", nameof(shotsPerClass));
            RandomStreams.Create(seed, "few_shot", c).ShuffleFirst(pool, shotsPerClass);
            pool.CopyTo(0, result, c * shotsPerClass, shotsPerClass);
        }
        return result;
    }

    /// <summary>The same sample as a dataset (labels kept).</summary>
    public static TaskDataset Sample(TaskDataset data, int shotsPerClass, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.Subset(Sample(data.RequireLabels(), data.ClassCount, shotsPerClass, seed), $"{data.Name}-{shotsPerClass}shot-s{seed}");
    }

    /// <summary>Indices of each class, in dataset order (K lists).</summary>
    public static List<int>[] IndicesByClass(ReadOnlySpan<int> labels, int classCount)
    {
        var byClass = new List<int>[classCount];
        for (int c = 0; c < classCount; c++) byClass[c] = [];
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount) throw new ArgumentException($"label {labels[i]} of example {i} is outside [0, {classCount}).", nameof(labels));
            byClass[labels[i]].Add(i);
        }
        return byClass;
    }
}
