using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetMerge;

/// <summary>One task's rows of a scored view: embeddings (N, E), class probabilities (N, K) and true classes (N).</summary>
internal sealed record ScoredTask(string Task, float[] Embeddings, float[] Probabilities, int[] Labels)
{
    public int Count => Labels.Length;
}

/// <summary>
/// Reads a view scored by a merge transformer back per task: the task of each row (<see cref="MergeColumns.Task"/>, or
/// one task for all), its label, and the task's <c>Embedding</c> and <c>Score</c> columns (plain for a one-task
/// transformer, suffixed <c>.{task}</c> otherwise).
/// </summary>
internal static class ScoredRows
{
    /// <exception cref="AlignmentDataException">A missing or mistyped column, an unknown task or label, no rows, or a
    /// score row that is not a probability distribution.</exception>
    public static Dictionary<string, ScoredTask> Read(IDataView scored, MergeFamily family, string? task, string labelColumn)
    {
        var schema = scored.Schema;
        bool single = schema.GetColumnOrNull(MergeColumns.Score) is not null;
        if (single && task is null)
            throw new AlignmentDataException(null, $"the model serves one task (its output has a plain '{MergeColumns.Score}' column): name it with EvaluationOptions.Task.");
        // One task named: a Task column, when the view has one, picks its rows (as fitting does).
        var taskColumn = DataViewReader.TaskColumn(scored, task);
        var label = DataViewReader.Column(scored, labelColumn, "the labels");
        var tasks = task is not null ? [task] : family.TaskNames;
        string ScoreOf(string t) => single ? MergeColumns.Score : MergeColumns.ForTask(MergeColumns.Score, t);
        string EmbeddingOf(string t) => schema.GetColumnOrNull(MergeColumns.Embedding) is not null ? MergeColumns.Embedding : MergeColumns.ForTask(MergeColumns.Embedding, t);
        var needed = tasks.SelectMany(t => new[] { ScoreOf(t), EmbeddingOf(t) }).Distinct().Select(c => DataViewReader.Column(scored, c, "an output of the merge transformer")).ToList();
        needed.Add(label);
        if (taskColumn is { } tc) needed.Add(tc);

        using var cursor = scored.GetRowCursor(needed);
        var taskOf = taskColumn is { } col ? DataViewReader.TaskGetter(cursor, col) : () => task!;
        var labelOf = DataViewReader.Labels(cursor, label, family);
        var getters = needed.Where(c => c.Type is VectorDataViewType).ToDictionary(c => c.Name, c => cursor.GetGetter<VBuffer<float>>(c));
        var rows = tasks.ToDictionary(t => t, _ => (Embeddings: new List<float>(), Probabilities: new List<float>(), Labels: new List<int>()), StringComparer.Ordinal);
        VBuffer<float> buffer = default;
        while (cursor.MoveNext())
        {
            string t = taskOf();
            if (!rows.TryGetValue(t, out var r))
            {
                if (single || family.TaskNames.Contains(t)) continue;       // rows of a task this evaluation does not cover
                throw new AlignmentDataException(t, $"a row names task '{t}', which is not a task of the family ({string.Join(", ", family.TaskNames)}).");
            }
            r.Labels.Add(labelOf(t));
            getters[EmbeddingOf(t)](ref buffer);
            r.Embeddings.AddRange(buffer.DenseValues());
            getters[ScoreOf(t)](ref buffer);
            r.Probabilities.AddRange(buffer.DenseValues());
        }
        // Nothing to evaluate is an error, not an empty result: a named task needs rows, and so does the whole view.
        if (task is not null && rows[task].Labels.Count == 0)
            throw new AlignmentDataException(task, $"the view has no rows to evaluate task '{task}' on.");
        if (rows.Values.All(r => r.Labels.Count == 0))
            throw new AlignmentDataException(null, $"the view has no rows of any task of the family ({string.Join(", ", family.TaskNames)}).");
        foreach (var (t, r) in rows)
            CheckProbabilities(ScoreOf(t), r.Probabilities, family.ClassNames(t).Count, t);
        return rows.Where(kv => kv.Value.Labels.Count > 0).ToDictionary(kv => kv.Key,
            kv => new ScoredTask(kv.Key, [.. kv.Value.Embeddings], [.. kv.Value.Probabilities], [.. kv.Value.Labels]), StringComparer.Ordinal);
    }

    /// <summary>Refuses a score row that is not a probability distribution (NaN from a non-finite input, logits), before
    /// any metric bins it.</summary>
    private static void CheckProbabilities(string column, List<float> p, int k, string task)
    {
        if (MLNet.MulticlassEvaluation.FirstNonDistribution(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(p), k) is not { } bad) return;
        throw new AlignmentDataException(task, bad.Class >= 0
            ? $"'{column}': row {bad.Row} of task '{task}' has {bad.Value} for class {bad.Class}; scores must be probabilities (a NaN comes from a non-finite input)."
            : $"'{column}': row {bad.Row} of task '{task}' sums to {bad.Value:G6}; scores must be probabilities that sum to 1.");
    }
}
