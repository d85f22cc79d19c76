namespace MLNetMerge.Evaluation;

/// <summary>
/// The <c>report.json</c> layout: <c>family → method → task → protocol → metrics</c>, plus the bounds
/// (<c>individual</c>, <c>base</c>) in the same shape, the selected hyperparameters and the sweep.
/// Scalar metrics are means over a protocol's runs; the confusion matrix is the first run's.
/// </summary>
public static class EvaluationReport
{
    /// <summary>Builds the JSON object tree (dictionaries and lists, ready for System.Text.Json).</summary>
    public static Dictionary<string, object> ToJson(RecipeEvaluation e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var method = Row(e.Merged, e);
        method["hyperparameters"] = e.Merged.Hyperparameters;
        method["sweep"] = e.Sweep.Select(p => new Dictionary<string, object> { ["parameters"] = p.Parameters, ["validation_accuracy"] = p.ValidationAccuracy }).ToList();
        method["data"] = "none (data-free); hyperparameters selected on validation";
        return new Dictionary<string, object>
        {
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
    }

    private static Dictionary<string, object> Row(ModelEvaluation row, RecipeEvaluation e)
    {
        var tasks = new Dictionary<string, object>();
        foreach (var t in e.Tasks)
            tasks[t] = e.Protocols.ToDictionary(p => p, p => (object)Metrics(row.Results[p][t]));
        return new Dictionary<string, object>
        {
            ["tasks"] = tasks,
            ["average"] = e.Protocols.ToDictionary(p => p, row.Average),
            ["normalized"] = e.Protocols.ToDictionary(p => p, p => row.Normalized(p, e.Individual)),
        };
    }

    /// <summary>One protocol result as a JSON object with ML.NET's metric names.</summary>
    public static Dictionary<string, object> Metrics(ProtocolResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        double Mean(Func<MulticlassClassificationMetrics, double> f) => r.Runs.Average(f);
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
}
