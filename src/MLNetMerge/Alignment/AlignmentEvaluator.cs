using MLNetMerge.Data;
using MLNetMerge.Evaluation;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using MLNetMerge.Zoo;

namespace MLNetMerge.Alignment;

/// <summary>One alignment row of a results table: a stage fitted after the selected merge.</summary>
/// <param name="Name">Row name, <c>{merge method}+{stage}</c> (with the distinguishing parameters when a stage repeats).</param>
/// <param name="Stage">The stage's estimator (its name and effective parameters).</param>
/// <param name="Transductive">Whether it fitted on unlabeled test inputs.</param>
/// <param name="Data">What it consumed, in words.</param>
/// <param name="Evaluation">Test results under the <see cref="AlignmentEvaluator.ProtocolName"/> protocol (one run per seed for few-shot stages).</param>
/// <param name="Models">The fitted models (one per seed).</param>
public sealed record AlignmentRow(string Name, IAlignmentEstimator Stage, bool Transductive, string Data, ModelEvaluation Evaluation,
    IReadOnlyList<AlignedModel> Models);

/// <summary>Everything <c>mlnetmerge align</c> reports: the merge's evaluation (bounds, Current/KNN/FT-Classifier Eval) and a row per stage.</summary>
/// <param name="Merge">The merge's evaluation.</param>
/// <param name="Plan">The <c>align:</c> section.</param>
/// <param name="Rows">A row per stage, in order.</param>
public sealed record AlignmentEvaluation(RecipeEvaluation Merge, AlignPlan Plan, IReadOnlyList<AlignmentRow> Rows);

/// <summary>
/// Runs a recipe's merge in memory (with <see cref="RecipeEvaluator"/>'s sweep and selection, so the stages align the
/// selected merge), then fits every <c>align:</c> stage on the zoo's per-task inputs and evaluates each fitted model per
/// task on test through <see cref="AlignedModel.PredictProbabilities"/>. Few-shot stages
/// (<see cref="IFewShotAlignmentEstimator"/>) are fitted once per seed and reported as mean ± std. Labels are dropped
/// for stages that consume unlabeled inputs; few-shot stages keep them only to balance their draw.
/// </summary>
public static class AlignmentEvaluator
{
    /// <summary>Protocol name of a stage's own predictions in reports.</summary>
    public const string ProtocolName = "aligned";

    /// <summary>Evaluates the recipe's merge and its alignment stages.</summary>
    /// <param name="recipe">A recipe with an <c>align:</c> section.</param>
    /// <param name="progress">Stage progress with the running loss.</param>
    /// <param name="log">Progress lines.</param>
    /// <param name="cancellationToken">Cancels between steps.</param>
    /// <exception cref="RecipeException">No or a malformed <c>align:</c> section.</exception>
    public static AlignmentEvaluation Evaluate(MergeRecipe recipe, IProgress<MergeProgress>? progress = null, Action<string>? log = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        log ??= _ => { };
        var plan = AlignSection.Read(recipe);
        if (plan.Stages.Count == 0) throw new RecipeException(recipe.Source, "align: no stages; add align: { stages: [ { method: …, parameters: … } ] }.");
        if (!RecipeEvaluator.ReadEvaluateSection(recipe).Protocols.Contains("current"))
            throw new RecipeException(recipe.Source, "evaluate.protocols: alignment rows are normalised by the individual models' Current Eval; keep 'current' among the protocols.");
        var rows = new List<AlignmentRow>();
        var merge = RecipeEvaluator.Evaluate(recipe, log, scope =>
        {
            var splits = LoadSplits(scope, plan.Data);
            var names = RowNames(scope.Evaluation.Method, plan.Stages);
            for (int s = 0; s < plan.Stages.Count; s++)
            {
                var stage = plan.Stages[s];
                log($"align: {names[s]} ({Describe(stage, plan.Data)})");
                rows.Add(FitAndEvaluate(names[s], stage, scope, splits, plan, progress, cancellationToken));
                log($"align: {names[s]}: test {rows[^1].Evaluation.Average(ProtocolName):P2}");
            }
        });
        return new AlignmentEvaluation(merge, plan, rows);
    }

