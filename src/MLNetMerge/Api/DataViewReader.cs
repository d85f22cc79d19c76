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
        // A view mixing tasks needs the Task column; for one task a Task column, when there, picks that task's rows.
        var taskColumn = task is null ? Column(view, MergeColumns.Task, "the task of each row (a view mixing tasks needs it)")
            : view.Schema.GetColumnOrNull(MergeColumns.Task) is { Type: TextDataViewType } served ? served : (DataViewSchema.Column?)null;
        var labelCol = labelColumn is null ? (DataViewSchema.Column?)null : Column(view, labelColumn, labelPurpose ?? "the labels");

        var rows = new Dictionary<string, (List<float> Features, List<int> Labels)>(StringComparer.Ordinal);
        var active = new List<DataViewSchema.Column> { inputColumn };
        if (taskColumn is { } tc) active.Add(tc);
        if (labelCol is { } lc) active.Add(lc);
        using var cursor = view.GetRowCursor(active);
        var features = Features(cursor, inputColumn, family.IsText);
        var taskOf = taskColumn is { } t ? TextGetter(cursor, t) : () => task!;
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

    internal static Func<string> TextGetter(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        if (column.Type is not TextDataViewType) throw new AlignmentDataException(null, $"column '{column.Name}' is {column.Type}; task names are text.");
        var get = cursor.GetGetter<ReadOnlyMemory<char>>(column);
        ReadOnlyMemory<char> value = default;
        return () =>
        {
            get(ref value);
            return value.ToString();
        };
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
            case KeyDataViewType:
            {
                var get = cursor.GetGetter<uint>(column);
                uint value = 0;
                return Checked(_ => { get(ref value); return value == 0 ? -1 : value - 1L; });
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
