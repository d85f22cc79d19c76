// EMR-Merging per task (Huang et al. 2024, arXiv:2405.17461): one unified task vector plus, per task, a 1-bit mask
// and a rescaler; task t runs θ_t = θ0 + λ_t · M_t ⊙ τ_uni. As ML.NET components each task gets its own encoder graph
// (columns Embedding.{task}, Score.{task}, PredictedLabel.{task}); scored under the Current and KNN protocols.
//   dotnet run --project examples/EmrPerTask [-- path/to/data/zoo/vision]
using Microsoft.ML;
using MLNetMerge;

string zoo = args.Length > 0 ? args[0] : FindZoo();
var ml = new MLContext(seed: 0);
using var family = ml.Merging().LoadZooFamily(zoo);
var test = ml.Merging().LoadZooData(zoo, "test");
var validation = ml.Merging().LoadZooData(zoo, "validation");

using var emr = ml.Merging().Emr(family).Fit(test);
using var average = ml.Merging().TaskArithmetic(family).Fit(test);
var options = new EvaluationOptions { KnnShots = [5], Seeds = 3 };
var emrScores = ml.Merging().Evaluate(emr, family, test, validation, options);
var taScores = ml.Merging().Evaluate(average, family, test, validation, options);

Console.WriteLine($"{"task",-18} {"TA current",10} {"EMR current",12} {"EMR knn5",14}");
foreach (var task in emrScores.Tasks)
{
    var knn = emrScores[task, "knn5"];
    Console.WriteLine($"{task,-18} {taScores[task, "current"].Accuracy,10:P1} {emrScores[task, "current"].Accuracy,12:P1} {knn.Accuracy,8:P1} ± {knn.AccuracyStd:P1}");
}
Console.WriteLine($"{"average",-18} {taScores.AverageAccuracy("current"),10:P1} {emrScores.AverageAccuracy("current"),12:P1} {emrScores.AverageAccuracy("knn5"),8:P1}");
var columns = emr.GetOutputSchema(test.Schema).Where(c => c.Name.StartsWith("Embedding.", StringComparison.Ordinal)).Select(c => c.Name);
Console.WriteLine($"per-task encoders: {string.Join(", ", columns)}");
return emrScores.AverageAccuracy("current") > taScores.AverageAccuracy("current") ? 0 : 1;

static string FindZoo(string name = "vision")
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, "data", "zoo", name);
        if (File.Exists(Path.Combine(candidate, "manifest.json"))) return candidate;
    }
    throw new DirectoryNotFoundException($"data/zoo/{name} not found; pass the zoo folder as the first argument.");
}
