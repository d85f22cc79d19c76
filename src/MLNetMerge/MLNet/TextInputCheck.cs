using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetMerge.MLNet;

/// <summary>
/// An estimator that first checks its input column is text, then is <paramref name="inner"/>: the tokenizer's steps copy
/// the column under an internal name, so ML.NET's own type error would name that internal column instead of the user's.
/// The fitted transformer is the inner one's (savable as it is).
/// </summary>
/// <param name="inner">The steps.</param>
/// <param name="textColumnName">The user's text column.</param>
internal sealed class TextInputCheck(IEstimator<ITransformer> inner, string textColumnName) : IEstimator<ITransformer>
{
    /// <inheritdoc />
    /// <exception cref="ArgumentException">The column is missing or not a text scalar.</exception>
    public ITransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var column = input.Schema.GetColumnOrNull(textColumnName)
            ?? throw Missing(input.Schema.Where(c => !c.IsHidden).Select(c => c.Name));
        if (column.Type is not TextDataViewType) throw NotText(column.Type.ToString() ?? column.Type.GetType().Name);
        return inner.Fit(input);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The column is missing or not a text scalar.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        if (inputSchema.Where(c => c.Name == textColumnName).Select(c => (SchemaShape.Column?)c).FirstOrDefault() is not { } column)
            throw Missing(inputSchema.Select(c => c.Name));
        if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType is not TextDataViewType)
            throw NotText($"{column.Kind} of {column.ItemType}");
        return inner.GetOutputSchema(inputSchema);
    }

    private ArgumentException Missing(IEnumerable<string> columns) =>
        new($"the input has no column '{textColumnName}' (the text to tokenize); its columns are {string.Join(", ", columns)}.");

    private ArgumentException NotText(string type) =>
        new($"column '{textColumnName}' is {type}; the tokenizer reads text (a string per row).");
}
