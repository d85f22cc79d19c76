// Model Tinting: after task arithmetic, learn layer-wise merge coefficients (clamped to [0, 1]) jointly with each
// task's head, by cross-entropy to the fine-tuned models' pseudo-labels on unlabeled test inputs (transductive).
// A short schedule here (40 rounds on 64 unlabeled inputs per task) so it runs in seconds; the paper uses 500 rounds.
//   dotnet run --project examples/Tinting [-- path/to/data/zoo/vision]
using MLNetMerge;
using MLNetMerge.Alignment;

string zoo = args.Length > 0 ? args[0] : FindZoo();
var ctx = new MergeContext(seed: 0);
string[] tasks = ["fashion", "digits", "fashion_tops", "digits_inverted"];
using var family = ctx.Model.LoadFamily(Path.Combine(zoo, "base.safetensors"),
    tasks.Select(t => (t, Path.Combine(zoo, t + ".safetensors"))).ToArray());
var test = ctx.Data.LoadZoo(zoo, split: "test", tasks);
var unlabeled = ctx.Data.DropLabels(test.ToDictionary(kv => kv.Key, kv => ctx.Data.Take(kv.Value, 64)));

var pipeline = ctx.Merging.TaskArithmetic(scale: 0.3)
    .Append(ctx.Alignment.Tinting(new TintingOptions { Rounds = 40, BatchSize = 16 }));
var tinted = pipeline.Fit(new MergeInputs(family, unlabeled));
var merged = ctx.Merging.TaskArithmetic(scale: 0.3).Fit(new MergeInputs(family));

var before = ctx.Evaluation.Evaluate(merged, test, ctx.Evaluation.Current());
var after = ctx.Evaluation.Evaluate(tinted, test, ctx.Evaluation.Current());
Console.WriteLine("task arithmetic (λ 0.3) → + Model Tinting (40 rounds, 64 unlabeled inputs per task), test accuracy:");
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
