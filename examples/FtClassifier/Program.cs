// FT-Classifier (Kong et al. 2024, arXiv:2412.13526) as an alignment stage: after a task-arithmetic merge, a new head
// per task is trained on 5 unlabeled test inputs per class to match the fine-tuned model's outputs (transductive: the
// labels are never read). Compared with the merge alone under the Current protocol.
//   dotnet run --project examples/FtClassifier [-- path/to/data/zoo/vision]
using Microsoft.ML;
using MLNetMerge;

string zoo = args.Length > 0 ? args[0] : FindZoo();
var ml = new MLContext(seed: 0);
using var family = ml.Merging().LoadZooFamily(zoo);
var test = ml.Merging().LoadZooData(zoo, "test");
var unlabeled = ml.Transforms.DropColumns("Label").Fit(test).Transform(test);

var merge = ml.Merging().TaskArithmetic(family, scale: 0.3);
var aligned = merge.Append(ml.Merging().FtClassifier(new FtClassifierOptions { ShotsPerClass = 5 })).Fit(unlabeled);
var plain = merge.Fit(unlabeled);

var current = new EvaluationOptions { KnnShots = [] };
var before = ml.Merging().Evaluate(plain, family, test, options: current);
var after = ml.Merging().Evaluate(aligned, family, test, options: current);
Console.WriteLine($"{"task",-18} {"merge",8} {"+ FT-Classifier",16}");
foreach (var task in before.Tasks)
    Console.WriteLine($"{task,-18} {before[task, "current"].Accuracy,8:P1} {after[task, "current"].Accuracy,16:P1}");
Console.WriteLine($"{"average",-18} {before.AverageAccuracy("current"),8:P1} {after.AverageAccuracy("current"),16:P1}");
return after.AverageAccuracy("current") > before.AverageAccuracy("current") ? 0 : 1;

static string FindZoo(string name = "vision")
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, "data", "zoo", name);
        if (File.Exists(Path.Combine(candidate, "manifest.json"))) return candidate;
    }
    throw new DirectoryNotFoundException($"data/zoo/{name} not found; pass the zoo folder as the first argument.");
}
