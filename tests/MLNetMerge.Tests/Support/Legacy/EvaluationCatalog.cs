using MLNetMerge.Data;
using MLNetMerge.Evaluation;
using MLNetMerge.Merging;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests;

/// <summary>
/// Per-task results of <see cref="EvaluationCatalog.Evaluate(FittedPipeline, IReadOnlyDictionary{string, TaskDataset}, EvaluationProtocol, IReadOnlyDictionary{string, TaskDataset}?, IProgress{MergeProgress}?, CancellationToken)"/>:
/// task name → <see cref="ProtocolResult"/> (mean and std of MicroAccuracy over the protocol's seeds, and every run's
/// <see cref="ClassificationScores"/>).
/// </summary>
/// <param name="Protocol">Protocol name.</param>
/// <param name="Tasks">Task name → result, in the order the tasks were given.</param>
internal sealed record EvaluationResults(string Protocol, IReadOnlyDictionary<string, ProtocolResult> Tasks)
{
    /// <summary>The result of <paramref name="task"/>.</summary>
    public ProtocolResult this[string task] => Tasks[task];

    /// <summary>The metrics of <paramref name="task"/> (ML.NET's names: MicroAccuracy, MacroAccuracy, LogLoss, …) for a
    /// protocol with one run (Current); for several seeds use <c>this[task].Runs</c>.</summary>
    /// <exception cref="InvalidOperationException">The protocol ran several seeds.</exception>
    public ClassificationScores Metrics(string task) => Tasks[task].Runs.Count == 1 ? Tasks[task].Runs[0]
        : throw new InvalidOperationException($"protocol {Protocol} ran {Tasks[task].Runs.Count} seeds on '{task}'; read this[task].Runs or this[task].Accuracy.");

    /// <summary>Mean accuracy over tasks.</summary>
    public double AverageAccuracy => Tasks.Values.Average(r => r.Accuracy);
}

/// <summary>
/// Evaluation (ML.NET's MulticlassClassificationCatalog.Evaluate): protocols as objects carrying their settings, and
/// per-task metrics of a fitted pipeline or a merged model. Partial: stages that bring a protocol (FT-Classifier) add it in a file of their own.
/// </summary>
internal sealed partial class EvaluationCatalog
{
    private readonly MergeContext _ctx;

    internal EvaluationCatalog(MergeContext ctx) => _ctx = ctx;

    /// <summary>Current Eval: the (merged or aligned) model's own predictions; no labeled data beyond the test labels.</summary>
    public CurrentProtocol Current() => new();

    /// <summary>KNN Eval: <paramref name="shots"/> labeled anchors per class, mean-distance classifier, over <paramref name="seeds"/> draws.</summary>
    public KnnProtocol Knn(int shots = 5, int seeds = 5) => new(shots, seeds);

    /// <summary>
    /// FT-Classifier Eval: per seed, <paramref name="shots"/> examples per class from the labeled pool train a head from
    /// the task's own one by distilling the fine-tuned model (KL(fine-tuned ‖ merged)); its teacher logits are computed
    /// here from <paramref name="family"/>'s fine-tuned checkpoints on <paramref name="labeled"/>. Pass the same pool to
    /// <c>Evaluate</c>.
    /// </summary>
    /// <param name="family">The family whose fine-tuned models teach.</param>
    /// <param name="labeled">Task name → labeled pool (the validation split).</param>
    /// <param name="shots">Examples per class k.</param>
    /// <param name="seeds">Draws.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <exception cref="MergeException">The family has no usable config.json or a task lacks its head.</exception>
    public FtClassifierEvalProtocol FtClassifier(Encoders.ModelFamily family, IReadOnlyDictionary<string, TaskDataset> labeled, int shots = 5, int seeds = 5,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(family);
        ArgumentNullException.ThrowIfNull(labeled);
        var session = family.Session;
        var teachers = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var task in family.TaskNames.Where(labeled.ContainsKey))
            teachers[task] = family.Head(task).Logits(session.EmbedCheckpoint(family.Reader(task), labeled[task], cancellationToken), labeled[task].Count);  // (M, K)
        return new FtClassifierEvalProtocol(shots, seeds, teachers);
    }

    /// <summary>Evaluates a merged model (merged encoder and each task's own head) on the tasks of <paramref name="test"/>.</summary>
    /// <param name="model">The merged model.</param>
    /// <param name="test">Task name → labeled test data.</param>
    /// <param name="protocol">The protocol.</param>
    /// <param name="labeled">Task name → labeled pool for protocols that draw anchors (KNN): the validation split.</param>
    /// <param name="progress">One report per task.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public EvaluationResults Evaluate(MergedModel model, IReadOnlyDictionary<string, TaskDataset> test, EvaluationProtocol protocol,
        IReadOnlyDictionary<string, TaskDataset>? labeled = null, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Evaluate(new FittedPipeline(model, []), test, protocol, labeled, progress, cancellationToken);

    /// <summary>
    /// Evaluates a fitted pipeline on every task of <paramref name="test"/>: Current scores the pipeline's probabilities;
    /// protocols over embeddings (KNN, FT-Classifier) score the pipeline's embeddings with anchors from <paramref name="labeled"/>.
    /// </summary>
    /// <param name="model">The fitted pipeline.</param>
    /// <param name="test">Task name → labeled test data.</param>
    /// <param name="protocol">The protocol (<see cref="Current"/>, <see cref="Knn"/>, …).</param>
    /// <param name="labeled">Task name → labeled pool (the validation split) for protocols that need one.</param>
    /// <param name="progress">One report per task.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <exception cref="ArgumentException">A test set is unlabeled, a task is unknown, or the protocol needs a labeled pool that was not given.</exception>
    public EvaluationResults Evaluate(FittedPipeline model, IReadOnlyDictionary<string, TaskDataset> test, EvaluationProtocol protocol,
        IReadOnlyDictionary<string, TaskDataset>? labeled = null, IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(protocol);
        var results = new Dictionary<string, ProtocolResult>(StringComparer.Ordinal);
        int done = 0;
        foreach (var (task, data) in test)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!data.HasLabels) throw new ArgumentException($"test data of '{task}' has no labels; evaluation scores against them.", nameof(test));
            var predicted = model.Transform(task, data, cancellationToken);
            if (predicted.ClassCount != data.ClassCount)
                throw new ArgumentException($"task '{task}': the model predicts {predicted.ClassCount} classes, the data has {data.ClassCount}.", nameof(test));
            if (protocol is CurrentProtocol)
                results[task] = ProtocolResult.From(protocol.Name, [ClassificationScores.Compute(predicted.Probabilities, data.RequireLabels(), data.ClassCount)]);
            else
            {
                TaskDataset? pool = null;
                float[]? poolEmbeddings = null;
                if (protocol.UsesLabeledData)
                {
                    if (labeled is null || !labeled.TryGetValue(task, out pool))
                        throw new ArgumentException($"protocol {protocol.Name} draws labeled anchors; pass a labeled pool (the validation split) for '{task}'.", nameof(labeled));
                    poolEmbeddings = model.Transform(task, pool, cancellationToken).Embeddings;
                }
                var head = model.Merged.HeadEntries.ContainsKey($"{task}.{TaskHead.WeightName}") ? model.Head(task) : null;
                results[task] = protocol.Evaluate(predicted.Embeddings, data, head!, poolEmbeddings, pool);
            }
            progress?.Report(new MergeProgress("evaluate", ++done, test.Count));
        }
        return new EvaluationResults(protocol.Name, results);
    }

    /// <summary>The context's seed (protocols that draw samples may use it).</summary>
    internal ulong Seed => _ctx.Seed;
}
