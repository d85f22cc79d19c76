// A recipe run from C#: the YAML mergekit users write (merge, align and evaluate sections) runs through the same runner
// as `mlnetmerge run`, twice into two folders; the same recipe and seed give byte-identical outputs.
//   dotnet run --project examples/RecipeRun [-- path/to/data/zoo/vision]
using Microsoft.ML;
using MLNetMerge;
using MLNetMerge.Recipes;

string zoo = args.Length > 0 ? args[0] : FindZoo();
string root = Directory.CreateTempSubdirectory("mlnetmerge-example-recipe-").FullName;
string yaml = $"""
    # TIES over three zoo tasks, then FT-Classifier on 5 unlabeled test inputs per class; evaluated on test.
    method: ties
    base: {zoo}/base.safetensors
    models:
      - {"{"} name: fashion, path: {zoo}/fashion.safetensors {"}"}
      - {"{"} name: digits, path: {zoo}/digits.safetensors {"}"}
      - {"{"} name: fashion_tops, path: {zoo}/fashion_tops.safetensors {"}"}
    parameters: {"{"} keep: 0.2, scale: 1.0 {"}"}
    seed: 0
    align:
      data: {"{"} zoo: {zoo}, split: test, samples: 0 {"}"}
      seeds: 2
      stages:
        - {"{"} method: ft_classifier, parameters: {"{"} shots: 5 {"}"} {"}"}
    evaluate: {"{"} zoo: {zoo}, protocols: [current, knn], shots: 5, seeds: 3 {"}"}
    """;
string recipePath = Path.Combine(root, "recipe.yaml");
File.WriteAllText(recipePath, yaml);

var ml = new MLContext(seed: 0);
var first = ml.Merging().RunRecipe(recipePath, new RecipeOptions { Output = Path.Combine(root, "a"), Log = line => Console.WriteLine("  " + line) });
ml.Merging().RunRecipe(recipePath, new RecipeOptions { Output = Path.Combine(root, "b") });

foreach (var protocol in first.Protocols)
    Console.WriteLine($"{protocol,-8} " + string.Join("  ", first.Tasks.Select(t => $"{t} {first.Accuracy(protocol, t):P1}")) + $"  | average {first.AverageAccuracy(protocol):P1}");
foreach (var stage in first.Stages)
    Console.WriteLine($"{stage,-8} " + string.Join("  ", first.Tasks.Select(t => $"{t} {first.StageAccuracy(stage, t):P1}")) + $"  | average {first.StageAverageAccuracy(stage):P1}");

var a = Directory.GetFiles(Path.Combine(root, "a"), "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Path.Combine(root, "a"), f)).Order().ToList();
var differing = a.Where(f => !File.Exists(Path.Combine(root, "b", f)) || !File.ReadAllBytes(Path.Combine(root, "a", f)).SequenceEqual(File.ReadAllBytes(Path.Combine(root, "b", f)))).ToList();
Console.WriteLine($"two runs, {a.Count} files each: {(differing.Count == 0 ? "byte-identical" : "differ in " + string.Join(", ", differing))}");
Directory.Delete(root, recursive: true);
return differing.Count == 0 ? 0 : 1;

static string FindZoo(string name = "vision")
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, "data", "zoo", name);
        if (File.Exists(Path.Combine(candidate, "manifest.json"))) return candidate;
    }
    throw new DirectoryNotFoundException($"data/zoo/{name} not found; pass the zoo folder as the first argument.");
}
