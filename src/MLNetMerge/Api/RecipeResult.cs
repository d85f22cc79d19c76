using MLNetMerge.Evaluation;
using MLNetMerge.Recipes;

namespace MLNetMerge;

/// <summary>What <see cref="MergingCatalog.RunRecipe(string, RecipeOptions?)"/> did: the merge it chose, the files it wrote
/// and, when the recipe evaluates, the test accuracies of the merge and of each alignment stage.</summary>
public sealed class RecipeResult
{
    private readonly RecipeEvaluation? _evaluation;

    internal RecipeResult(RecipeRunResult run)
    {
        Method = run.Summary.Method.Name;
        Tasks = run.Summary.TaskNames;
        Chosen = run.Chosen;
        OutputFolder = run.Output;
        ReportFile = run.Report;
        ExportedFiles = run.Exported;
        _evaluation = run.Evaluation;
        Protocols = _evaluation?.Protocols ?? [];
        Stages = _evaluation?.Alignment.Select(r => r.Name).ToList() ?? [];
    }

    /// <summary>The merge method's registry name.</summary>
    public string Method { get; }

    /// <summary>The tasks, in the family's order.</summary>
    public IReadOnlyList<string> Tasks { get; }

    /// <summary>Parameters the recipe's sweep selected on validation (empty without a sweep).</summary>
    public IReadOnlyDictionary<string, double> Chosen { get; }

    /// <summary>The output folder written, or null when the recipe has none.</summary>
    public string? OutputFolder { get; }

    /// <summary>The <c>report.json</c> written, or null when nothing was evaluated.</summary>
    public string? ReportFile { get; }

    /// <summary>ONNX files written by the recipe's <c>export:</c> section, relative to its folder.</summary>
    public IReadOnlyList<string> ExportedFiles { get; }

    /// <summary>Whether the recipe evaluated (an <c>evaluate:</c> or <c>align:</c> section).</summary>
    public bool Evaluated => _evaluation is not null;

    /// <summary>Evaluation protocols in the recipe's order (<c>current</c>, <c>knn</c>, <c>ft_classifier</c>); empty when
    /// nothing was evaluated.</summary>
    public IReadOnlyList<string> Protocols { get; }

    /// <summary>Alignment rows, <c>{method}+{stage}</c>, in the recipe's order; empty without stages.</summary>
    public IReadOnlyList<string> Stages { get; }

    /// <summary>The merge's test accuracy on <paramref name="task"/> under <paramref name="protocol"/> (mean over the
    /// recipe's seeds for few-shot protocols).</summary>
    /// <exception cref="InvalidOperationException">The recipe did not evaluate.</exception>
    /// <exception cref="KeyNotFoundException">No such protocol or task.</exception>
    public double Accuracy(string protocol, string task) => Lookup(Evaluation.Merged, protocol, task);

    /// <summary>The merge's mean test accuracy over tasks under <paramref name="protocol"/>.</summary>
    public double AverageAccuracy(string protocol) => Lookup(Evaluation.Merged, protocol, null);

    /// <summary>An alignment stage's test accuracy on <paramref name="task"/> (its own predictions).</summary>
    public double StageAccuracy(string stage, string task) => Lookup(Row(stage), RecipeEvaluation.AlignedProtocol, task);

    /// <summary>An alignment stage's mean test accuracy over tasks.</summary>
    public double StageAverageAccuracy(string stage) => Lookup(Row(stage), RecipeEvaluation.AlignedProtocol, null);

    private RecipeEvaluation Evaluation => _evaluation
        ?? throw new InvalidOperationException($"recipe of method {Method} did not evaluate: it has no evaluate: or align: section.");

    private ModelEvaluation Row(string stage) => Evaluation.Alignment.FirstOrDefault(r => r.Name == stage)?.Evaluation
        ?? throw new KeyNotFoundException($"no alignment row '{stage}'; rows: {string.Join(", ", Stages)}.");

    private static double Lookup(ModelEvaluation evaluation, string protocol, string? task)
    {
        if (!evaluation.Results.TryGetValue(protocol, out var perTask))
            throw new KeyNotFoundException($"no protocol '{protocol}'; evaluated: {string.Join(", ", evaluation.Results.Keys)}.");
        if (task is null) return evaluation.Average(protocol);
        return perTask.TryGetValue(task, out var r) ? r.Accuracy
            : throw new KeyNotFoundException($"no task '{task}'; tasks: {string.Join(", ", perTask.Keys)}.");
    }
}
