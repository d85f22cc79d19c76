// Quick start: merge the committed vision zoo's eight fine-tuned ViTs with TIES into ML.NET components, score every
// task's test split with ML.NET's own evaluator, train an ML.NET trainer on the merged embeddings, and save the model.
//   dotnet run --project examples/QuickStart [-- path/to/data/zoo/vision]
using Microsoft.ML;
using MLNetMerge;

string zoo = args.Length > 0 ? args[0] : FindZoo();
var ml = new MLContext(seed: 0);
using var family = ml.Merging().LoadZooFamily(zoo);

// A merge alone needs no data: Fit reads only the schema of the view (pixel_values, a vector of 784 = 1×28×28 floats).
var allTasks = ml.Merging().LoadZooData(zoo, "test");
using var model = ml.Merging().Ties(family, keep: 0.2, scale: 1.0).Fit(allTasks);   // disposing deletes the graph's temp copy

Console.WriteLine($"TIES (keep 0.2, λ 1.0) over {family.TaskNames.Count} tasks, each task's own head (Current protocol), test split:");
double sum = 0;
foreach (var task in family.TaskNames)
{
    var scored = model.Transform(ml.Merging().LoadZooData(zoo, task, "test"));
    var m = ml.MulticlassClassification.Evaluate(scored, "Label", MergeColumns.ForTask("Score", task), MergeColumns.ForTask("PredictedLabel", task));
    Console.WriteLine($"  {task,-18} MicroAccuracy {m.MicroAccuracy:P1}  MacroAccuracy {m.MacroAccuracy:P1}  LogLoss {m.LogLoss:F3}");
    sum += m.MicroAccuracy;
}
Console.WriteLine($"  {"average",-18} MicroAccuracy {sum / family.TaskNames.Count:P1}");

// The merged encoder feeding an ML.NET trainer: a new linear head for 'fashion' trained on the labeled validation split.
using var fashion = ml.Merging().Ties(family, keep: 0.2, scale: 1.0, task: "fashion").Fit(allTasks);
// The cache keeps the trainer's passes from re-running the encoder on every row of every pass.
var probe = ml.Transforms.CopyColumns("Features", MergeColumns.Embedding)
    .AppendCacheCheckpoint(ml)
    .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy("Label", "Features"));
var probed = fashion.Append(probe.Fit(fashion.Transform(ml.Merging().LoadZooData(zoo, "fashion", "validation"))));
var fashionTest = ml.Merging().LoadZooData(zoo, "fashion", "test");
var own = ml.MulticlassClassification.Evaluate(fashion.Transform(fashionTest));
var sdca = ml.MulticlassClassification.Evaluate(probed.Transform(fashionTest));
Console.WriteLine($"fashion: merged encoder + fine-tuned head {own.MicroAccuracy:P1}; + SdcaMaximumEntropy on Embedding {sdca.MicroAccuracy:P1}");

// Saved with ML.NET, loaded in a context that knows MLNetMerge's steps: the same scores.
string path = Path.Combine(Path.GetTempPath(), "mlnetmerge-quickstart.zip");
ml.Model.Save(probed, fashionTest.Schema, path);
var ml2 = new MLContext();
ml2.Merging().RegisterAssembly();
var loaded = ml2.Model.Load(path, out _);
var again = ml2.MulticlassClassification.Evaluate(loaded.Transform(fashionTest));
Console.WriteLine($"saved {new FileInfo(path).Length / 1024} KiB to {path}; reloaded accuracy {again.MicroAccuracy:P1}");
(loaded as IDisposable)?.Dispose();
File.Delete(path);
return again.MicroAccuracy == sdca.MicroAccuracy ? 0 : 1;

static string FindZoo(string name = "vision")
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, "data", "zoo", name);
        if (File.Exists(Path.Combine(candidate, "manifest.json"))) return candidate;
    }
    throw new DirectoryNotFoundException($"data/zoo/{name} not found; pass the zoo folder as the first argument.");
}
