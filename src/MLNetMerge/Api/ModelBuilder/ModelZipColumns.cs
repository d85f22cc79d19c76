using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetMerge;

/// <summary>The output columns of a saved merged model that its consumption code binds, read from the loaded zip's
/// output schema: embeddings, and per head the <c>Score</c> width and the <c>PredictedLabel</c> key values.</summary>
/// <param name="Embeddings">Embedding columns (<c>Embedding</c> or <c>Embedding.{task}</c>) and their widths.</param>
/// <param name="Heads">Per task served: the task, the Score and PredictedLabel column names and the class names in key order.</param>
internal sealed record ModelZipColumns(IReadOnlyList<(string Column, int Size)> Embeddings, IReadOnlyList<ModelZipHead> Heads)
{
    /// <summary>Reads the columns of <paramref name="schema"/> (a merged model's output schema) for <paramref name="tasks"/>.</summary>
    /// <param name="schema">The saved model's output schema.</param>
    /// <param name="tasks">The tasks the model serves.</param>
    /// <param name="single">Whether the columns are plain (one task) or suffixed <c>.{task}</c>.</param>
    /// <exception cref="InvalidOperationException">A column the merged chain promises is missing or mistyped.</exception>
    public static ModelZipColumns Read(DataViewSchema schema, IReadOnlyList<string> tasks, bool single)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var embeddings = schema.Where(c => !c.IsHidden && (c.Name == MergeColumns.Embedding || c.Name.StartsWith(MergeColumns.Embedding + ".", StringComparison.Ordinal)))
            .Select(c => (c.Name, Width(c)))
            .ToList();
        var heads = new List<ModelZipHead>();
        foreach (var task in tasks)
        {
            string score = single ? MergeColumns.Score : MergeColumns.ForTask(MergeColumns.Score, task);
            string label = single ? MergeColumns.PredictedLabel : MergeColumns.ForTask(MergeColumns.PredictedLabel, task);
            var labelColumn = schema.GetColumnOrNull(label) ?? throw new InvalidOperationException($"the saved model has no column '{label}'.");
            if (labelColumn.Type is not KeyDataViewType)
                throw new InvalidOperationException($"column '{label}' of the saved model is {labelColumn.Type}; expected a key over the class names.");
            var keys = default(VBuffer<ReadOnlyMemory<char>>);
            labelColumn.GetKeyValues(ref keys);
            var names = keys.DenseValues().Select(k => k.ToString()).ToList();
            var scoreColumn = schema.GetColumnOrNull(score) ?? throw new InvalidOperationException($"the saved model has no column '{score}'.");
            int width = Width(scoreColumn);
            if (width != names.Count)
                throw new InvalidOperationException($"column '{score}' of the saved model has {width} values but '{label}' has {names.Count} class names.");
            heads.Add(new ModelZipHead(task, score, label, names));
        }
        return new ModelZipColumns(embeddings, heads);
    }

    private static int Width(DataViewSchema.Column column) =>
        column.Type is VectorDataViewType { ItemType: var item, Size: > 0 and var size } && item == NumberDataViewType.Single ? size
            : throw new InvalidOperationException($"column '{column.Name}' of the saved model is {column.Type}; expected a vector of Single of known size.");
}

/// <summary>One task's outputs in a saved merged model.</summary>
/// <param name="Task">The task.</param>
/// <param name="Score">Its class-probability column.</param>
/// <param name="PredictedLabel">Its predicted-class key column.</param>
/// <param name="ClassNames">The key values: class names in the order of the Score vector.</param>
internal sealed record ModelZipHead(string Task, string Score, string PredictedLabel, IReadOnlyList<string> ClassNames);
