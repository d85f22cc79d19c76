// A recipe run through the API: a recipe YAML (merge, align, evaluate sections) becomes a pipeline, runs, and the
// fitted pipeline writes itself back out as a recipe that loads into the same pipeline.
//   dotnet run --project examples/RecipeRun [-- path/to/data/zoo/vision]
using MLNetMerge;
using MLNetMerge.Recipes;

string zoo = args.Length > 0 ? args[0] : FindZoo();
string output = Path.Combine(Path.GetTempPath(), "mlnetmerge-example-recipe");
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
    output: {output}
    align:
      data: {"{"} zoo: {zoo}, split: test, samples: 0 {"}"}
      stages:
        - {"{"} method: ft_classifier, parameters: {"{"} shots: 5 {"}"} {"}"}
    evaluate: {"{"} zoo: {zoo}, protocols: [current, knn], shots: 5, seeds: 3 {"}"}
    """;
string recipePath = Path.Combine(Path.GetTempPath(), "mlnetmerge-example-recipe.yaml");
File.WriteAllText(recipePath, yaml);

// What `mlnetmerge run RECIPE.yaml` does, through the API.
var recipe = MergeRecipe.Load(recipePath);
var result = RecipeRunner.Run(recipe, new RecipeRunOptions { Overwrite = true, Log = line => Console.WriteLine("  " + line) });
var evaluation = result.Evaluation!;
foreach (var protocol in evaluation.Protocols)
    Console.WriteLine($"{protocol,-8} " + string.Join("  ", evaluation.Tasks.Select(t => $"{t} {evaluation.Merged.Results[protocol][t].Accuracy:P1}")) + $"  | average {evaluation.Merged.Average(protocol):P1}");
foreach (var row in evaluation.Alignment)
    Console.WriteLine($"{row.Name,-8} " + string.Join("  ", evaluation.Tasks.Select(t => $"{t} {row.Evaluation.Results["aligned"][t].Accuracy:P1}")) + $"  | average {row.Evaluation.Average("aligned"):P1}");

// The pipeline written back as a recipe, and read again: the same merge, parameters, seed and stages.
var ctx = new MergeContext(seed: 0);
var pipeline = ctx.Model.LoadRecipe(recipePath);
using var family = recipe.OpenFamily();
string written = pipeline.ToRecipe(family, new AlignData(zoo)).ToYaml();
var again = MergeRecipe.Parse(written).ToPipeline();
bool sameYaml = written == again.ToRecipe(family, new AlignData(zoo)).ToYaml();
Console.WriteLine($"recipe → pipeline → recipe: {again.Merge.Method.Name} ({string.Join(", ", again.Merge.Parameters.Select(p => p.Key))})" +
                  $" + {string.Join(" + ", again.Stages.Select(s => s.Name))}; identical YAML: {sameYaml}");
var reloaded = ctx.Model.LoadPipeline(output);
var digits = ctx.Data.LoadZooSplit(zoo, "digits");
bool samePredictions = reloaded.Transform("digits", digits).Probabilities.SequenceEqual(new FittedPipeline(result.Merged!, result.Aligned).Transform("digits", digits).Probabilities);
Console.WriteLine($"saved pipeline {output}: {reloaded.Merged.Summary.Method.Name} + {string.Join(" + ", reloaded.Aligned.Select(a => a.Method))}," +
                  $" identical probabilities after reload: {samePredictions}");
return sameYaml && samePredictions ? 0 : 1;

static string FindZoo()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, "data", "zoo", "vision");
        if (File.Exists(Path.Combine(candidate, "manifest.json"))) return candidate;
    }
    throw new DirectoryNotFoundException("data/zoo/vision not found; pass the zoo folder as the first argument.");
}
