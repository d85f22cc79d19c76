using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetMerge.MLNet;

/// <summary>
/// One column of an <see cref="ArrayDataView"/>: a name, an ML.NET type, optional annotations, and a getter that reads
/// row <c>position()</c> straight out of the backing array. Getters write into the caller's value (a reused
/// <see cref="VBuffer{T}"/> for vectors), so a cursor allocates nothing per row.
/// </summary>
internal abstract class ArrayColumn(string name, int rows)
{
    /// <summary>Column name.</summary>
    public string Name { get; } = name;

    /// <summary>Number of rows the column holds.</summary>
    public int Rows { get; } = rows;

    /// <summary>The ML.NET type of the column.</summary>
    public abstract DataViewType Type { get; }

    /// <summary>Annotations (key values of a key column), or null for none.</summary>
    public virtual DataViewSchema.Annotations? Annotations => null;

    /// <summary>The .NET type a getter delivers (<see cref="DataViewType.RawType"/>).</summary>
    public Type ValueType => Type.RawType;

    /// <summary>A getter for the row at <c>position()</c>.</summary>
    /// <exception cref="InvalidOperationException"><typeparamref name="TValue"/> is not the column's value type.</exception>
    public ValueGetter<TValue> MakeGetter<TValue>(Func<long> position)
    {
        if (typeof(TValue) != ValueType)
            throw new InvalidOperationException($"column '{Name}' holds {ValueType.Name} values ({Type}); a getter of {typeof(TValue).Name} was asked for.");
        return (ValueGetter<TValue>)MakeGetterCore(position);
    }

    /// <summary>Creates the typed getter (a <c>ValueGetter</c> of <see cref="ValueType"/>).</summary>
    protected abstract Delegate MakeGetterCore(Func<long> position);
}

/// <summary>A fixed-width float vector per row: values (rows, width), row-major.</summary>
internal sealed class FloatVectorColumn(string name, float[] values, int width) : ArrayColumn(name, values.Length / width)
{
    public override DataViewType Type { get; } = new VectorDataViewType(NumberDataViewType.Single, width);

    protected override Delegate MakeGetterCore(Func<long> position) => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> dst) =>
    {
        var editor = VBufferEditor.Create(ref dst, width); // reuses dst's array when it is large enough
        values.AsSpan(checked((int)position() * width), width).CopyTo(editor.Values);
        dst = editor.Commit();
    });
}

/// <summary>A fixed-width int64 vector per row (token ids, attention masks): values (rows, width), row-major.</summary>
internal sealed class Int64VectorColumn(string name, long[] values, int width) : ArrayColumn(name, values.Length / width)
{
    public override DataViewType Type { get; } = new VectorDataViewType(NumberDataViewType.Int64, width);

    protected override Delegate MakeGetterCore(Func<long> position) => (ValueGetter<VBuffer<long>>)((ref VBuffer<long> dst) =>
    {
        var editor = VBufferEditor.Create(ref dst, width);
        values.AsSpan(checked((int)position() * width), width).CopyTo(editor.Values);
        dst = editor.Commit();
    });
}

/// <summary>A text value per row (no copy: the getter hands out the string's memory).</summary>
internal sealed class TextColumn(string name, string[] values) : ArrayColumn(name, values.Length)
{
    public override DataViewType Type => TextDataViewType.Instance;

    protected override Delegate MakeGetterCore(Func<long> position) => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> dst) =>
        dst = (values[position()] ?? "").AsMemory());
}

/// <summary>
/// A class label as an ML.NET key: type <c>KeyDataViewType(uint, K)</c>, raw value = 0-based class index + 1 (0 is
/// ML.NET's missing key, given for index −1), and the class names as the key values annotation, so
/// <c>MapKeyToValue</c> and a trainer's <c>PredictedLabel</c> give names.
/// </summary>
internal sealed class KeyColumn : ArrayColumn
{
    private readonly int[] _indices;
    private readonly DataViewSchema.Annotations _annotations;

    public KeyColumn(string name, int[] classIndices, IReadOnlyList<string> classNames) : base(name, classIndices.Length)
    {
        _indices = classIndices;
        Type = new KeyDataViewType(typeof(uint), classNames.Count);
        var names = classNames.Select(n => n.AsMemory()).ToArray();
        var builder = new DataViewSchema.Annotations.Builder();
        ValueGetter<VBuffer<ReadOnlyMemory<char>>> getter = (ref VBuffer<ReadOnlyMemory<char>> dst) =>
        {
            var editor = VBufferEditor.Create(ref dst, names.Length); // the caller owns dst: copy, never hand out our array
            names.CopyTo(editor.Values);
            dst = editor.Commit();
        };
        builder.Add("KeyValues", new VectorDataViewType(TextDataViewType.Instance, names.Length), getter); // ML.NET's key-values annotation kind
        _annotations = builder.ToAnnotations();
    }

    public override DataViewType Type { get; }

    public override DataViewSchema.Annotations Annotations => _annotations;

    protected override Delegate MakeGetterCore(Func<long> position) => (ValueGetter<uint>)((ref uint dst) => dst = (uint)(_indices[position()] + 1));
}
