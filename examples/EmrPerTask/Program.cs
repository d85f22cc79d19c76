// EMR-Merging per-task deployment: one unified task vector plus, per task, a 1-bit mask and a rescaler; task t runs
// with θ_t = θ0 + λ_t · M_t ⊙ τ_uni. The in-memory merge also materializes every θ_t (saved under tasks/), so the
// reloaded model serves each task with its own weights.
//   dotnet run --project examples/EmrPerTask [-- path/to/data/zoo/vision]
using MLNetMerge;
using MLNetMerge.Alignment;

string zoo = args.Length > 0 ? args[0] : FindZoo();
var ctx = new MergeContext(seed: 0);
var tasks = ctx.Data.ZooTasks(zoo);
using var family = ctx.Model.LoadFamily(Path.Combine(zoo, "base.safetensors"),
    tasks.Select(t => (t, Path.Combine(zoo, t + ".safetensors"))).ToArray());

// Merge: τ_uni (elect), per-task masks M_t = (τ_t ⊙ τ_uni > 0) and rescalers λ_t = Σ|τ_t| / Σ|M_t ⊙ τ_uni|.
var model = ctx.Merging.Emr().Fit(new MergeInputs(family));
Console.WriteLine($"EMR over {tasks.Count} tasks; rescalers: {model.Merged.Summary.Notes["rescalers"]}");

// Deploy: save once (unified weights + packed masks + rescalers), load back, serve each task with its own weights.
string dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-example-emr");
ctx.Model.Save(model, dir, overwrite: true);
long Size(string f) => File.Exists(Path.Combine(dir, f)) ? new FileInfo(Path.Combine(dir, f)).Length : 0;
long separate = tasks.Sum(t => new FileInfo(Path.Combine(zoo, t + ".safetensors")).Length);
long materialized = Directory.GetFiles(Path.Combine(dir, "tasks")).Sum(f => new FileInfo(f).Length);
Console.WriteLine($"stored: model.safetensors {Size("model.safetensors") / 1024} KiB + modulators.safetensors {Size("modulators.safetensors") / 1024} KiB" +
                  $" (with θ0, all a task needs; vs {separate / 1024} KiB for {tasks.Count} separate fine-tuned models), tasks/ {materialized / 1024} KiB materialized");
var deployed = ctx.Model.LoadPipeline(dir);

var test = ctx.Data.LoadZoo(zoo, split: "test");
var results = ctx.Evaluation.Evaluate(deployed, test, ctx.Evaluation.Current());
Console.WriteLine("per-task test accuracy (Current protocol), each task with its own weights θ_t:");
foreach (var task in tasks)
{
    var first = deployed.Transform(task, ctx.Data.Take(test[task], 8));
    Console.WriteLine($"  {task,-18} {results.Metrics(task).MicroAccuracy:P1}   first 8 predicted: [{string.Join(" ", first.PredictedLabels)}]" +
                      $"  labels: [{string.Join(" ", test[task].Labels!.Take(8))}]");
}
Console.WriteLine($"  {"average",-18} {results.AverageAccuracy:P1}");

static string FindZoo()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, "data", "zoo", "vision");
        if (File.Exists(Path.Combine(candidate, "manifest.json"))) return candidate;
    }
    throw new DirectoryNotFoundException("data/zoo/vision not found; pass the zoo folder as the first argument.");
}
