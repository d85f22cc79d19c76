using System.CommandLine;
using MLNetMerge.Checkpoints;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Checkpoints.Onnx;
using MLNetMerge.Export;
using MLNetMerge.Recipes;

namespace MLNetMerge.Cli.Commands;

/// <summary><c>mlnetmerge export MERGED_DIR --config config.json -o out/onnx [--multi-head] [--single-file --base BASE]</c>.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var merged = new Argument<string>("merged") { Description = "A merge output directory (manifest.json, model.safetensors, heads.safetensors)." };
        var config = new Option<string>("--config") { Description = "Hugging Face config.json of the encoder (vit, clip, clip_vision_model, bert, roberta, mlp).", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "Output directory.", Required = true };
        var multiHead = new Option<bool>("--multi-head") { Description = "Also write model.onnx: one encoder, logits_{task} per task." };
        var noPerTask = new Option<bool>("--no-per-task") { Description = "Do not write {task}.onnx files." };
        var singleFile = new Option<bool>("--single-file") { Description = "EMR: write tasks.onnx with θ0, τuni, packed masks and rescalers (needs the base)." };
        var basePath = new Option<string?>("--base") { Description = "The family's base checkpoint (for --single-file, or to rebuild EMR task weights not materialized); default: the one manifest.json records, if its SHA-256 still matches." };
        var force = new Option<bool>("--force") { Description = "Replace an existing output directory." };
        var cmd = new Command("export", "Export a merged model to ONNX (opset 17): per task, multi-head, or EMR's single file.");
        cmd.Arguments.Add(merged);
        foreach (var o in new Option[] { config, output, multiHead, noPerTask, singleFile, basePath, force }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            var model = OutputFormat.LoadMerged(r.GetValue(merged)!);
            var (_, architecture) = ModelConfigFile.Load(r.GetValue(config)!);
            string? baseFile = r.GetValue(basePath) ?? RecordedBase(r.GetValue(merged)!);
            if (r.GetValue(singleFile) && baseFile is null)
                throw new MLNetMerge.Errors.RecipeException(Path.Combine(r.GetValue(merged)!, "manifest.json"),
                    "--single-file needs the family's base checkpoint: pass --base BASE (the manifest records no base that still exists with its SHA-256).");
            using var baseModel = baseFile is null ? null : CheckpointReader.Open(baseFile);
            var files = OnnxExport.Write(model, r.GetValue(output)!, new OnnxExportOptions
            {
                Architecture = architecture, PerTask = !r.GetValue(noPerTask), MultiHead = r.GetValue(multiHead),
                PerTaskSingleFile = r.GetValue(singleFile), BaseModel = baseModel, Overwrite = r.GetValue(force),
            });
            foreach (var f in files) Console.WriteLine($"  {Path.Combine(r.GetValue(output)!, f)}");
            return 0;
        });
        return cmd;
    }

    /// <summary>The base checkpoint a <c>mlnetmerge merge</c> output records in its manifest, when it still exists with the recorded SHA-256.</summary>
    private static string? RecordedBase(string directory)
    {
        string manifest = Path.Combine(directory, "manifest.json");
        if (!File.Exists(manifest)) return null;
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(manifest));
        var root = doc.RootElement;
        // The base is recorded relative to the output folder (older outputs: absolute).
        if (!root.TryGetProperty("base", out var b) || b.GetString() is not { } recorded) return null;
        string path = Path.GetFullPath(Path.Combine(directory, recorded));
        if (!File.Exists(path)) return null;
        if (root.TryGetProperty("base_sha256", out var h) && h.GetString() is { } sha && FileHashes.Sha256(path) != sha) return null;
        return path;
    }
}
