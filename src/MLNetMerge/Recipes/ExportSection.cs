using YamlDotNet.RepresentationModel;

namespace MLNetMerge.Recipes;

/// <summary>The recipe's <c>export:</c> section: <c>export: { onnx: out/x/onnx, per_task: true, multi_head: false, single_file: false,
/// mlnet: per_task, mlnet_input: ImagePath }</c>.</summary>
/// <param name="Onnx">Directory for the ONNX files, absolute; null when the section asks only for ML.NET zips.</param>
/// <param name="PerTask">One <c>{task}.onnx</c> per task. Default true.</param>
/// <param name="MultiHead">One <c>model.onnx</c> with every head. Default false.</param>
/// <param name="SingleFile">EMR's <c>tasks.onnx</c> (per-task weights built in the graph). Default false.</param>
internal sealed record ExportSection(string? Onnx, bool PerTask = true, bool MultiHead = false, bool SingleFile = false)
{
    /// <summary><c>mlnet: per_task | multi_head</c>: ML.NET model zips in the output's <c>mlnet/</c> folder, with their
    /// consumption and training C#. Default <see cref="MLNetZipLayout.None"/>.</summary>
    public MLNetZipLayout MLNet { get; init; }

    /// <summary><c>mlnet_input</c>: the zips' input column, a text column of image paths (vision) or of text (text
    /// encoders). Default null: <c>ImagePath</c> or <c>Text</c>.</summary>
    public string? MLNetInput { get; init; }

    /// <summary>Columns of the zips' pipeline (the model's inputs and outputs, the label), which the input column may not be.</summary>
    private static readonly string[] ReservedColumns =
        [MergeColumns.PixelValues, MergeColumns.InputIds, MergeColumns.AttentionMask, MergeColumns.Embedding, MergeColumns.Score, MergeColumns.PredictedLabel, MergeColumns.Task, "Label", "Features"];

    /// <summary>Reads the <c>export:</c> section, or null when the recipe has none.</summary>
    /// <exception cref="RecipeException">Unknown key, bad value, no <c>onnx</c>, or nothing to write.</exception>
    public static ExportSection? Read(MergeRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        if (!recipe.Sections.TryGetValue("export", out var node)) return null;
        if (node is not YamlMappingNode map) throw new RecipeException(recipe.Source, "export: expected a mapping { onnx, per_task, multi_head, single_file, mlnet, mlnet_input }.");
        string? onnx = null, mlnetInput = null;
        var mlnet = MLNetZipLayout.None;
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
                case "mlnet":
                    mlnet = value switch
                    {
                        "per_task" => MLNetZipLayout.PerTask,
                        "multi_head" => MLNetZipLayout.MultiHead,
                        _ => throw new RecipeException(recipe.Source, $"export.mlnet: '{value}'; expected per_task or multi_head."),
                    };
                    break;
                case "mlnet_input":
                    mlnetInput = System.Text.RegularExpressions.Regex.IsMatch(value, "^[A-Za-z_][A-Za-z0-9_]*$") ? value
                        : throw new RecipeException(recipe.Source, $"export.mlnet_input: '{value}' is not a column name (letters, digits and _, not starting with a digit).");
                    if (ReservedColumns.Contains(mlnetInput, StringComparer.Ordinal))
                        throw new RecipeException(recipe.Source, $"export.mlnet_input: '{value}' is a column the zips' pipeline writes or reads itself ({string.Join(", ", ReservedColumns)}); name the input column otherwise.");
                    break;
                default: throw new RecipeException(recipe.Source, $"export: unknown key '{key}'; expected onnx, per_task, multi_head, single_file, mlnet or mlnet_input.");
            }
        }
        if (onnx is null && mlnet == MLNetZipLayout.None) throw new RecipeException(recipe.Source, "export: missing 'onnx' (the directory to write) or 'mlnet' (ML.NET zips).");
        if (onnx is not null && !perTask && !multiHead && !singleFile) throw new RecipeException(recipe.Source, "export: per_task, multi_head and single_file are all false; nothing to write.");
        if (mlnetInput is not null && mlnet == MLNetZipLayout.None) throw new RecipeException(recipe.Source, "export.mlnet_input: names the input column of ML.NET zips; add 'mlnet: per_task' or 'mlnet: multi_head'.");
        return new ExportSection(onnx, perTask, multiHead, singleFile) { MLNet = mlnet, MLNetInput = mlnetInput };
    }
}
