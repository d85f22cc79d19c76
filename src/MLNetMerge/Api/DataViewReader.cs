using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetMerge.Data;

namespace MLNetMerge;

/// <summary>
/// Reads the rows of an <see cref="IDataView"/> into the engine's per-task datasets: the family's input column
/// (<see cref="MergeColumns.PixelValues"/> floats, or <see cref="MergeColumns.InputIds"/> int64 stored as floats),
/// optionally a label column (a key, an integer class index, or a class name), and for views that mix tasks the
/// <see cref="MergeColumns.Task"/> column. Bad columns are a one-line <see cref="AlignmentDataException"/>.
/// </summary>
internal static class DataViewReader
{
    /// <summary>Every row of <paramref name="view"/> as datasets keyed by task: for <paramref name="task"/> when given (its
    /// rows only, where the view has a <see cref="MergeColumns.Task"/> column; else all rows), else split by that column.</summary>
    /// <exception cref="AlignmentDataException">A missing or mistyped column, a row of the wrong size or with a NaN or
    /// infinite input, an unknown task or label.</exception>
    /// <param name="view">The rows.</param>
    /// <param name="family">The family whose input column, tasks and classes the rows must match.</param>
    /// <param name="task">The one task of every row, or null to read it from the <see cref="MergeColumns.Task"/> column.</param>
    /// <param name="labelColumn">The label column, or null to read no labels.</param>
    /// <param name="labelPurpose">What the labels are for, in a missing label column's error (default "the labels").</param>
    public static Dictionary<string, TaskDataset> Read(IDataView view, MergeFamily family, string? task, string? labelColumn, string? labelPurpose = null)
    {
        ArgumentNullException.ThrowIfNull(view);
        string input = family.IsText ? MergeColumns.InputIds : MergeColumns.PixelValues;
        int width = family.IsText ? family.SequenceLength
            : family.FeatureSize > 0 ? family.FeatureSize : family.ImageChannels * family.ImageSize * family.ImageSize;
        var inputColumn = Column(view, input, "the family's input");
        if (inputColumn.Type is not VectorDataViewType vector || (family.IsText ? vector.ItemType != NumberDataViewType.Int64 : vector.ItemType != NumberDataViewType.Single))
            throw new AlignmentDataException(task, $"column '{input}' is {inputColumn.Type}; the {(family.IsText ? "text family expects int64" : "family expects float")} vectors of {width}.");
        var taskColumn = TaskColumn(view, task);
        var labelCol = labelColumn is null ? (DataViewSchema.Column?)null : Column(view, labelColumn, labelPurpose ?? "the labels");

        var rows = new Dictionary<string, (List<float> Features, List<int> Labels)>(StringComparer.Ordinal);
        var active = new List<DataViewSchema.Column> { inputColumn };
        if (taskColumn is { } tc) active.Add(tc);
        if (labelCol is { } lc) active.Add(lc);
        using var cursor = view.GetRowCursor(active);
        var features = Features(cursor, inputColumn, family.IsText);
        var taskOf = taskColumn is { } t ? TaskGetter(cursor, t) : () => task!;
        Func<string, int>? labelOf = labelCol is { } l ? Labels(cursor, l, family) : null;
        var row = new float[width];
        while (cursor.MoveNext())
        {
            string name = taskOf();
            if (task is not null && name != task) continue; // another task's row of a mixed view
            if (!family.TaskNames.Contains(name)) throw new AlignmentDataException(name, $"a row names task '{name}', which is not a task of the family ({string.Join(", ", family.TaskNames)}).");
            int n = features(row);
            if (n != width) throw new AlignmentDataException(name, $"column '{input}' has rows of {n} values; the family's encoder expects {width}.");
            if (!rows.TryGetValue(name, out var r)) rows[name] = r = ([], []);
            if (!family.IsText && FirstNonFinite(row) is int j and >= 0)
                throw new AlignmentDataException(name, $"column '{input}': row {r.Features.Count / width} of task '{name}' has {row[j]} at position {j}; " +
                    "a stage fits on finite inputs (drop or repair the row, e.g. with ReplaceMissingValues).");
            r.Features.AddRange(row);
            if (labelOf is not null) r.Labels.Add(labelOf(name));
        }
        int[] shape = family.IsText ? [width] : family.FeatureSize > 0 ? [width] : [family.ImageChannels, family.ImageSize, family.ImageSize];
        return rows.ToDictionary(kv => kv.Key, kv => new TaskDataset(kv.Key, kv.Value.Features.ToArray(), shape,
            labelOf is null ? null : kv.Value.Labels.ToArray(), family.ClassNames(kv.Key)), StringComparer.Ordinal);
    }

