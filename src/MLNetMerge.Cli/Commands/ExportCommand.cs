using System.CommandLine;
using MLNetMerge.Checkpoints;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Checkpoints.Onnx;
using MLNetMerge.Export;
using MLNetMerge.Recipes;

namespace MLNetMerge.Cli.Commands;

/// <summary><c>mlnetmerge export MERGED_DIR --config config.json -o out/onnx [--multi-head] [--single-file --base BASE] [--stage NAME|none]</c>.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var merged = new Argument<string>("merged") { Description = "A merge output directory (manifest.json, model.safetensors, heads.safetensors)." };
        var config = new Option<string?>("--config") { Description = "Hugging Face config.json of the encoder (vit, clip, clip_vision_model, bert, roberta, mlp); default: the config.json the merge output carries." };
        var output = new Option<string>("--output", "-o") { Description = "Output directory.", Required = true };
        var multiHead = new Option<bool>("--multi-head") { Description = "Also write model.onnx: one encoder, logits_{task} per task." };
        var noPerTask = new Option<bool>("--no-per-task") { Description = "Do not write {task}.onnx files." };
        var singleFile = new Option<bool>("--single-file") { Description = "EMR: write tasks.onnx with θ0, τuni, packed masks and rescalers (needs the base)." };
        var basePath = new Option<string?>("--base") { Description = "The family's base checkpoint (for --single-file, or to rebuild EMR task weights not materialized); default: the one manifest.json records, if its SHA-256 still matches." };
        var stageOption = new Option<string?>("--stage") { Description = "The saved alignment stage the graphs run (its method name), or 'none' for the merge alone; default: the output's one stage, if it has one." };
        var force = new Option<bool>("--force") { Description = "Replace an existing output directory." };
        var cmd = new Command("export", "Export a merged model (after its saved alignment stage, if any) to ONNX (opset 17): per task, multi-head, or EMR's single file.");
        cmd.Arguments.Add(merged);
        foreach (var o in new Option[] { config, output, multiHead, noPerTask, singleFile, basePath, stageOption, force }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            if (r.GetValue(noPerTask) && !r.GetValue(multiHead) && !r.GetValue(singleFile))
                throw new MLNetMerge.Errors.MergeException(null, null, "--no-per-task leaves nothing to write: add --multi-head or --single-file.");
            string mergedDir = r.GetValue(merged)!;
            string? baseGiven = r.GetValue(basePath);
            // The export folder must not be (or hold) what the export reads: an overwrite would delete it.
            OutputGuard.CheckHoldsNoInput(OutputGuard.OutputFolder(r.GetValue(output)!), new[] { mergedDir, r.GetValue(config), baseGiven }.OfType<string>());
            var (model, stages) = OutputFormat.LoadPipeline(mergedDir);
            var stage = PickStage(stages, r.GetValue(stageOption), Path.Combine(mergedDir, "manifest.json"));
            object? architecture = r.GetValue(config) is { } configPath ? ModelConfigFile.Load(configPath).Item2 : null;
            // A config for another encoder than the merge's weights: named here, with the file, not as a tensor missing from
            // the model being exported.
            if (r.GetValue(config) is { } given)
                MLNetMerge.Encoders.ModelArchitecture.Load(mergedDir, name => model.Tensors.ContainsKey(name), Path.GetFullPath(given));
            if (architecture is null && model.Architecture is null)
                throw new MLNetMerge.Errors.RecipeException(Path.Combine(mergedDir, "manifest.json"), "the merge output carries no config.json; pass --config config.json (the encoder's Hugging Face config).");
            string? baseFile = baseGiven ?? Recipes.OutputFormat.RecordedBase(mergedDir);
            if (r.GetValue(singleFile) && baseFile is null)
                throw new MLNetMerge.Errors.RecipeException(Path.Combine(r.GetValue(merged)!, "manifest.json"),
                    "--single-file needs the family's base checkpoint: pass --base BASE (the manifest records no base that still exists with its SHA-256).");
            using var baseModel = baseFile is null ? null : CheckpointReader.Open(baseFile);
            var files = OnnxExport.Write(model, stage, r.GetValue(output)!, new OnnxExportOptions
            {
                Architecture = architecture, PerTask = !r.GetValue(noPerTask), MultiHead = r.GetValue(multiHead),
                PerTaskSingleFile = r.GetValue(singleFile), BaseModel = baseModel, Overwrite = r.GetValue(force),
            });
            foreach (var f in files) Console.WriteLine($"  {Path.Combine(r.GetValue(output)!, f)}");
            return 0;
        });
        return cmd;
    }

    /// <summary>The stage <c>--stage</c> names (<c>none</c>: no stage), or by default the output's only stage.</summary>
    /// <exception cref="MLNetMerge.Errors.RecipeException">No saved stage of that name, or several stages and no <c>--stage</c>.</exception>
    private static MLNetMerge.Alignment.AlignedModel? PickStage(IReadOnlyList<MLNetMerge.Alignment.AlignedModel> stages, string? name, string manifest)
    {
        string saved = stages.Count == 0 ? "none" : string.Join(", ", stages.Select(s => s.Method));
        if (name == "none") return null;
        if (name is not null)
        {
            var named = stages.Where(s => s.Method == name).ToList();
            return named.Count == 1 ? named[0] : throw new MLNetMerge.Errors.RecipeException(manifest,
                $"--stage {name}: the output saved {(named.Count == 0 ? "no such stage" : $"{named.Count} stages of that name")} (its stages: {saved}).");
        }
        return stages.Count switch
        {
            0 => null,
            1 => stages[0],
            _ => throw new MLNetMerge.Errors.RecipeException(manifest, $"the output saved {stages.Count} alignment stages ({saved}); pick the one the graphs run with --stage NAME, or --stage none for the merge alone."),
        };
    }
}
