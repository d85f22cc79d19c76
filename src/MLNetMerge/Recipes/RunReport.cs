using System.Text;
using System.Text.Json;
using MLNetMerge.Alignment;
using MLNetMerge.Evaluation;

namespace MLNetMerge.Recipes;

/// <summary>
/// <c>report.json</c>, written by every command that evaluates (<c>evaluate</c>, <c>align</c>, <c>run</c>, <c>demo</c>)
/// in one schema: <c>{ "format": "mlnetmerge.report", "version": 1, "recipes": [ entry, … ] }</c>. An entry is one recipe's
/// evaluation: <c>recipe</c>, <c>family</c>, <c>tasks</c>, <c>protocols</c>, and under the family's name a row per model
/// (the method, <c>individual</c>, <c>base</c>, and <c>{method}+{stage}</c> per alignment stage) holding
/// <c>task → protocol → metrics</c> (ML.NET's metric names plus ECE, MCC, F1 and the std over seeds), <c>average</c> and
/// <c>normalized</c> per protocol; the method's row adds the selected <c>hyperparameters</c> and the <c>sweep</c>; stage rows
/// add <c>stage</c>, <c>parameters</c>, <c>transductive</c>, <c>data</c>, <c>seeds</c>, <c>ece</c> and, for Model Tinting,
/// <c>coefficient_sparsity</c>; aligned-transform rows are also collected as <c>transforms</c> with the fitted maps'
/// mean <c>orthogonality_defect</c>. The schema is documented in docs/report-schema.md.
/// </summary>
internal static class RunReport
{
    /// <summary>The format name.</summary>
    public const string FormatName = "mlnetmerge.report";

    /// <summary>The schema version this library writes and reads.</summary>
    public const int Version = 1;

    /// <summary>One recipe's entry (dictionaries and lists, ready for System.Text.Json).</summary>
    /// <param name="e">The evaluation (with its alignment rows).</param>
    /// <param name="recipe">The recipe's name (its file name without extension).</param>
    /// <param name="plan">The <c>align:</c> section, when stages ran.</param>
    public static Dictionary<string, object> Entry(RecipeEvaluation e, string recipe, AlignPlan? plan)
    {
        ArgumentNullException.ThrowIfNull(e);
        var method = Row(e.Merged, e);
        method["hyperparameters"] = e.Merged.Hyperparameters;
        method["sweep"] = e.Sweep.Select(p => new Dictionary<string, object> { ["parameters"] = p.Parameters, ["validation_accuracy"] = p.ValidationAccuracy }).ToList();
        method["data"] = e.Sweep.Count > 0 ? "none (data-free); hyperparameters selected on validation" : "none (data-free); hyperparameters from the recipe";
        var root = new Dictionary<string, object>
        {
            ["recipe"] = recipe,
            ["family"] = e.Family,
            ["tasks"] = e.Tasks,
            ["protocols"] = e.Protocols,
            [e.Family] = new Dictionary<string, object>
            {
                [e.Method] = method,
                ["individual"] = Row(e.Individual, e),
                ["base"] = Row(e.Base, e),
            },
        };
        if (plan is null || e.Alignment.Count == 0) return root;
        var family = (Dictionary<string, object>)root[e.Family];
        var individual = e.Individual.Results["current"];
        var transforms = new Dictionary<string, object>();
        foreach (var row in e.Alignment)
        {
            var results = row.Evaluation.Results[RecipeEvaluation.AlignedProtocol];
            var tasks = e.Tasks.ToDictionary(t => t, t => (object)new Dictionary<string, object> { [RecipeEvaluation.AlignedProtocol] = Metrics(results[t]) });
            double normalized = ModelEvaluation.NormalizedAccuracy(e.Tasks.Select(t => results[t].Accuracy).ToArray(), e.Tasks.Select(t => individual[t].Accuracy).ToArray());
            family[row.Name] = new Dictionary<string, object>
            {
                ["tasks"] = tasks,
                ["average"] = new Dictionary<string, object> { [RecipeEvaluation.AlignedProtocol] = row.Evaluation.Average(RecipeEvaluation.AlignedProtocol) },
                ["average_std"] = new Dictionary<string, object> { [RecipeEvaluation.AlignedProtocol] = AverageStd(results, e.Tasks) },
                ["normalized"] = new Dictionary<string, object> { [RecipeEvaluation.AlignedProtocol] = normalized },
                ["stage"] = row.Stage.Name,
                ["parameters"] = row.Stage.Parameters.ToDictionary(kv => kv.Key, kv => (object)AlignmentRows.Text(kv.Value)),
                ["transductive"] = row.Transductive,
                ["data"] = row.Data,
                ["seeds"] = row.Models.Count,
                ["hyperparameters"] = e.Merged.Hyperparameters,
                ["ece"] = AverageEce(results, e.Tasks),
            };
            if (CoefficientSparsity(row) is { } sparsity) ((Dictionary<string, object>)family[row.Name])["coefficient_sparsity"] = sparsity;
            if (row.Stage.Parameters.TryGetValue("transform", out var tr))
            {
                string key = AlignmentRows.Text(tr) + (row.Stage.Parameters.TryGetValue("solver", out var so) ? "/" + AlignmentRows.Text(so) : "");
                var perTask = e.Tasks.ToDictionary(t => t, t => (object)results[t].Accuracy);
                perTask["average"] = row.Evaluation.Average(RecipeEvaluation.AlignedProtocol);
                var fitted = row.Models.OfType<AlignedTransformModel>().SelectMany(m => m.TaskNames.Select(m.TransformOf)).ToList();
                if (fitted.Count > 0) perTask["orthogonality_defect"] = fitted.Average(t => t.OrthogonalityDefect());
                transforms[key] = perTask;
            }
        }
        if (transforms.Count > 0) root["transforms"] = transforms;
        root["rows"] = e.Alignment.Select(r => r.Name).ToList();
        root["align"] = new Dictionary<string, object?>
        {
            ["data"] = new Dictionary<string, object?> { ["zoo"] = plan.Data.Zoo, ["split"] = plan.Data.Split, ["samples"] = plan.Data.Samples },
            ["seeds"] = plan.Seeds,
            ["stages"] = plan.Stages.Select(s => new Dictionary<string, object> { ["method"] = s.Name, ["consumes"] = s.Consumes.ToString() }).ToList(),
        };
        root["align"] = new Dictionary<string, object?>
        {
            ["data"] = new Dictionary<string, object?> { ["zoo"] = plan.Data.Zoo is null ? null : Path.GetFileName(plan.Data.Zoo), ["split"] = plan.Data.Split, ["samples"] = plan.Data.Samples },
            ["seeds"] = plan.Seeds,
            ["stages"] = plan.Stages.Select(s => new Dictionary<string, object> { ["method"] = s.Name, ["consumes"] = s.Consumes.ToString() }).ToList(),
        };
        return root;
    }