    /// <summary>The first NaN or infinity of <paramref name="row"/>, or −1; a finite maximum magnitude (vectorised) settles most rows.</summary>
    private static int FirstNonFinite(float[] row)
    {
        if (row.Length == 0 || float.IsFinite(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude<float>(row))) return -1;
        for (int i = 0; i < row.Length; i++)
            if (!float.IsFinite(row[i])) return i;
        return -1;
    }

    internal static DataViewSchema.Column Column(IDataView view, string name, string what) =>
        view.Schema.GetColumnOrNull(name) ?? throw new AlignmentDataException(null,
            $"the data has no column '{name}' ({what}); its columns are {string.Join(", ", view.Schema.Where(c => !c.IsHidden).Select(c => c.Name))}.");

    /// <summary>A getter copying the current row's input into a buffer; returns the row's length.</summary>
    private static Func<float[], int> Features(DataViewRowCursor cursor, DataViewSchema.Column column, bool text)
    {
        if (text)
        {
            var get = cursor.GetGetter<VBuffer<long>>(column);
            VBuffer<long> buffer = default;
            return row =>
            {
                get(ref buffer);
                var values = buffer.DenseValues().ToArray();
                for (int i = 0; i < Math.Min(values.Length, row.Length); i++) row[i] = values[i];
                return values.Length;
            };
        }
        var getFloat = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> floats = default;
        return row =>
        {
            getFloat(ref floats);
            if (floats.Length == row.Length) floats.CopyTo(row);
            return floats.Length;
        };
    }

    /// <summary>The <see cref="MergeColumns.Task"/> column to read: required for a view mixing tasks (<paramref name="task"/>
    /// null); for one task, the column when the view has one (its rows pick that task's; without it every row is the
    /// task's). A column of that name in another case is refused rather than passed over (ML.NET's names are
    /// case-sensitive, and passing it over would read every task's rows as one).</summary>
    internal static DataViewSchema.Column? TaskColumn(IDataView view, string? task)
    {
        var column = view.Schema.GetColumnOrNull(MergeColumns.Task);
        if (column is null && view.Schema.Where(c => !c.IsHidden && string.Equals(c.Name, MergeColumns.Task, StringComparison.OrdinalIgnoreCase)).Select(c => (DataViewSchema.Column?)c).FirstOrDefault() is { } other)
            throw new AlignmentDataException(task, $"the data has a column '{other.Name}' but none named '{MergeColumns.Task}' (column names are case-sensitive); rename it so that each row's task is read.");
        return column ?? (task is null ? Column(view, MergeColumns.Task, "the task of each row (a view mixing tasks needs it)") : null);
    }

    /// <summary>A getter of the current row's task name: a text column, or a key column whose key values are the names
    /// (what <c>MapValueToKey</c> makes of a text column).</summary>
    internal static Func<string> TaskGetter(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        if (column.Type is KeyDataViewType && KeyNames(column) is { } names)
        {
            var key = KeyGetter(cursor, column);
            return () =>
            {
                ulong v = key();
                return v >= 1 && v <= (ulong)names.Length ? names[v - 1]
                    : throw new AlignmentDataException(null, $"column '{column.Name}' holds a missing key (raw value {v}: a value the key type does not map); every row needs its task.");
            };
        }
        if (column.Type is not TextDataViewType)
            throw new AlignmentDataException(null, $"column '{column.Name}' is {column.Type}; task names are text, or a key whose key values are the names.");
        var get = cursor.GetGetter<ReadOnlyMemory<char>>(column);
        ReadOnlyMemory<char> value = default;
        return () =>
        {
            get(ref value);
            return value.ToString();
        };
    }

    /// <summary>A key column's text key values (ML.NET's <c>KeyValues</c> annotation), or null when it has none or
    /// they are not text.</summary>
    internal static string[]? KeyNames(DataViewSchema.Column column)
    {
        if (column.Annotations.Schema.GetColumnOrNull("KeyValues") is not { Type: VectorDataViewType { ItemType: TextDataViewType } }) return null;
        VBuffer<ReadOnlyMemory<char>> values = default;
        column.GetKeyValues(ref values);
        return [.. values.DenseValues().Select(v => v.ToString())];
    }

    /// <summary>A key column's numeric key values as integers (a key made from integer labels), or null when it has
    /// none, they are not numbers, or one is not a whole number.</summary>
    private static long[]? KeyNumbers(DataViewSchema.Column column)
    {
        if (column.Annotations.Schema.GetColumnOrNull("KeyValues") is not { Type: VectorDataViewType { ItemType: var item } }) return null;
        double[]? values = item.RawType switch
        {
            var t when t == typeof(int) => Read<int>(column).Select(v => (double)v).ToArray(),
            var t when t == typeof(uint) => Read<uint>(column).Select(v => (double)v).ToArray(),
            var t when t == typeof(long) => Read<long>(column).Select(v => (double)v).ToArray(),
            var t when t == typeof(float) => Read<float>(column).Select(v => (double)v).ToArray(),
            var t when t == typeof(double) => Read<double>(column),
            _ => null,
        };
        return values is null || values.Any(v => v != Math.Floor(v) || !double.IsFinite(v)) ? null : [.. values.Select(v => (long)v)];

        static T[] Read<T>(DataViewSchema.Column c)
        {
            VBuffer<T> buffer = default;
            c.GetKeyValues(ref buffer);
            return [.. buffer.DenseValues()];
        }
    }

