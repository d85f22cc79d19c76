using Microsoft.ML.Data;

namespace MLNetMerge;

/// <summary>One task scored by one protocol: ML.NET's metrics of every run (one per seed for the few-shot protocols),
/// the accuracy's mean and standard deviation over runs, and the measures the merging literature adds.</summary>
/// <param name="Task">The task.</param>
/// <param name="Protocol"><c>current</c>, <c>knn{k}</c> or <c>ftc{k}</c>.</param>
/// <param name="Accuracy">Mean micro-accuracy over runs.</param>
/// <param name="AccuracyStd">Population standard deviation of the micro-accuracy over runs.</param>
/// <param name="Runs">ML.NET's metrics of each run.</param>
/// <param name="ExpectedCalibrationError">Mean over runs of the expected calibration error (15 equal-width confidence bins).</param>
/// <param name="MatthewsCorrelation">Mean over runs of the multiclass Matthews correlation (Gorodkin's R_K).</param>
/// <param name="MacroF1">Mean over runs of the mean per-class F1.</param>
public sealed record TaskEvaluation(string Task, string Protocol, double Accuracy, double AccuracyStd, IReadOnlyList<MulticlassClassificationMetrics> Runs,
    double ExpectedCalibrationError, double MatthewsCorrelation, double MacroF1);

/// <summary>What <see cref="MergingCatalog.Evaluate"/> measured: every task under every protocol.</summary>
public sealed class MergeEvaluation
{
    private readonly Dictionary<(string Task, string Protocol), TaskEvaluation> _results;

    internal MergeEvaluation(IReadOnlyList<string> tasks, IReadOnlyList<string> protocols, IEnumerable<TaskEvaluation> results)
    {
        Tasks = tasks;
        Protocols = protocols;
        _results = results.ToDictionary(r => (r.Task, r.Protocol));
    }

    /// <summary>The tasks, in the order of the test view.</summary>
    public IReadOnlyList<string> Tasks { get; }

    /// <summary>The protocols, in the order they ran.</summary>
    public IReadOnlyList<string> Protocols { get; }

    /// <summary>The result of <paramref name="task"/> under <paramref name="protocol"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such task or protocol.</exception>
    public TaskEvaluation this[string task, string protocol] =>
        _results.TryGetValue((task, protocol), out var r) ? r
            : throw new KeyNotFoundException($"no result for task '{task}' under protocol '{protocol}' (tasks: {string.Join(", ", Tasks)}; protocols: {string.Join(", ", Protocols)}).");

    /// <summary>The mean over tasks of the accuracy under <paramref name="protocol"/>.</summary>
    public double AverageAccuracy(string protocol) => Tasks.Average(t => this[t, protocol].Accuracy);
}
