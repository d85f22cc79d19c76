using YamlDotNet.RepresentationModel;

namespace MLNetMerge.Recipes;

/// <summary>The recipe's <c>export:</c> section: <c>export: { onnx: out/x/onnx, per_task: true, multi_head: false, single_file: false }</c>.</summary>
/// <param name="Onnx">Directory for the ONNX files, absolute.</param>
/// <param name="PerTask">One <c>{task}.onnx</c> per task. Default true.</param>
/// <param name="MultiHead">One <c>model.onnx</c> with every head. Default false.</param>
/// <param name="SingleFile">EMR's <c>tasks.onnx</c> (per-task weights built in the graph). Default false.</param>
internal sealed record ExportSection(string Onnx, bool PerTask = true, bool MultiHead = false, bool SingleFile = false)
{
    /// <summary>Reads the <c>export:</c> section, or null when the recipe has none.</summary>
    /// <exception cref="RecipeException">Unknown key, bad value, no <c>onnx</c>, or nothing to write.</exception>
    public static ExportSection? Read(MergeRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        if (!recipe.Sections.TryGetValue("export", out var node)) return null;
        if (node is not YamlMappingNode map) throw new RecipeException(recipe.Source, "export: expected a mapping { onnx, per_task, multi_head, single_file }.");
        string? onnx = null;
        bool perTask = true, multiHead = false, singleFile = false;
        foreach (var (k, v) in map.Children)
        {
            string key = (k as YamlScalarNode)?.Value ?? "";
            string value = (v as YamlScalarNode)?.Value ?? throw new RecipeException(recipe.Source, $"export.{key}: expected a single value.");
            bool Flag() => bool.TryParse(value, out var b) ? b : throw new RecipeException(recipe.Source, $"export.{key}: '{value}' is not true or false.");
            switch (key)
            {
                case "onnx": onnx = recipe.ResolvePath(value); break;
                case "per_task": perTask = Flag(); break;
                case "multi_head": multiHead = Flag(); break;
                case "single_file": singleFile = Flag(); break;
                default: throw new RecipeException(recipe.Source, $"export: unknown key '{key}'; expected onnx, per_task, multi_head or single_file.");
            }
        }
        if (onnx is null) throw new RecipeException(recipe.Source, "export: missing 'onnx' (the directory to write).");
        if (!perTask && !multiHead && !singleFile) throw new RecipeException(recipe.Source, "export: per_task, multi_head and single_file are all false; nothing to write.");
        return new ExportSection(onnx, perTask, multiHead, singleFile);
    }
}
