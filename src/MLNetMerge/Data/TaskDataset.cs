namespace MLNetMerge.Data;

/// <summary>
/// The examples of one task: a float32 feature tensor (N, …) in C order, optional integer class labels, and the class
/// names. Images are (N, C, H, W) with <see cref="FeatureShape"/> = (C, H, W); tabular data is (N, D). Immutable by
/// convention: subsets copy.
/// </summary>
internal sealed class TaskDataset
{
    /// <summary>Creates a dataset.</summary>
    /// <param name="name">Task name.</param>
    /// <param name="features">Features (N × product of <paramref name="featureShape"/>), C order.</param>
    /// <param name="featureShape">Shape of one example, e.g. (1, 28, 28) or (64).</param>
    /// <param name="labels">Class indices (N) in [0, class count), or null for unlabeled data.</param>
    /// <param name="classNames">Names of the classes (index = label).</param>
    /// <exception cref="ArgumentException">The lengths disagree or a label is outside the classes.</exception>
    public TaskDataset(string name, float[] features, int[] featureShape, int[]? labels, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(featureShape);
        ArgumentNullException.ThrowIfNull(classNames);
        int len = 1;
        foreach (int dim in featureShape) { if (dim <= 0) throw new ArgumentException($"feature shape [{string.Join(", ", featureShape)}] has a non-positive dimension.", nameof(featureShape)); len *= dim; }
        if (features.Length % len != 0) throw new ArgumentException($"{features.Length} feature values are not a multiple of the example size {len}.", nameof(features));
        int n = features.Length / len;
        if (labels is not null)
        {
            if (labels.Length != n) throw new ArgumentException($"{labels.Length} labels for {n} examples.", nameof(labels));
            for (int i = 0; i < n; i++)
                if ((uint)labels[i] >= (uint)classNames.Count) throw new ArgumentException($"label {labels[i]} of example {i} is outside the {classNames.Count} classes.", nameof(labels));
        }
        Name = name;
        Features = features;
        FeatureShape = (int[])featureShape.Clone();
        FeatureLength = len;
        Count = n;
        Labels = labels;
        ClassNames = classNames;
    }

    /// <summary>Task name.</summary>
    public string Name { get; }

    /// <summary>Features (N × <see cref="FeatureLength"/>), C order.</summary>
    public float[] Features { get; }

    /// <summary>Shape of one example.</summary>
    public int[] FeatureShape { get; }

    /// <summary>Elements per example.</summary>
    public int FeatureLength { get; }

    /// <summary>Number of examples N.</summary>
    public int Count { get; }

    /// <summary>Class indices (N), or null when unlabeled.</summary>
    public int[]? Labels { get; }

    /// <summary>Whether labels are present.</summary>
    public bool HasLabels => Labels is not null;

    /// <summary>Class names; the label is the index.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Number of classes K.</summary>
    public int ClassCount => ClassNames.Count;

    /// <summary>The features of example <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Example(int index) => Features.AsSpan(index * FeatureLength, FeatureLength);

    /// <summary>The labels, or an exception naming the task when it is unlabeled.</summary>
    /// <exception cref="InvalidOperationException">The dataset has no labels.</exception>
    public int[] RequireLabels() => Labels ?? throw new InvalidOperationException($"task '{Name}' has no labels; this step needs labeled data.");

    /// <summary>Examples per class (K).</summary>
    public int[] ClassCounts()
    {
        var counts = new int[ClassCount];
        foreach (int y in RequireLabels()) counts[y]++;
        return counts;
    }

    /// <summary>A copy holding the examples at <paramref name="indices"/>, in that order.</summary>
    /// <param name="indices">Example indices (may repeat).</param>
    /// <param name="name">Name of the subset; the same name when null.</param>
    public TaskDataset Subset(IReadOnlyList<int> indices, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var f = new float[indices.Count * FeatureLength];                 // (M, …)
        int[]? y = Labels is null ? null : new int[indices.Count];        // (M)
        for (int i = 0; i < indices.Count; i++)
        {
            int src = indices[i];
            if ((uint)src >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), $"index {src} is outside the {Count} examples of '{Name}'.");
            Example(src).CopyTo(f.AsSpan(i * FeatureLength, FeatureLength));
            if (y is not null) y[i] = Labels![src];
        }
        return new TaskDataset(name ?? Name, f, FeatureShape, y, ClassNames);
    }

    /// <summary>The same examples without labels (what a transductive method may see).</summary>
    public TaskDataset WithoutLabels() => new(Name, Features, FeatureShape, null, ClassNames);
}
