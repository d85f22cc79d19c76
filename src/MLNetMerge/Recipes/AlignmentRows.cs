using System.Globalization;
using MLNetMerge.Alignment;
using MLNetMerge.Data;
using MLNetMerge.Encoders;
using MLNetMerge.Evaluation;
using MLNetMerge.Merging;
using MLNetMerge.Tensors;

namespace MLNetMerge.Recipes;

/// <summary>
/// The <c>align:</c> step of a recipe run: every stage is fitted on the merged model with the per-task inputs of
/// <c>align.data</c> and evaluated per task on test through its own predictions. Few-shot stages
/// (<see cref="IFewShotAlignmentEstimator"/>) are fitted once per seed and reported as mean ± std. Labels are dropped for
/// stages that consume unlabeled inputs; few-shot stages keep them only to balance their draw (never in a loss).
/// </summary>
internal static class AlignmentRows
{
    /// <summary>Fits and evaluates every stage of <paramref name="plan"/>.</summary>
    public static List<AlignmentRow> Fit(AlignPlan plan, string method, MergedModel merged, ModelFamily family, TaskSuite suite, ulong seed,
        IReadOnlyDictionary<string, double> hyperparameters, Action<string> log, IProgress<MergeProgress>? progress, CancellationToken ct)
    {
        var splits = Splits(suite, plan.Data, seed);
        var names = RowNames(method, plan.Stages);
        var rows = new List<AlignmentRow>();
        for (int s = 0; s < plan.Stages.Count; s++)
        {
            var stage = plan.Stages[s];
            log($"align: {names[s]} ({Describe(stage, plan.Data)})");
            rows.Add(FitAndEvaluate(names[s], stage, merged, family, suite, splits, plan, hyperparameters, progress, ct));
            log($"align: {names[s]}: test {rows[^1].Evaluation.Average(RecipeEvaluation.AlignedProtocol):P2}");
        }
        return rows;
    }

    private static AlignmentRow FitAndEvaluate(string name, IAlignmentEstimator stage, MergedModel merged, ModelFamily family, TaskSuite suite,
        IReadOnlyDictionary<string, (TaskDataset Test, TaskDataset Validation)> splits, AlignPlan plan, IReadOnlyDictionary<string, double> hyperparameters,
        IProgress<MergeProgress>? progress, CancellationToken ct)
    {
        bool fewShot = stage is IFewShotAlignmentEstimator;
        var data = new Dictionary<string, TaskDataset>(StringComparer.Ordinal);
        foreach (var (task, (test, validation)) in splits)
        {
            var d = stage.Consumes == DataRequirement.LabeledValidation ? suite.Tasks.Single(t => t.Name == task).Validation
                : plan.Data.Split == "validation" ? validation : test;
            data[task] = stage.Consumes == DataRequirement.LabeledValidation || fewShot ? d : d.WithoutLabels();
        }
        var inputs = new MergeInputs(family, data);
        var estimators = stage is IFewShotAlignmentEstimator fs
            ? Enumerable.Range(0, plan.Seeds).Select(i => (IAlignmentEstimator)fs.WithSeed(fs.Seed + (ulong)i)).ToList()
            : [stage];
        var models = estimators.Select(e => e.Fit(merged, inputs, progress, ct)).ToList();
        var perTask = new Dictionary<string, ProtocolResult>(StringComparer.Ordinal);
        foreach (var task in suite.Tasks)
        {
            var runs = models.Select(m => ClassificationScores.Compute(m.PredictProbabilities(task.Name, task.Test, ct), task.Test.RequireLabels(), task.Head.ClassCount)).ToList();
            perTask[task.Name] = ProtocolResult.From(RecipeEvaluation.AlignedProtocol, runs);
        }
        var evaluation = new ModelEvaluation(name, new Dictionary<string, IReadOnlyDictionary<string, ProtocolResult>>(StringComparer.Ordinal)
            { [RecipeEvaluation.AlignedProtocol] = perTask }, hyperparameters);
        bool transductive = stage.Consumes == DataRequirement.UnlabeledTest && plan.Data.Split == "test";
        return new AlignmentRow(name, stage, transductive, Describe(stage, plan.Data), evaluation, models);
    }

