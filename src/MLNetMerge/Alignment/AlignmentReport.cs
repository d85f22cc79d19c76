using MLNetMerge.Evaluation;

namespace MLNetMerge.Alignment;

/// <summary>
/// <c>report.json</c> of <c>mlnetmerge align</c>: <see cref="EvaluationReport.ToJson"/>'s layout (family → row → task →
/// protocol → metrics, with bounds and the merge's protocols), plus a row per alignment stage named
/// <c>{method}+{stage}</c> whose single protocol is <c>aligned</c>, with <c>"transductive"</c>, <c>"data"</c>,
/// <c>"stage"</c> and <c>"parameters"</c>; its normalised accuracy divides by the individual models' Current Eval.
/// Aligned-transform rows are also collected as <c>"transforms": { transform/solver → task → accuracy }</c>
/// (the seeds' Figure 4) with <c>average</c> and the mean <c>orthogonality_defect</c> ‖WᵀW − I‖_F of the fitted maps,
/// and the <c>align</c> section is echoed. Every stage row also carries <c>"ece"</c> (task-averaged expected calibration
/// error) and, for Model Tinting rows, <c>"coefficient_sparsity"</c> (share of clamped coefficients below 1e-5, seed 003's report).
/// </summary>
public static class AlignmentReport
{
    /// <summary>Builds the JSON object tree.</summary>
    public static Dictionary<string, object> ToJson(AlignmentEvaluation e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var root = EvaluationReport.ToJson(e.Merge);
        var family = (Dictionary<string, object>)root[e.Merge.Family];
        var individual = e.Merge.Individual.Results["current"];
        var transforms = new Dictionary<string, object>();
        foreach (var row in e.Rows)
        {
            var results = row.Evaluation.Results[AlignmentEvaluator.ProtocolName];
            var tasks = e.Merge.Tasks.ToDictionary(t => t, t => (object)new Dictionary<string, object> { [AlignmentEvaluator.ProtocolName] = EvaluationReport.Metrics(results[t]) });
            double normalized = ModelEvaluation.NormalizedAccuracy(e.Merge.Tasks.Select(t => results[t].Accuracy).ToArray(), e.Merge.Tasks.Select(t => individual[t].Accuracy).ToArray());
            family[row.Name] = new Dictionary<string, object>
            {
                ["tasks"] = tasks,
                ["average"] = new Dictionary<string, object> { [AlignmentEvaluator.ProtocolName] = row.Evaluation.Average(AlignmentEvaluator.ProtocolName) },
                ["average_std"] = new Dictionary<string, object> { [AlignmentEvaluator.ProtocolName] = AverageStd(results, e.Merge.Tasks) },
                ["normalized"] = new Dictionary<string, object> { [AlignmentEvaluator.ProtocolName] = normalized },
                ["stage"] = row.Stage.Name,
                ["parameters"] = row.Stage.Parameters.ToDictionary(kv => kv.Key, kv => (object)AlignmentEvaluator.Text(kv.Value)),
                ["transductive"] = row.Transductive,
                ["data"] = row.Data,
                ["seeds"] = row.Models.Count,
                ["hyperparameters"] = e.Merge.Merged.Hyperparameters,
                ["ece"] = AverageEce(results, e.Merge.Tasks),
            };
            if (CoefficientSparsity(row) is { } sparsity) ((Dictionary<string, object>)family[row.Name])["coefficient_sparsity"] = sparsity;
            if (row.Stage.Parameters.TryGetValue("transform", out var tr))
            {
                string key = AlignmentEvaluator.Text(tr) + (row.Stage.Parameters.TryGetValue("solver", out var so) ? "/" + AlignmentEvaluator.Text(so) : "");
                var perTask = e.Merge.Tasks.ToDictionary(t => t, t => (object)results[t].Accuracy);
                perTask["average"] = row.Evaluation.Average(AlignmentEvaluator.ProtocolName);
                var fitted = row.Models.OfType<AlignedTransformModel>().SelectMany(m => m.TaskNames.Select(m.TransformOf)).ToList();
                if (fitted.Count > 0) perTask["orthogonality_defect"] = fitted.Average(t => t.OrthogonalityDefect());
                transforms[key] = perTask;
            }
        }
        if (transforms.Count > 0) root["transforms"] = transforms;
        root["rows"] = e.Rows.Select(r => r.Name).ToList();
        root["align"] = new Dictionary<string, object?>
        {
            ["data"] = new Dictionary<string, object?> { ["zoo"] = e.Plan.Data.Zoo, ["split"] = e.Plan.Data.Split, ["samples"] = e.Plan.Data.Samples },
            ["seeds"] = e.Plan.Seeds,
            ["stages"] = e.Plan.Stages.Select(s => new Dictionary<string, object> { ["method"] = s.Name, ["consumes"] = s.Consumes.ToString() }).ToList(),
        };
        return root;
    }

    /// <summary>Task-averaged expected calibration error (15 bins; each task's ECE is its mean over seeds).</summary>
    public static double AverageEce(IReadOnlyDictionary<string, ProtocolResult> results, IReadOnlyList<string> tasks)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(tasks);
        return tasks.Average(t => results[t].Runs.Average(r => r.ExpectedCalibrationError));
    }

    /// <summary>Model Tinting rows: the share of clamped coefficients below 1e-5, averaged over the fits; null for other stages.</summary>
    public static double? CoefficientSparsity(AlignmentRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var tinted = row.Models.OfType<TintedModel>().ToList();
        return tinted.Count > 0 ? tinted.Average(m => m.CoefficientSparsity()) : null;
    }

    /// <summary>Std over seeds of the task-averaged accuracy (runs aligned by seed index).</summary>
    public static double AverageStd(IReadOnlyDictionary<string, ProtocolResult> results, IReadOnlyList<string> tasks)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(tasks);
        int runs = tasks.Min(t => results[t].Runs.Count);
        var means = Enumerable.Range(0, runs).Select(r => tasks.Average(t => results[t].Runs[r].MicroAccuracy)).ToArray();
        double m = means.Average();
        return Math.Sqrt(means.Average(x => (x - m) * (x - m)));
    }
}
