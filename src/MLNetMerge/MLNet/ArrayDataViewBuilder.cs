namespace MLNetMerge.MLNet;

/// <summary>
/// Collects the columns of an <see cref="ArrayDataView"/>. Arrays are referenced, not copied: changing them after
/// <see cref="Build"/> changes the view. Every column must have the same number of rows; bad input is a one-line
/// <see cref="ArgumentException"/> naming the column and what was expected.
/// </summary>
/// <example><code>
/// IDataView view = new ArrayDataViewBuilder()
///     .AddFloatVector("pixel_values", pixels, 784)          // (N, 784)
///     .AddKey("Label", labels, classNames)                   // 0-based indices; key value = index + 1
///     .Build();
/// </code></example>
internal sealed class ArrayDataViewBuilder
{
    private readonly List<ArrayColumn> _columns = [];

    /// <summary>Adds a float vector column of <paramref name="width"/> values per row (<paramref name="values"/> is (N, width)).</summary>
    public ArrayDataViewBuilder AddFloatVector(string name, float[] values, int width)
    {
        ArgumentNullException.ThrowIfNull(values);
        CheckWidth(name, values.Length, width);
        return Add(new FloatVectorColumn(name, values, width));
    }

    /// <summary>Adds an int64 vector column of <paramref name="width"/> values per row (token ids, attention masks).</summary>
    public ArrayDataViewBuilder AddInt64Vector(string name, long[] values, int width)
    {
        ArgumentNullException.ThrowIfNull(values);
        CheckWidth(name, values.Length, width);
        return Add(new Int64VectorColumn(name, values, width));
    }

    /// <summary>Adds a text column (a null entry reads as empty text).</summary>
    public ArrayDataViewBuilder AddText(string name, string[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return Add(new TextColumn(name, values));
    }

    /// <summary>
    /// Adds a key column of <c>K = classNames.Count</c> classes from 0-based class indices (−1: missing). The stored key
    /// is index + 1, as ML.NET keys are 1-based; the class names become the key values.
    /// </summary>
    /// <exception cref="ArgumentException">No class names, repeated names, or an index outside [−1, K).</exception>
    public ArrayDataViewBuilder AddKey(string name, int[] classIndices, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(classIndices);
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count == 0) throw new ArgumentException($"column '{name}': a key column needs at least one class name.", nameof(classNames));
        if (classNames.Distinct(StringComparer.Ordinal).Count() != classNames.Count)
            throw new ArgumentException($"column '{name}': class names repeat ({string.Join(", ", classNames)}); key values must be distinct.", nameof(classNames));
        for (int i = 0; i < classIndices.Length; i++)
            if (classIndices[i] < -1 || classIndices[i] >= classNames.Count)
                throw new ArgumentException($"column '{name}': row {i} has class index {classIndices[i]}; expected 0..{classNames.Count - 1} (0-based) or -1 for missing.", nameof(classIndices));
        return Add(new KeyColumn(name, classIndices, classNames));
    }

    /// <summary>Builds the view.</summary>
    /// <exception cref="ArgumentException">No columns, or columns with different row counts.</exception>
    public ArrayDataView Build()
    {
        if (_columns.Count == 0) throw new ArgumentException("an array data view needs at least one column.");
        var first = _columns[0];
        foreach (var c in _columns)
            if (c.Rows != first.Rows)
                throw new ArgumentException($"column '{c.Name}' has {c.Rows} rows; column '{first.Name}' has {first.Rows}; every column needs the same number of rows.");
        return new ArrayDataView(_columns, first.Rows);
    }

    private ArrayDataViewBuilder Add(ArrayColumn column)
    {
        if (string.IsNullOrWhiteSpace(column.Name)) throw new ArgumentException("a column needs a non-empty name.");
        if (_columns.Any(c => c.Name == column.Name)) throw new ArgumentException($"column '{column.Name}' is added twice.");
        _columns.Add(column);
        return this;
    }

    private static void CheckWidth(string name, int length, int width)
    {
        if (width <= 0) throw new ArgumentException($"column '{name}': width {width}; a vector column needs a positive width.", nameof(width));
        if (length % width != 0) throw new ArgumentException($"column '{name}': {length} values is not a whole number of rows of width {width}.", nameof(width));
    }
}
