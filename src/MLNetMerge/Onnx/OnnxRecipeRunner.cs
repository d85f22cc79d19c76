using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;

namespace MLNetMerge.Onnx;

/// <summary>
/// Runs a recipe whose base and models are <c>.onnx</c> files: checks that they form an ONNX family (see
/// <see cref="OnnxFamilyCheck"/>), merges their initializers with <see cref="RecipeRunner.Merge"/> (which reads them
/// through <see cref="OnnxCheckpointReader"/>, so <see cref="OnnxFormat.Register"/> must have been called), then adds to
/// the output directory <c>model.onnx</c> (the base's graph with the merged initializers) and, for each task,
/// <c>tasks/{task}.onnx</c> (the task's own graph with the merged initializers and its own head; for per-task methods
/// such as EMR, whose tasks are then always materialized, the task's own weights). If writing the ONNX files fails, the
/// output directory is removed.
/// </summary>
public static class OnnxRecipeRunner
{
    /// <summary>True when the recipe's base and every model are <c>.onnx</c> files.</summary>
    public static bool IsOnnxRecipe(MergeRecipe recipe) =>
        OnnxFormat.IsOnnxPath(recipe.Base) && recipe.Models.All(m => OnnxFormat.IsOnnxPath(m.Path));

    /// <summary>Checks the family, merges, and writes the ONNX outputs; returns the merge summary.</summary>
    /// <exception cref="IncompatibleModelsException">The graphs differ (the first difference is named), or only some inputs are ONNX.</exception>
    /// <exception cref="UnsupportedOnnxModelException">A model uses an operator MLNetMerge does not merge through.</exception>
    /// <exception cref="CheckpointFormatException">A model is truncated or malformed, or its external data is missing.</exception>
    public static MergeSummary Merge(MergeRecipe recipe, RecipeRunOptions? options = null, OnnxWriteOptions? writeOptions = null,
        IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new RecipeRunOptions();
        if (!IsOnnxRecipe(recipe))
            throw new IncompatibleModelsException(recipe.Base, null, "an ONNX merge needs the base and every model to be .onnx files.");
        string output = Path.GetFullPath(options.Output ?? recipe.Output ?? throw new RecipeException(recipe.Source, "no output directory: set 'output' or pass --output."));
        if (!options.Overwrite && (Directory.Exists(output) || File.Exists(output))) throw new OutputExistsException(output);
        CheckFamily(recipe);
        // A per-task method's model.safetensors holds unified weights that no task runs with: materialize every task so
        // that each tasks/{task}.onnx carries that task's own weights.
        if (recipe.ResolveParameters().Method.IsPerTask)
            options = new RecipeRunOptions
            {
                Overwrite = options.Overwrite, Output = options.Output, MaxThreads = options.MaxThreads, MemoryMap = options.MemoryMap,
                Materialize = options.Materialize.Concat(recipe.Models.Select(m => m.Name)).Distinct(StringComparer.Ordinal).ToList(),
            };
        var summary = RecipeRunner.Merge(recipe, options, progress, cancellationToken);
        try
        {
            WriteOnnxOutputs(recipe, output, writeOptions ?? new OnnxWriteOptions());
        }
        catch
        {
            try { Directory.Delete(output, recursive: true); } catch (IOException) { }
            throw;
        }
        return summary;
    }

    /// <summary>Opens every model of the recipe and checks it against the base.</summary>
    public static void CheckFamily(MergeRecipe recipe)
    {
        var heads = new HeadFilter(recipe.Heads);
        using var baseModel = OnnxCheckpointReader.Open(recipe.Base);
        OnnxFamilyCheck.CheckSupported(baseModel);
        foreach (var m in recipe.Models)
        {
            using var other = OnnxCheckpointReader.Open(m.Path);
            OnnxFamilyCheck.Check(baseModel, other, heads);
        }
    }

    private static void WriteOnnxOutputs(MergeRecipe recipe, string output, OnnxWriteOptions writeOptions)
    {
        // Torch-exported encoders were merged under their imported Hugging Face names: Import.ImportedOnnxCheckpoints maps
        // each initializer back (transposing weights stored [in, out]); other graphs are written by initializer name.
        using var merged = CheckpointReader.Open(output);
        string headsPath = Path.Combine(output, "heads.safetensors");
        using var heads = File.Exists(headsPath) ? SafetensorsReader.Open(headsPath) : null;
        static Func<string, (ICheckpointReader, TensorInfo)?> From(ICheckpointReader values) =>
            name => values.TryGetTensor(name, out var t) ? (values, t) : null;
        using (var baseModel = OnnxCheckpointReader.Open(recipe.Base))
            OnnxInitializerWriter.Write(baseModel, Import.ImportedOnnxCheckpoints.WriteBackSource(baseModel, From(merged)), Path.Combine(output, "model.onnx"), writeOptions);
        foreach (var m in recipe.Models)
        {
            using var taskGraph = OnnxCheckpointReader.Open(m.Path);
            string target = Path.Combine(output, "tasks", m.Name + ".onnx");
            string materialized = Path.Combine(output, "tasks", m.Name + ".safetensors");
            if (File.Exists(materialized))
            {
                using var taskValues = SafetensorsReader.Open(materialized);
                OnnxInitializerWriter.Write(taskGraph, Import.ImportedOnnxCheckpoints.WriteBackSource(taskGraph, From(taskValues)), target, writeOptions);
                continue;
            }
            string prefix = m.Name + ".";
            OnnxInitializerWriter.Write(taskGraph, Import.ImportedOnnxCheckpoints.WriteBackSource(taskGraph, name =>
                heads is not null && heads.TryGetTensor(prefix + name, out var h) ? (heads, h)
                : merged.TryGetTensor(name, out var t) ? (merged, t)
                : null), target, writeOptions);
        }
    }
}
