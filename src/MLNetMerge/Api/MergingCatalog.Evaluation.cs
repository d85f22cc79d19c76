using Microsoft.ML;
using MLNetMerge.Data;
using MLNetMerge.Evaluation;
using MLNetMerge.MLNet;

namespace MLNetMerge;

// Honest evaluation of a fitted merge transformer (or one loaded from a zip) under the protocols of Kong et al. 2024.
public sealed partial class MergingCatalog
{
    /// <summary>
    /// Scores <paramref name="model"/> (a merge transformer, fitted or loaded) on the labeled rows of
    /// <paramref name="test"/> under the protocols <paramref name="options"/> names, each run reported with ML.NET's own
    /// <c>MulticlassClassificationMetrics</c>. Current reads the model's <c>Score</c>; KNN and FT-Classifier read its
    /// <c>Embedding</c> of the test rows and of <paramref name="labeledPool"/>'s rows (anchors, few-shot samples; for
    /// FT-Classifier the teacher is each task's fine-tuned checkpoint of <paramref name="family"/>, run on the pool).
    /// </summary>
    /// <param name="model">The transformer to evaluate.</param>
    /// <param name="family">The family it was merged from (class names, heads, fine-tuned teachers).</param>
    /// <param name="test">Labeled test rows: the family's input columns, the label column and, unless
    /// <see cref="EvaluationOptions.Task"/> is set, <see cref="MergeColumns.Task"/>.</param>
    /// <param name="labeledPool">Rows of the same form the few-shot protocols draw from (a validation split); null when
    /// only Current runs.</param>
    /// <param name="options">Protocols and columns; null: Current and KNN with 5 anchors per class.</param>
    /// <exception cref="ArgumentException">A few-shot protocol without a pool.</exception>
    /// <exception cref="AlignmentDataException">A missing or mistyped column, an unknown task or label, a task without pool rows.</exception>
    public MergeEvaluation Evaluate(ITransformer model, MergeFamily family, IDataView test, IDataView? labeledPool = null, EvaluationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(family);
        ArgumentNullException.ThrowIfNull(test);
        options ??= new EvaluationOptions();
        if (options.Seeds < 1) throw new ArgumentOutOfRangeException(nameof(options), $"EvaluationOptions.Seeds is {options.Seeds}; at least 1 draw is needed.");
        bool fewShot = options.KnnShots.Count + options.FtClassifierShots.Count > 0;
        if (fewShot && labeledPool is null)
            throw new ArgumentException("the KNN and FT-Classifier protocols draw labeled examples from a pool: pass labeledPool (e.g. the validation split), or clear EvaluationOptions.KnnShots and FtClassifierShots.", nameof(labeledPool));
        var scored = ScoredRows.Read(model.Transform(test), family, options.Task, options.LabelColumnName);
        var pool = fewShot ? ScoredRows.Read(model.Transform(labeledPool!), family, options.Task, options.LabelColumnName) : null;
        var poolInputs = options.FtClassifierShots.Count > 0 ? DataViewReader.Read(labeledPool!, family, options.Task, options.LabelColumnName) : null;

        var protocols = new List<string>();
        var results = new List<TaskEvaluation>();
        foreach (var (task, rows) in scored)
        {
            var classes = family.ClassNames(task);
            var head = family.Family.Head(task);
            var testSet = new TaskDataset(task, rows.Embeddings, [head.InputSize], rows.Labels, classes);
            if (options.Current) results.Add(Report(task, "current", [ClassificationScores.Compute(rows.Probabilities, rows.Labels, classes.Count)], classes));
            if (!fewShot) continue;
            if (!pool!.TryGetValue(task, out var anchors))
                throw new AlignmentDataException(task, "the labeled pool has no rows of this task; the few-shot protocols draw from them.");
            var poolSet = new TaskDataset(task, anchors.Embeddings, [head.InputSize], anchors.Labels, classes);
            foreach (int k in options.KnnShots)
                results.Add(Report(task, new KnnProtocol(k, options.Seeds, options.Seed).Evaluate(rows.Embeddings, testSet, head, anchors.Embeddings, poolSet), classes));
            if (options.FtClassifierShots.Count == 0) continue;
            var inputs = poolInputs![task];
            var teacher = head.Logits(family.Family.Session.EmbedCheckpoint(family.Family.Reader(task), inputs), inputs.Count);
            var teachers = new Dictionary<string, float[]>(StringComparer.Ordinal) { [task] = teacher };
            foreach (int k in options.FtClassifierShots)
                results.Add(Report(task, new FtClassifierEvalProtocol(k, options.Seeds, teachers, seed: options.Seed).Evaluate(rows.Embeddings, testSet, head, anchors.Embeddings, poolSet), classes));
        }
        using (var log = new MLNetLog(_ml, "MLNetMerge.Evaluate", "Evaluate"))
            foreach (var r in results)
                log.Info(FormattableString.Invariant($"{r.Task} {r.Protocol}: accuracy {r.Accuracy:F4} ± {r.AccuracyStd:F4} over {r.Runs.Count} run(s)"));
        foreach (var r in results) if (!protocols.Contains(r.Protocol)) protocols.Add(r.Protocol);
        return new MergeEvaluation([.. scored.Keys], protocols, results);
    }

    private TaskEvaluation Report(string task, ProtocolResult result, IReadOnlyList<string> classes) => Report(task, result.Protocol, result.Runs, classes);

    /// <summary>Runs as ML.NET's metrics (computed by ML.NET from the same probabilities), with the engine's extras averaged.</summary>
    private TaskEvaluation Report(string task, string protocol, IReadOnlyList<ClassificationScores> runs, IReadOnlyList<string> classes)
    {
        var summary = ProtocolResult.From(protocol, runs);
        var metrics = runs.Select(r => MulticlassEvaluation.Evaluate(_ml, r.Labels, r.Probabilities, classes)).ToList();
        return new TaskEvaluation(task, protocol, summary.Accuracy, summary.AccuracyStd, metrics,
            runs.Average(r => r.ExpectedCalibrationError), runs.Average(r => r.MatthewsCorrelation), runs.Average(r => r.MacroF1));
    }
}