    private static AlignmentRow FitAndEvaluate(string name, IAlignmentEstimator stage, RecipeMergeScope scope,
        IReadOnlyDictionary<string, (TaskDataset Test, TaskDataset Validation)> splits, AlignPlan plan,
        IProgress<MergeProgress>? progress, CancellationToken ct)
    {
        bool fewShot = stage is IFewShotAlignmentEstimator;
        var data = new Dictionary<string, TaskDataset>(StringComparer.Ordinal);
        foreach (var (task, (test, validation)) in splits)
        {
            var d = stage.Consumes == DataRequirement.LabeledValidation ? scope.Tasks.Single(t => t.Name == task).Validation
                : plan.Data.Split == "validation" ? validation : test;
            data[task] = stage.Consumes == DataRequirement.LabeledValidation || fewShot ? d : d.WithoutLabels();
        }
        var inputs = new MergeInputs(scope.Family, data);
        var estimators = stage is IFewShotAlignmentEstimator fs
            ? Enumerable.Range(0, plan.Seeds).Select(i => (IAlignmentEstimator)fs.WithSeed(fs.Seed + (ulong)i)).ToList()
            : [stage];
        var models = estimators.Select(e => e.Fit(scope.Merged, inputs, progress, ct)).ToList();
        var perTask = new Dictionary<string, ProtocolResult>(StringComparer.Ordinal);
        foreach (var task in scope.Tasks)
        {
            var runs = models.Select(m => MulticlassClassificationMetrics.Compute(m.PredictProbabilities(task.Name, task.Test, ct), task.Test.RequireLabels(), task.Head.ClassCount)).ToList();
            perTask[task.Name] = ProtocolResult.From(ProtocolName, runs);
        }
        var evaluation = new ModelEvaluation(name, new Dictionary<string, IReadOnlyDictionary<string, ProtocolResult>>(StringComparer.Ordinal) { [ProtocolName] = perTask },
            scope.Evaluation.Merged.Hyperparameters);
        bool transductive = stage.Consumes == DataRequirement.UnlabeledTest && plan.Data.Split == "test";
        return new AlignmentRow(name, stage, transductive, Describe(stage, plan.Data), evaluation, models);
    }

    /// <summary>Per task, the test and validation splits alignment draws from (<c>align.data</c>: zoo, samples).</summary>
    private static Dictionary<string, (TaskDataset Test, TaskDataset Validation)> LoadSplits(RecipeMergeScope scope, AlignData data)
    {
        var result = new Dictionary<string, (TaskDataset, TaskDataset)>(StringComparer.Ordinal);
        bool sameZoo = data.Zoo is null || Path.GetFullPath(data.Zoo) == Path.GetFullPath(scope.ZooDirectory);
        var manifest = sameZoo ? scope.Manifest : VisionZooManifest.Load(data.Zoo!);
        foreach (var task in scope.Tasks)
        {
            TaskDataset test = task.Test, validation = task.Validation;
            if (!sameZoo)
            {
                var zt = manifest.Tasks.FirstOrDefault(z => z.Name == task.Name)
                    ?? throw new RecipeException(scope.Recipe.Source, $"align.data.zoo: {data.Zoo} has no task '{task.Name}'.");
                test = VisionZooManifest.LoadSplit(data.Zoo!, zt, zt.Test);
                validation = VisionZooManifest.LoadSplit(data.Zoo!, zt, zt.Validation);
            }
            result[task.Name] = (Sample(test, data.Samples, scope.Recipe.Seed), Sample(validation, data.Samples, scope.Recipe.Seed));
        }
        return result;
    }

    /// <summary>A seeded draw of <paramref name="samples"/> examples (0 or more than the split: all, same object).</summary>
    public static TaskDataset Sample(TaskDataset data, int samples, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (samples <= 0 || samples >= data.Count) return data;
        var idx = Enumerable.Range(0, data.Count).ToArray();
        new Random(unchecked((int)seed * 31 + 7)).Shuffle(idx);
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
                var differing = stage.Parameters.Keys.Where(k =>
                        same.All(o => o.Parameters.ContainsKey(k)) && same.Any(o => !Same(o.Parameters[k], stage.Parameters[k])))
                    .Order(StringComparer.Ordinal).Select(k => $"{k}={Text(stage.Parameters[k])}").ToList();
                name += "[" + (differing.Count > 0 ? string.Join(",", differing) : (same.IndexOf(stage) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)) + "]";
            }
            names.Add(name);
        }
        return names;
    }

    private static bool Same(ParameterValue a, ParameterValue b) => Text(a) == Text(b);

    /// <summary>A parameter value as text (numbers invariant).</summary>
    public static string Text(ParameterValue v) => v switch
    {
        ParameterValue.Scalar s => s.Value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture),
        ParameterValue.Text t => t.Value,
        ParameterValue.Gradient g => "[" + string.Join(" ", g.Values.Select(x => x.ToString("G6", System.Globalization.CultureInfo.InvariantCulture))) + "]",
        _ => v.ToString() ?? "",
    };
}
