// FT-Classifier alignment (representation alignment after merging): after task arithmetic, each task's head is
// fine-tuned on 5 unlabeled test inputs per class, distilling the fine-tuned model's predictions (KL(fine-tuned ‖ merged));
// labels only balance the draw and never enter the loss.
//   dotnet run --project examples/FtClassifier [-- path/to/data/zoo/vision]
using MLNetMerge;
using MLNetMerge.Alignment;

string zoo = args.Length > 0 ? args[0] : FindZoo();
var ctx = new MergeContext(seed: 0);
string[] tasks = ["fashion", "digits", "fashion_tops", "digits_inverted"];
using var family = ctx.Model.LoadFamily(Path.Combine(zoo, "base.safetensors"),
    tasks.Select(t => (t, Path.Combine(zoo, t + ".safetensors"))).ToArray());
var test = ctx.Data.LoadZoo(zoo, split: "test", tasks);

// Recipe form: align: { stages: [ { method: ft_classifier, parameters: { shots: 5 } } ] }
var pipeline = ctx.Merging.TaskArithmetic(scale: 0.3).Append(ctx.Alignment.FtClassifier(shotsPerClass: 5));

// The stage sees the test inputs (transductive); it draws 5 per class and does not train on the labels.
var aligned = pipeline.Fit(new MergeInputs(family, test));
var merged = ctx.Merging.TaskArithmetic(scale: 0.3).Fit(new MergeInputs(family));

var before = ctx.Evaluation.Evaluate(merged, test, ctx.Evaluation.Current());
var after = ctx.Evaluation.Evaluate(aligned, test, ctx.Evaluation.Current());
Console.WriteLine("task arithmetic (λ 0.3) → + FT-Classifier (5 per class), test accuracy:");
foreach (var t in tasks)
    Console.WriteLine($"  {t,-18} {before.Metrics(t).MicroAccuracy,7:P1} → {after.Metrics(t).MicroAccuracy,7:P1}");
Console.WriteLine($"  {"average",-18} {before.AverageAccuracy,7:P1} → {after.AverageAccuracy,7:P1}");

static string FindZoo()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, "data", "zoo", "vision");
        if (File.Exists(Path.Combine(candidate, "manifest.json"))) return candidate;
    }
    throw new DirectoryNotFoundException("data/zoo/vision not found; pass the zoo folder as the first argument.");
}