    /// <summary>Per task, the test and validation splits alignment draws from (<c>align.data</c>: zoo, samples).</summary>
    private static Dictionary<string, (TaskDataset, TaskDataset)> Splits(TaskSuite suite, AlignData data, ulong seed)
    {
        var result = new Dictionary<string, (TaskDataset, TaskDataset)>(StringComparer.Ordinal);
        bool sameZoo = data.Zoo is null || Path.GetFullPath(data.Zoo) == suite.ZooDirectory;
        foreach (var task in suite.Tasks)
        {
            var (test, validation) = sameZoo ? (task.Test, task.Validation) : TaskSuite.Splits(data.Zoo!, task.Name, null);
            result[task.Name] = (Sample(test, data.Samples, seed), Sample(validation, data.Samples, seed));
        }
        return result;
    }

    /// <summary>A seeded draw of <paramref name="samples"/> examples (0 or more than the split: all, same object).</summary>
    public static TaskDataset Sample(TaskDataset data, int samples, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (samples <= 0 || samples >= data.Count) return data;
        var idx = Enumerable.Range(0, data.Count).ToArray();
        RandomStreams.Create(seed, "alignment.rows", 0, data.Name).Shuffle(idx.AsSpan());
        return data.Subset(idx[..samples]);
    }

    /// <summary>What a stage consumes, in words (tables mark transductive ones).</summary>
    public static string Describe(IAlignmentEstimator stage, AlignData data)
    {
        ArgumentNullException.ThrowIfNull(stage);
        ArgumentNullException.ThrowIfNull(data);
        string split = data.Split == "test" ? "test" : "validation";
        string amount = stage is IFewShotAlignmentEstimator fs && fs.ShotsPerClass > 0
            ? $"{fs.ShotsPerClass} per class of the unlabeled {split} inputs (labels only balance the draw; never in the loss)"
            : data.Samples > 0 ? $"{data.Samples} unlabeled {split} inputs per task" : $"the unlabeled {split} inputs";
        return stage.Consumes switch
        {
            DataRequirement.None => "none (data-free)",
            DataRequirement.UnlabeledTest => split == "test" ? amount + " (transductive)" : amount,
            DataRequirement.LabeledValidation => "the labeled validation split",
            _ => "training data",
        };
    }

    /// <summary><c>{method}+{stage}</c>; a stage name used twice gets the parameters that all its uses set and in which
    /// they differ, e.g. <c>ties+aligned_transform[transform=orthogonal]</c> (its position when none differ).</summary>
    public static IReadOnlyList<string> RowNames(string method, IReadOnlyList<IAlignmentEstimator> stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        var names = new List<string>();
        foreach (var stage in stages)
        {
            var same = stages.Where(s => s.Name == stage.Name).ToList();
            string name = $"{method}+{stage.Name}";
            if (same.Count > 1)
            {
                var differing = stage.Parameters.Keys.Where(k => same.All(o => o.Parameters.ContainsKey(k)) && same.Any(o => Text(o.Parameters[k]) != Text(stage.Parameters[k])))
                    .Order(StringComparer.Ordinal).Select(k => $"{k}={Text(stage.Parameters[k])}").ToList();
                name += "[" + (differing.Count > 0 ? string.Join(",", differing) : (same.IndexOf(stage) + 1).ToString(CultureInfo.InvariantCulture)) + "]";
            }
            names.Add(name);
        }
        return names;
    }

    /// <summary>A parameter value as text (numbers invariant).</summary>
    public static string Text(ParameterValue v) => v switch
    {
        ParameterValue.Scalar s => s.Value.ToString("G6", CultureInfo.InvariantCulture),
        ParameterValue.Text t => t.Value,
        ParameterValue.Gradient g => "[" + string.Join(" ", g.Values.Select(x => x.ToString("G6", CultureInfo.InvariantCulture))) + "]",
        _ => v.ToString() ?? "",
    };
}
