using MLNetMerge.Data;
using MLNetMerge.Encoders;

namespace MLNetMerge.Evaluation;

/// <summary>A task as the evaluation sees it: its own head, the labeled validation split and the test split.</summary>
/// <param name="Name">Task name.</param>
/// <param name="Head">The task's fine-tuned head.</param>
/// <param name="Validation">Labeled validation split (hyperparameter selection, KNN anchors).</param>
/// <param name="Test">Test split (reported numbers).</param>
internal sealed record EvaluationTask(string Name, TaskHead Head, TaskDataset Validation, TaskDataset Test);

/// <summary>
/// One row of a results table: a model (a merge, the individual fine-tuned models, or the base) evaluated on every task
/// under every protocol, with the hyperparameters that produced it.
/// </summary>
/// <param name="Name">Row name (method, <c>individual</c>, <c>base</c>).</param>
/// <param name="Results">Protocol name → task name → result.</param>
/// <param name="Hyperparameters">Selected hyperparameters (empty when none).</param>
internal sealed record ModelEvaluation(string Name, IReadOnlyDictionary<string, IReadOnlyDictionary<string, ProtocolResult>> Results,
    IReadOnlyDictionary<string, double> Hyperparameters)
{
    /// <summary>Mean accuracy over tasks under a protocol.</summary>
    public double Average(string protocol) => Results[protocol].Values.Average(r => r.Accuracy);

    /// <summary>Normalised accuracy against the individual models: <c>(1/T) Σ_t acc_t / acc_individual,t</c>.</summary>
    public double Normalized(string protocol, ModelEvaluation individual)
    {
        ArgumentNullException.ThrowIfNull(individual);
        var mine = Results[protocol];
        var theirs = individual.Results[protocol];
        if (mine.Keys.FirstOrDefault(t => theirs[t].Accuracy <= 0) is { } zero)
            throw new ArgumentException($"task '{zero}': the individual model's {protocol} accuracy is {theirs[zero].Accuracy}; accuracy normalised by it is undefined (is the task's test split labelled for its head?).");
        return NormalizedAccuracy(mine.Keys.Select(t => mine[t].Accuracy).ToArray(), mine.Keys.Select(t => theirs[t].Accuracy).ToArray());
    }

    /// <summary>docs/methods/evaluation-protocols.md: the mean over tasks of <c>merged_t / individual_t</c>.</summary>
    /// <exception cref="ArgumentException">Lengths differ or an individual accuracy is 0.</exception>
    public static double NormalizedAccuracy(IReadOnlyList<double> merged, IReadOnlyList<double> individual)
    {
        ArgumentNullException.ThrowIfNull(merged);
        ArgumentNullException.ThrowIfNull(individual);
        if (merged.Count != individual.Count || merged.Count == 0) throw new ArgumentException($"{merged.Count} merged and {individual.Count} individual accuracies.");
        double sum = 0;
        for (int t = 0; t < merged.Count; t++)
        {
            if (individual[t] <= 0) throw new ArgumentException($"individual accuracy of task {t} (0-based) is {individual[t]}; normalisation needs it positive.");
            sum += merged[t] / individual[t];
        }
        return sum / merged.Count;
    }
}

/// <summary>
/// Evaluates encoder weight sets on tasks under protocols, embedding each split once per weight set and reusing the
/// embeddings across protocols.
/// </summary>
internal static class ModelEvaluator
{
    /// <summary>Evaluates one model row.</summary>
    /// <param name="name">Row name.</param>
    /// <param name="encoder">Encoder whose weights are replaced per task.</param>
    /// <param name="weightsFor">Task name → (layout name → values): the encoder weights to use for that task (the same
    /// for every task with a single merged model; per task with modulated methods or for the individual models).</param>
    /// <param name="tasks">Tasks.</param>
    /// <param name="protocols">Protocols.</param>
    /// <param name="onValidation">Score on the validation split instead of test (hyperparameter selection; protocols that
    /// need labeled anchors are skipped there, since their anchors come from validation).</param>
    /// <param name="hyperparameters">Recorded with the row.</param>
    /// <param name="progress">One report per task (stage <c>evaluate {name}</c>).</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    internal static ModelEvaluation Evaluate(string name, Encoders.EncoderSession encoder, Func<string, Func<string, float[]>> weightsFor,
        IReadOnlyList<EvaluationTask> tasks, IReadOnlyList<EvaluationProtocol> protocols, bool onValidation = false,
        IReadOnlyDictionary<string, double>? hyperparameters = null, IProgress<Merging.MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(weightsFor);
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(protocols);
        var active = protocols.Where(p => !onValidation || !p.UsesLabeledData).ToList();
        var results = active.ToDictionary(p => p.Name, _ => new Dictionary<string, ProtocolResult>(StringComparer.Ordinal), StringComparer.Ordinal);
        int done = 0;
        foreach (var task in tasks)
        {
            var scored = onValidation ? task.Validation : task.Test;
            bool anchors = active.Any(p => p.UsesLabeledData);
            var embedded = encoder.Embed(weightsFor(task.Name), anchors ? [scored, task.Validation] : [scored], cancellationToken);
            float[] x = embedded[0];
            float[]? pool = anchors ? embedded[1] : null;
            foreach (var p in active) results[p.Name][task.Name] = p.Evaluate(x, scored, task.Head, pool, task.Validation);
            progress?.Report(new Merging.MergeProgress($"evaluate {name}", ++done, tasks.Count));
        }
        return new ModelEvaluation(name, results.ToDictionary(kv => kv.Key, kv => (IReadOnlyDictionary<string, ProtocolResult>)kv.Value, StringComparer.Ordinal),
            hyperparameters ?? new Dictionary<string, double>());
    }
}
