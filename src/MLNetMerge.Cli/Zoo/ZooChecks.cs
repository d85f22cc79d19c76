using MLNetMerge.Data;
using MLNetMerge.Evaluation;
using MLNetMerge.Encoders;

namespace MLNetMerge.Cli.Zoo;

/// <summary>
/// The behaviour checks every zoo builder records in its manifest: accuracy of encoder + head, and how naive merges of
/// the freshly fine-tuned models fare (weight averaging; task arithmetic with λ chosen on validation), Current protocol.
/// </summary>
internal static class ZooChecks
{
    /// <summary>Share of correct arg-max predictions of encoder + head on a labeled dataset.</summary>
    public static double Accuracy(Nn.IDenseEncoder encoder, TaskHead head, TaskDataset data)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(data);
        var probs = head.Probabilities(EncoderSession.Embed(encoder, data), data.Count);      // (N, K)
        var y = data.RequireLabels();
        int correct = 0;
        for (int i = 0; i < data.Count; i++)
        {
            var row = probs.AsSpan(i * head.ClassCount, head.ClassCount);
            int best = 0;
            for (int c = 1; c < row.Length; c++) if (row[c] > row[best]) best = c;
            if (best == y[i]) correct++;
        }
        return (double)correct / data.Count;
    }

    /// <summary>
    /// Weight averaging <c>θ0 + (1/T) Σ τt</c> and task arithmetic <c>θ0 + λ Σ τt</c> (λ = the grid value with the best mean
    /// validation accuracy, first on ties) scored on test with each task's own head; the encoder's parameters are left
    /// holding the last merge.
    /// </summary>
    /// <param name="encoder">The encoder whose parameters receive each merge.</param>
    /// <param name="baseValues">θ0 in the encoder's arena layout.</param>
    /// <param name="taskValues">θt per task, same layout.</param>
    /// <param name="heads">Each task's head.</param>
    /// <param name="validation">Each task's validation split (λ selection).</param>
    /// <param name="test">Each task's test split (scores).</param>
    /// <param name="individual">Each fine-tuned model's test accuracy (normalisation).</param>
    /// <param name="scaleGrid">λ candidates.</param>
    /// <param name="log">One line per check.</param>
    public static List<ZooMergeCheck> NaiveMerges(Nn.IDenseEncoder encoder, float[] baseValues, IReadOnlyList<float[]> taskValues,
        IReadOnlyList<TaskHead> heads, IReadOnlyList<TaskDataset> validation, IReadOnlyList<TaskDataset> test,
        IReadOnlyList<double> individual, IReadOnlyList<double> scaleGrid, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(taskValues);
        ArgumentNullException.ThrowIfNull(scaleGrid);
        void SetMerged(Func<int, float> coefficient)
        {
            var merged = (float[])baseValues.Clone();                          // (P)
            for (int t = 0; t < taskValues.Count; t++)
            {
                float c = coefficient(t);
                for (int i = 0; i < merged.Length; i++) merged[i] += c * (taskValues[t][i] - baseValues[i]);
            }
            merged.CopyTo(encoder.Parameters.Values, 0);
        }
        ZooMergeCheck Check(string method, double scale, Func<int, float> coefficient)
        {
            SetMerged(coefficient);
            var acc = test.Select((d, t) => Accuracy(encoder, heads[t], d)).ToArray();
            return new ZooMergeCheck(method, scale, acc, acc.Average(), acc.Select((a, t) => a / individual[t]).Average());
        }
        double ValidationMean(double scale)
        {
            SetMerged(_ => (float)scale);
            return validation.Select((d, t) => Accuracy(encoder, heads[t], d)).Average();
        }
        var checks = new List<ZooMergeCheck> { Check("weight_average", 0, _ => 1f / taskValues.Count) };
        double best = scaleGrid.MaxBy(ValidationMean);
        checks.Add(Check("task_arithmetic", best, _ => (float)best));
        foreach (var c in checks) log($"check {c.Method} (λ {c.Scale:G3}): average {c.AverageTestAccuracy:P1}, normalised {c.NormalizedAccuracy:P1}");
        return checks;
    }
}