    /// <summary>Writes <c>report.json</c> with <paramref name="entries"/> (to a temporary file renamed into place).</summary>
    public static void Write(string path, IReadOnlyList<Dictionary<string, object>> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var root = new Dictionary<string, object> { ["format"] = FormatName, ["version"] = Version, ["recipes"] = entries };
        Data.AtomicFile.Write(full, s => JsonSerializer.Serialize(s, root, MLNetMerge.Data.JsonText.Indented));
        Checkpoints.OutputContents.NoteWritten(full);
        Checkpoints.TempFolders.NoteCommitted(full);
    }

    /// <summary>The entries of a <c>report.json</c>.</summary>
    /// <exception cref="RecipeException">Not a report of this format and version, or a field of another type than the
    /// schema's (<see cref="ReportSchema"/>).</exception>
    public static IReadOnlyList<JsonElement> Entries(JsonDocument report, string path)
    {
        ArgumentNullException.ThrowIfNull(report);
        var root = report.RootElement;
        string format = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString()! : "";
        int version = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) ? n : -1;
        if (format != FormatName)
            throw new RecipeException(path, $"is not an MLNetMerge report (format '{format}', expected '{FormatName}').");
        if (version != Version)
            throw new RecipeException(path, version < 0 ? $"has no 'version' (a whole number); this library reads version {Version}."
                : $"report version {version} is not supported; this library reads version {Version}.");
        if (!root.TryGetProperty("recipes", out var recipes) || recipes.ValueKind != JsonValueKind.Array)
            throw new RecipeException(path, "has no 'recipes' list.");
        ReportSchema.Check(recipes, path);
        return recipes.EnumerateArray().ToList();
    }

    private static Dictionary<string, object> Row(ModelEvaluation row, RecipeEvaluation e)
    {
        var tasks = new Dictionary<string, object>();
        foreach (var t in e.Tasks)
            tasks[t] = e.Protocols.ToDictionary(p => p, p => (object)Metrics(row.Results[p][t]));
        var result = new Dictionary<string, object>
        {
            ["tasks"] = tasks,
            ["average"] = e.Protocols.ToDictionary(p => p, row.Average),
            ["normalized"] = e.Protocols.ToDictionary(p => p, p => row.Normalized(p, e.Individual)),
        };
        // Protocols of several draws (KNN, FT-Classifier Eval): the std over draws of the task-averaged accuracy, the
        // spread of the average itself (each task's own spread is its AccuracyStd).
        var drawn = e.Protocols.Where(p => e.Tasks.All(t => row.Results[p][t].Runs.Count > 1)).ToList();
        if (drawn.Count > 0) result["average_std"] = drawn.ToDictionary(p => p, p => (object)AverageStd(row.Results[p], e.Tasks));
        return result;
    }

    /// <summary>One protocol result as a JSON object with ML.NET's metric names.</summary>
    public static Dictionary<string, object> Metrics(ProtocolResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        double Mean(Func<ClassificationScores, double> f) => r.Runs.Average(f);
        var first = r.Runs[0];
        return new Dictionary<string, object>
        {
            ["Accuracy"] = r.Accuracy,
            ["AccuracyStd"] = r.AccuracyStd,
            ["Runs"] = r.Runs.Count,
            ["MicroAccuracy"] = Mean(m => m.MicroAccuracy),
            ["MacroAccuracy"] = Mean(m => m.MacroAccuracy),
            ["LogLoss"] = Mean(m => m.LogLoss),
            ["LogLossReduction"] = Mean(m => m.LogLossReduction),
            ["TopKAccuracy"] = Mean(m => m.TopKAccuracy),
            ["TopKPredictionCount"] = first.TopKPredictionCount,
            ["ExpectedCalibrationError"] = Mean(m => m.ExpectedCalibrationError),
            ["MatthewsCorrelation"] = Mean(m => m.MatthewsCorrelation),
            ["F1Score"] = Mean(m => m.F1Score),
            ["PerClassLogLoss"] = Enumerable.Range(0, first.PerClassLogLoss.Count).Select(c => r.Runs.Average(m => m.PerClassLogLoss[c])).ToList(),
            ["ConfusionMatrix"] = first.ConfusionMatrix.Counts,
        };
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
