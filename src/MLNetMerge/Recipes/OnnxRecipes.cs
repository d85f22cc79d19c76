using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using MLNetMerge.Checkpoints.Onnx;
using MLNetMerge.Checkpoints.Onnx.Import;
using MLNetMerge.Tensors;

namespace MLNetMerge.Recipes;

/// <summary>
/// The ONNX side of a recipe whose base and models are <c>.onnx</c> files: <see cref="RecipeRunner.Run"/> checks that they
/// form an ONNX family (see <see cref="OnnxFamilyCheck"/>), merges their initializers (read through
/// <see cref="OnnxCheckpointReader"/>), and before renaming the output into place adds <c>model.onnx</c> (the base's graph
/// with the merged initializers) and, for each materialized task, <c>tasks/{task}.onnx</c> (the task's own graph with the
/// merged initializers and its own head; for per-task methods such as EMR, whose tasks are then always materialized, the
/// task's own weights).
/// </summary>
internal static class OnnxRecipes
{
    /// <summary>True when the recipe's base and every model are <c>.onnx</c> files.</summary>
    public static bool IsOnnxRecipe(MergeRecipe recipe) =>
        OnnxFormat.IsOnnxPath(recipe.Base) && recipe.Models.All(m => OnnxFormat.IsOnnxPath(m.Path));

    /// <summary>Opens every model of the recipe and checks it against the base.</summary>
    public static void CheckFamily(MergeRecipe recipe)
    {
        var heads = new HeadFilter(recipe.Heads);
        using var baseModel = OnnxCheckpointReader.Open(recipe.Base);
        OnnxFamilyCheck.CheckSupported(baseModel);
        // The ONNX outputs keep each initializer's type, and are written from the safetensors outputs: a narrower dtype
        // would round every merged value through it on the way (a bfloat16 initializer through float16: ±inf and 0).
        if (recipe.DType is DType.F16 or DType.BF16 && recipe.DType is { } narrow
            && baseModel.Tensors.FirstOrDefault(t => t.DType.IsFloatingPoint() && t.DType != narrow) is { } kept)
            throw new RecipeException(recipe.Source, $"dtype {narrow.ToRecipeName()} cannot apply to ONNX models: model.onnx and tasks/*.onnx keep each " +
                $"initializer's type (initializer '{kept.Name}' of {recipe.Base} is {kept.DType.ToRecipeName()}) and would hold values rounded to {narrow.ToRecipeName()}; leave dtype unset (or float32).");
        foreach (var m in recipe.Models)
        {
            using var other = OnnxCheckpointReader.Open(m.Path);
            OnnxFamilyCheck.Check(baseModel, other, heads);
        }
    }

    /// <summary>Writes <c>model.onnx</c> (and <c>tasks/{task}.onnx</c> for materialized tasks) with the base's graph and the
    /// merged initializers read from the safetensors outputs in <paramref name="output"/>, and, for a torch-exported
    /// encoder, the <c>config.json</c> its import gives (so <c>embed</c> and <c>export</c> need no <c>--config</c>).
    /// Returns the files written, relative to <paramref name="output"/>.</summary>
    internal static IReadOnlyList<string> WriteOnnxOutputs(MergeRecipe recipe, string output, OnnxWriteOptions writeOptions)
    {
        var written = new List<string>();
        // Torch-exported encoders were merged under their imported Hugging Face names: ImportedOnnxCheckpoints maps each
        // initializer back (transposing weights stored [in, out]); other graphs are written by initializer name.
        using var merged = CheckpointReader.Open(output);
        string headsPath = Path.Combine(output, "heads.safetensors");
        using var heads = File.Exists(headsPath) ? SafetensorsReader.Open(headsPath) : null;
        static Func<string, (ICheckpointReader, TensorInfo)?> From(ICheckpointReader values) =>
            name => values.TryGetTensor(name, out var t) ? (values, t) : null;
        using (var baseModel = OnnxCheckpointReader.Open(recipe.Base))
        {
            OnnxInitializerWriter.Write(baseModel, ImportedOnnxCheckpoints.WriteBackSource(baseModel, From(merged)), Path.Combine(output, "model.onnx"), writeOptions);
            written.Add("model.onnx");
            if (ImportedOnnxCheckpoints.IsTorchExport(baseModel) && !File.Exists(Path.Combine(output, "config.json")))
            {
                Data.AtomicFile.Write(Path.Combine(output, "config.json"), s => s.Write(System.Text.Encoding.UTF8.GetBytes(TorchEncoderImporter.Import(baseModel).ConfigJson() + "\n")));
                written.Add("config.json");
            }
        }
        foreach (var m in recipe.Models)
        {
            using var taskGraph = OnnxCheckpointReader.Open(m.Path);
            string target = Path.Combine(output, "tasks", m.Name + ".onnx");
            string materialized = Path.Combine(output, "tasks", m.Name + ".safetensors");
            if (File.Exists(materialized))
            {
                using var taskValues = SafetensorsReader.Open(materialized);
                OnnxInitializerWriter.Write(taskGraph, ImportedOnnxCheckpoints.WriteBackSource(taskGraph, From(taskValues)), target, writeOptions);
                written.Add($"tasks/{m.Name}.onnx");
                continue;
            }
            string prefix = m.Name + ".";
            OnnxInitializerWriter.Write(taskGraph, ImportedOnnxCheckpoints.WriteBackSource(taskGraph, name =>
                heads is not null && heads.TryGetTensor(prefix + name, out var h) ? (heads, h)
                : merged.TryGetTensor(name, out var t) ? (merged, t)
                : null), target, writeOptions);
            written.Add($"tasks/{m.Name}.onnx");
        }
        return written;
    }
}
