using Microsoft.ML;
using MLNetMerge.Data;
using MLNetMerge.MLNet;
using MLNetMerge.Recipes;

namespace MLNetMerge;

/// <summary>
/// Model merging on an <see cref="MLContext"/>: <c>mlContext.Merging()</c>. Load a family (a pretrained base and its
/// fine-tuned copies), pick a merge method (each has a short overload and one taking its Options class, whose defaults
/// are the method's declared parameters), optionally append an alignment stage fitted on unlabeled rows, and fit: the
/// result is a chain of ML.NET's own transformers (ONNX Runtime scoring, <c>Score</c>, <c>PredictedLabel</c>) that
/// composes with ML.NET's trainers and saves with <c>mlContext.Model.Save</c>.
/// <code>
/// var ml = new MLContext(seed: 0);
/// using var family = ml.Merging().LoadFamily("base.safetensors", [("cars", "cars.safetensors"), ("dtd", "dtd.safetensors")]);
/// var model = ml.Merging().Ties(family, keep: 0.2).Append(ml.Merging().FtClassifier()).Fit(unlabeled);
/// ml.Model.Save(model, unlabeled.Schema, "merged.zip");
/// </code>
/// </summary>
public sealed partial class MergingCatalog
{
    private readonly MLContext _ml;

    internal MergingCatalog(MLContext ml) => _ml = ml ?? throw new ArgumentNullException(nameof(ml));

    /// <summary>Opens a family: the base checkpoint and each task's fine-tuned checkpoint (safetensors, sharded
    /// safetensors, PyTorch <c>.bin</c>/<c>.pt</c>, ONNX, or a folder holding one), heads matched by
    /// <see cref="MergeFamilyOptions.Heads"/>. Dispose it to close the files.</summary>
    /// <param name="basePath">The pretrained checkpoint.</param>
    /// <param name="tasks">Task names and their fine-tuned checkpoints, in order.</param>
    /// <param name="options">Head pattern, config and class names; null: the defaults.</param>
    /// <exception cref="CheckpointFormatException">A file is not a checkpoint of a known format.</exception>
    /// <exception cref="IncompatibleModelsException">The checkpoints do not share the base's tensors and shapes.</exception>
    public MergeFamily LoadFamily(string basePath, IEnumerable<(string Task, string Path)> tasks, MergeFamilyOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(basePath);
        ArgumentNullException.ThrowIfNull(tasks);
        var list = tasks.ToList();
        foreach (var (task, path) in list)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(task, nameof(tasks));
            ArgumentException.ThrowIfNullOrWhiteSpace(path, nameof(tasks));
        }
        return MergeFamily.Open(basePath, list, options ?? new MergeFamilyOptions());
    }

    /// <summary>Opens the family of a model zoo folder (its <c>manifest.json</c> names the base, the tasks, their
    /// checkpoints and class names), such as the bundled <c>data/zoo/vision</c> and <c>data/zoo/text</c>.</summary>
    /// <exception cref="CheckpointFormatException">No valid <c>manifest.json</c> in the folder.</exception>
    public MergeFamily LoadZooFamily(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var manifest = ZooManifest.Load(directory);
        return LoadFamily(Path.Combine(directory, manifest.Base), manifest.Tasks.Select(t => (t.Name, Path.Combine(directory, t.Checkpoint))));
    }

    /// <summary>Merges <paramref name="family"/> with the method and settings of <paramref name="options"/> (any
    /// method's Options class); what every method entry of this catalog calls.</summary>
    /// <exception cref="ArgumentException">An unknown task, or a weight for a method that takes none.</exception>
    /// <exception cref="RecipeException">A setting outside the method's declared range.</exception>
    public MergeEstimator Merge(MergeFamily family, MergeOptions options) => new(_ml, family, options);

    /// <summary>Merges <paramref name="family"/> with a method named as in a recipe (ours or mergekit's:
    /// <c>dare_ties</c>, <c>linear</c>, …) and parameters written as in a recipe.</summary>
    /// <param name="family">The base and fine-tuned checkpoints.</param>
    /// <param name="method">The method's recipe name.</param>
    /// <param name="parameters">Parameters by recipe name (<c>keep</c> → <c>0.2</c>); null: the declared defaults.</param>
    /// <param name="task">The task the transformer serves; null: every task.</param>
    /// <param name="seed">The seed; null: drawn from the context.</param>
    /// <exception cref="RecipeException">An unknown method or parameter, or a value outside its declared range.</exception>
    public MergeEstimator Merge(MergeFamily family, string method, IReadOnlyDictionary<string, string>? parameters = null, string? task = null, ulong? seed = null)
    {
        ArgumentNullException.ThrowIfNull(method);
        return Merge(family, new NamedMethodOptions(method, parameters) { Task = task, Seed = seed });
    }

    /// <summary>Runs a recipe file as <c>mlnetmerge run</c> does (its <c>sweep:</c>, merge, <c>align:</c>, <c>evaluate:</c> and
    /// <c>export:</c>, into its <c>output</c>; with <c>export.mlnet</c>, ML.NET zips and their C# in the output's <c>mlnet/</c>
    /// folder); <paramref name="options"/> override the output and report progress.</summary>
    /// <exception cref="RecipeException">The recipe is not valid.</exception>
    /// <exception cref="OutputExistsException">An output exists and <see cref="RecipeOptions.Overwrite"/> is false.</exception>
    /// <exception cref="UnsafeOverwriteException">An output (merge folder, ONNX folder, report) is or holds one of the recipe's
    /// inputs, or is not something an earlier MLNetMerge run wrote (docs/outputs.md); checked before anything runs.</exception>
    public RecipeResult RunRecipe(string recipePath, RecipeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(recipePath);
        options ??= new RecipeOptions();
        var run = RecipeRunner.Run(MergeRecipe.Load(recipePath), new RecipeRunOptions
        {
            Output = options.Output, Overwrite = options.Overwrite, Report = options.Report, Materialize = options.Materialize,
            Log = options.Log, Progress = options.Progress, CancellationToken = options.CancellationToken,
        }.WithModelZips(RecipeModelZips.Writer));
        return new RecipeResult(run);
    }

    /// <summary>Makes MLNetMerge's saved steps (argmax, tokenizer) loadable in this context: call it before
    /// <c>mlContext.Model.Load</c> of a model saved from a merge, in a process that has not built one.</summary>
    public void RegisterAssembly() => _ml.ComponentCatalog.RegisterAssembly(typeof(MergingCatalog).Assembly);
}