    /// <summary>A getter of a key column's raw value (0 = missing) whatever its unsigned width.</summary>
    private static Func<ulong> KeyGetter(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var raw = column.Type.RawType;
        if (raw == typeof(uint)) { var g = cursor.GetGetter<uint>(column); uint v = 0; return () => { g(ref v); return v; }; }
        if (raw == typeof(ushort)) { var g = cursor.GetGetter<ushort>(column); ushort v = 0; return () => { g(ref v); return v; }; }
        if (raw == typeof(byte)) { var g = cursor.GetGetter<byte>(column); byte v = 0; return () => { g(ref v); return v; }; }
        { var g = cursor.GetGetter<ulong>(column); ulong v = 0; return () => { g(ref v); return v; }; }
    }

    /// <summary>A getter of the current row's 0-based class index: keys (raw 1-based, 0 = missing), integers, or class names.</summary>
    internal static Func<string, int> Labels(DataViewRowCursor cursor, DataViewSchema.Column column, MergeFamily family)
    {
        Func<string, int> Checked(Func<string, long> raw) => task =>
        {
            long v = raw(task);
            int k = family.ClassNames(task).Count;
            return v >= 0 && v < k ? (int)v
                : v == -1 && column.Type is KeyDataViewType ? throw new AlignmentDataException(task, $"column '{column.Name}' holds a missing key (raw value 0: a value the key type does not map); every row needs a label here.")
                : throw new AlignmentDataException(task, $"label {v} of column '{column.Name}' is outside the task's {k} classes (0-based).");
        };
        switch (column.Type)
        {
            case KeyDataViewType when KeyNames(column) is { } names:
            {
                // A key over class names (MapValueToKey of a text label): the name decides the class, not the key's
                // position, which follows the order the names were met in.
                var key = KeyGetter(cursor, column);
                return task =>
                {
                    ulong v = key();
                    if (v == 0 || v > (ulong)names.Length)
                        throw new AlignmentDataException(task, $"column '{column.Name}' holds a missing key (raw value {v}: a value the key type does not map); every row needs a label here.");
                    int i = family.ClassNames(task).ToList().IndexOf(names[v - 1]);
                    return i >= 0 ? i : throw new AlignmentDataException(task, $"label '{names[v - 1]}' (key {v} of column '{column.Name}') is not a class of the task ({string.Join(", ", family.ClassNames(task))}).");
                };
            }
            case KeyDataViewType when KeyNumbers(column) is { } numbers:
            {
                // A key over integer labels: its key values are the class indices.
                var key = KeyGetter(cursor, column);
                return Checked(_ => { ulong v = key(); return v == 0 || v > (ulong)numbers.Length ? -1 : numbers[v - 1]; });
            }
            case KeyDataViewType:
            {
                var key = KeyGetter(cursor, column);
                return Checked(_ => { ulong v = key(); return v == 0 ? -1 : (long)v - 1; });
            }
            case TextDataViewType:
            {
                var get = cursor.GetGetter<ReadOnlyMemory<char>>(column);
                ReadOnlyMemory<char> value = default;
                return task =>
                {
                    get(ref value);
                    string name = value.ToString();
                    int i = family.ClassNames(task).ToList().IndexOf(name);
                    return i >= 0 ? i : throw new AlignmentDataException(task, $"label '{name}' is not a class of the task ({string.Join(", ", family.ClassNames(task))}).");
                };
            }
            default:
                if (column.Type.RawType == typeof(int)) { var g = cursor.GetGetter<int>(column); int v = 0; return Checked(_ => { g(ref v); return v; }); }
                if (column.Type.RawType == typeof(uint)) { var g = cursor.GetGetter<uint>(column); uint v = 0; return Checked(_ => { g(ref v); return v; }); }
                if (column.Type.RawType == typeof(long)) { var g = cursor.GetGetter<long>(column); long v = 0; return Checked(_ => { g(ref v); return v; }); }
                if (column.Type.RawType == typeof(float)) { var g = cursor.GetGetter<float>(column); float v = 0; return Checked(_ => { g(ref v); return v == Math.Floor(v) ? (long)v : -1; }); }
                throw new AlignmentDataException(null, $"label column '{column.Name}' is {column.Type}; expected a key, an integer class index or a class name.");
        }
    }
}
