// Quick start: merge the committed vision zoo's eight fine-tuned ViTs with TIES and evaluate the merged encoder
// with each task's own head (Current protocol) on the test splits.
//   dotnet run --project examples/QuickStart [-- path/to/data/zoo/vision]
using MLNetMerge;
using MLNetMerge.Alignment;

string zoo = args.Length > 0 ? args[0] : FindZoo();
var ctx = new MergeContext(seed: 0);

var tasks = ctx.Data.ZooTasks(zoo);
using var family = ctx.Model.LoadFamily(Path.Combine(zoo, "base.safetensors"),
    tasks.Select(t => (t, Path.Combine(zoo, t + ".safetensors"))).ToArray());

var model = ctx.Merging.Ties(keep: 0.2, scale: 1.0).Fit(new MergeInputs(family));

var test = ctx.Data.LoadZoo(zoo, split: "test");
var results = ctx.Evaluation.Evaluate(model, test, ctx.Evaluation.Current());

Console.WriteLine($"TIES (keep 0.2, λ 1.0) over {tasks.Count} tasks, Current protocol, test split:");
foreach (var task in tasks)
{
    var m = results.Metrics(task);
    Console.WriteLine($"  {task,-18} MicroAccuracy {m.MicroAccuracy:P1}  MacroAccuracy {m.MacroAccuracy:P1}  LogLoss {m.LogLoss:F3}");
}
Console.WriteLine($"  {"average",-18} MicroAccuracy {results.AverageAccuracy:P1}");

static string FindZoo()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, "data", "zoo", "vision");
        if (File.Exists(Path.Combine(candidate, "manifest.json"))) return candidate;
    }
    throw new DirectoryNotFoundException("data/zoo/vision not found; pass the zoo folder as the first argument.");
}
