using MLNetMerge.Merging;
using System.Globalization;
using System.Text;
using MLNetMerge.Alignment;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Evaluation;
using MLNetMerge.Cli.Zoo;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests.Alignment;

/// <summary>Tinting and Tinting++ on the committed vision zoo (8 tasks), over seeds: the seed paper's table.</summary>
[TestClass]
public sealed class TintingZooTests
{
    public TestContext TestContext { get; set; } = null!;

    private static int Seeds => int.TryParse(Environment.GetEnvironmentVariable("TINTING_SEEDS"), out int s) && s > 0 ? s : 3;
    private static int Rounds => int.TryParse(Environment.GetEnvironmentVariable("TINTING_ROUNDS"), out int r) && r > 0 ? r : 500;

    [TestMethod]
    [TestCategory("slow")]
    public void TintingAndTintingPlusPlus_OnTheVisionZoo()
    {
        string dir = ZooPaths.Vision;
        var manifest = ZooManifest.Load(dir);
        using var family = ModelFamily.Load(Path.Combine(dir, manifest.Base), manifest.Tasks.Select(t => (t.Name, Path.Combine(dir, t.Checkpoint))));
        var test = manifest.Tasks.ToDictionary(t => t.Name, t => ZooManifest.LoadSplit(dir, t, t.Test), StringComparer.Ordinal);
        var unlabeled = test.ToDictionary(kv => kv.Key, kv => kv.Value.WithoutLabels(), StringComparer.Ordinal);
        var individual = manifest.Tasks.ToDictionary(t => t.Name, t => t.Accuracy!.FineTunedTest, StringComparer.Ordinal);
        var tasks = manifest.Tasks.Select(t => t.Name).ToArray();
        var merged = EngineRuns.Merge(family, new TaskArithmeticOptions { Scale = 0.3 });
        var rows = new List<(string Name, double[][] Acc, double[][] Ece, double[] Sparsity, double Seconds)>();
        foreach (bool plus in new[] { false, true })
        {
            var acc = new double[Seeds][]; var ece = new double[Seeds][]; var sparsity = new double[Seeds];
            var sw = System.Diagnostics.Stopwatch.StartNew();
            for (int s = 0; s < Seeds; s++)
            {
                var model = (TintedModel)EngineRuns.Stage(new TintingOptions { PlusPlus = plus, Rounds = Rounds }, (ulong)s)
                    .Fit(merged, new MergeInputs(family, unlabeled));
                acc[s] = new double[tasks.Length]; ece[s] = new double[tasks.Length];
                for (int i = 0; i < tasks.Length; i++)
                {
                    var d = test[tasks[i]];
                    var m = ClassificationScores.Compute(model.PredictProbabilities(tasks[i], d), d.RequireLabels(), d.ClassCount);
                    acc[s][i] = m.MicroAccuracy; ece[s][i] = m.ExpectedCalibrationError;
                }
                sparsity[s] = model.CoefficientSparsity();
                TestContext.WriteLine($"{(plus ? "tinting++" : "tinting")} seed {s}: Avg {acc[s].Average():P2}, ECE {ece[s].Average():F4}, coefficients < 1e-5: {sparsity[s]:P1}, " +
                    $"loss {model.LossHistory[0]:F4} → {model.LossHistory[^1]:F4}");
            }
            rows.Add((plus ? "TA + Tinting++" : "TA + Tinting", acc, ece, sparsity, sw.Elapsed.TotalSeconds / Seeds));
        }
        TestContext.WriteLine(Table(tasks, individual, rows));
        var baseline = TaskArithmeticAverage(family, merged, test, tasks);
        TestContext.WriteLine($"task arithmetic λ 0.3 (Current Eval, the starting point): Avg {baseline:P2}");
        foreach (var r in rows)
        {
            double avg = r.Acc.Average(a => a.Average());
            Assert.IsTrue(avg > baseline + 0.05, $"{r.Name}: Avg {avg:P2} should clearly beat the task-arithmetic start {baseline:P2}");
            Assert.IsTrue(r.Sparsity.All(s => s is >= 0 and <= 1));
        }
    }

    private static double TaskArithmeticAverage(ModelFamily family, Merging.MergedModel merged, Dictionary<string, TaskDataset> test, string[] tasks)
    {
        var enc = family.Session;
        return tasks.Average(t =>
        {
            var head = TaskHead.Read(family.Tasks.First(m => m.Name == t).Reader, enc.EmbeddingSize);
            var p = head.Probabilities(enc.EmbedMerged(merged, t, test[t]), test[t].Count);
            return ClassificationScores.Compute(p, test[t].RequireLabels(), head.ClassCount).MicroAccuracy;
        });
    }

    private static string Table(string[] tasks, Dictionary<string, double> individual, List<(string Name, double[][] Acc, double[][] Ece, double[] Sparsity, double Seconds)> rows)
    {
        static string Pm(IEnumerable<double> xs, double scale = 100, string f = "F1")
        {
            var a = xs.ToArray(); double m = a.Average(); double sd = Math.Sqrt(a.Average(x => (x - m) * (x - m)));
            return (m * scale).ToString(f, CultureInfo.InvariantCulture) + " ± " + (sd * scale).ToString(f, CultureInfo.InvariantCulture);
        }
        var sb = new StringBuilder();
        sb.AppendLine("| method | " + string.Join(" | ", tasks) + " | Avg | Norm | ECE (mean over tasks) | coef < 1e-5 | s/fit |");
        sb.AppendLine("|---" + string.Concat(Enumerable.Repeat("|---:", tasks.Length + 5)) + "|");
        sb.AppendLine("| individual | " + string.Join(" | ", tasks.Select(t => (100 * individual[t]).ToString("F1", CultureInfo.InvariantCulture))) + " | "
            + (100 * tasks.Average(t => individual[t])).ToString("F1", CultureInfo.InvariantCulture) + " | 100 | | | |");
        foreach (var r in rows)
        {
            var cells = tasks.Select((_, i) => Pm(r.Acc.Select(a => a[i])));
            var avg = r.Acc.Select(a => a.Average());
            var norm = r.Acc.Select(a => ModelEvaluation.NormalizedAccuracy(a, tasks.Select(t => individual[t]).ToArray()));
            sb.AppendLine($"| {r.Name} | {string.Join(" | ", cells)} | {Pm(avg)} | {Pm(norm)} | {Pm(r.Ece.Select(e => e.Average()), 1, "F4")} | {Pm(r.Sparsity)} % | {r.Seconds:F0} |");
        }
        return sb.ToString();
    }
}
