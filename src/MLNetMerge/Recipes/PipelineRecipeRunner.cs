using System.Globalization;
using MLNetMerge.Data;
using MLNetMerge.Evaluation;
using MLNetMerge.Merging;
using YamlDotNet.RepresentationModel;
using MLNetMerge.Alignment;

namespace MLNetMerge.Recipes;

/// <summary>The recipe's <c>export:</c> section: <c>export: { onnx: out/x/onnx, per_task: true, multi_head: false, single_file: false }</c>.</summary>
/// <param name="Onnx">Directory for the ONNX files (relative to the recipe).</param>
/// <param name="PerTask">One <c>{task}.onnx</c> per task. Default true.</param>
/// <param name="MultiHead">One <c>model.onnx</c> with every head. Default false.</param>
/// <param name="SingleFile">EMR's <c>tasks.onnx</c> (per-task weights built in the graph). Default false.</param>
public sealed record ExportSection(string Onnx, bool PerTask = true, bool MultiHead = false, bool SingleFile = false);

/// <summary>Settings of <see cref="PipelineRecipeRunner.Run"/>.</summary>
public sealed class PipelineRunOptions
{
    /// <summary>Where the fitted pipeline is saved (overrides the recipe's <c>output</c>); null with no <c>output</c>: not saved.</summary>
    public string? Output { get; init; }

    /// <summary>Replace existing output and export directories. Default false.</summary>
    public bool Overwrite { get; init; }

    /// <summary>Where alignment stages are looked up (default <see cref="AlignmentMethods.All"/>).</summary>
    public IReadOnlyList<AlignmentMethod>? AlignmentMethods { get; init; }

    /// <summary>Writes the <c>export:</c> section (the ONNX converter lives in MLNetMerge.Onnx: pass
    /// <c>OnnxPipelineExtensions.Exporter</c>); null skips the section with a log line.</summary>
    public Func<FittedPipeline, ExportSection, IReadOnlyList<string>>? Exporter { get; init; }
}

/// <summary>What <see cref="PipelineRecipeRunner.Run"/> did.</summary>
/// <param name="Model">The fitted pipeline.</param>
/// <param name="Chosen">Parameters the <c>sweep:</c> selected on validation (empty without a sweep).</param>
/// <param name="Evaluation">Protocol name → per-task results on test (empty without an <c>evaluate:</c> section).</param>
/// <param name="Output">Where the pipeline was saved, or null.</param>
/// <param name="Exported">Files the export wrote, relative to the export directory.</param>
public sealed record PipelineRunResult(FittedPipeline Model, IReadOnlyDictionary<string, double> Chosen,
    IReadOnlyDictionary<string, EvaluationResults> Evaluation, string? Output, IReadOnlyList<string> Exported);

/// <summary>
/// Runs a recipe end to end, the model-builder-style script: <c>sweep:</c> (select merge parameters on validation),
/// merge, <c>align:</c> (fit the stages on the task data of <c>align.data</c>), save to <c>output</c>, <c>evaluate:</c>
/// (each protocol on the zoo's test splits) and <c>export:</c>.
/// </summary>
public static class PipelineRecipeRunner
{
    /// <summary>Runs every section the recipe has.</summary>
    /// <param name="recipe">The recipe.</param>
    /// <param name="options">Output, overwrite, stage registry and exporter.</param>
    /// <param name="log">Progress lines.</param>
    /// <param name="progress">Stage progress (merge, alignment, evaluation).</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <exception cref="RecipeException">A malformed section or an unknown stage.</exception>
    public static PipelineRunResult Run(MergeRecipe recipe, PipelineRunOptions? options = null, Action<string>? log = null,
        IProgress<MergeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        options ??= new PipelineRunOptions();
        log ??= _ => { };
        var ctx = new MergeContext(checked((int)recipe.Seed));
        var export = ReadExportSection(recipe);

        var chosen = new Dictionary<string, double>(StringComparer.Ordinal);
        if (RecipeEvaluator.ReadSweep(recipe).Count > 0)
        {
            log("sweep: selecting merge parameters on validation");
            chosen = new Dictionary<string, double>(RecipeEvaluator.Evaluate(recipe, log, progress: progress, cancellationToken: cancellationToken).Merged.Hyperparameters, StringComparer.Ordinal);
            log($"sweep: chose {RecipeEvaluator.Describe(chosen)}");
            recipe = WithParameters(recipe, chosen);
        }
        var pipeline = recipe.ToPipeline(options.AlignmentMethods);
        using var family = recipe.OpenFamily();
        IReadOnlyDictionary<string, TaskDataset>? data = null;
        if (pipeline.Stages.Count > 0)
        {
            var spec = AlignSection.Read(recipe).Data;
            string zoo = spec.Zoo ?? Path.GetDirectoryName(Path.GetFullPath(recipe.Base))!;
            bool validation = spec.Split == "validation" || pipeline.Stages.Any(s => s.Consumes == DataRequirement.LabeledValidation);
            // Few-shot stages see labels only to balance their draw (never in a loss); the others see what they consume.
            bool labeled = pipeline.Stages.Any(s => s is Alignment.IFewShotAlignmentEstimator || s.Consumes is DataRequirement.LabeledValidation or DataRequirement.Training);
            var loaded = ctx.Data.LoadZoo(zoo, validation ? "validation" : "test", family.TaskNames, cancellationToken)
                .ToDictionary(kv => kv.Key, kv => Alignment.AlignmentEvaluator.Sample(kv.Value, spec.Samples, recipe.Seed), StringComparer.Ordinal);
            data = labeled ? loaded : ctx.Data.DropLabels(loaded);
            log($"align: {pipeline.Stages.Count} stage(s) ({string.Join(", ", pipeline.Stages.Select(s => s.Name))}) on {(validation ? "validation" : "test")} data of {data.Count} tasks, {(labeled ? "labeled" : "labels dropped")}");
        }
        log($"merge: {pipeline.Merge.Method.Name} over {family.Tasks.Count} models");
        var fitted = pipeline.Fit(new MergeInputs(family, data), progress, cancellationToken);

        string? output = options.Output ?? recipe.Output;
        if (output is not null)
        {
            ctx.Model.Save(fitted, output, options.Overwrite);
            // The pipeline as it ran (sweep choices baked into the parameters), as a recipe that loads into the same pipeline.
            AlignData? align = pipeline.Stages.Count == 0 ? null : AlignSection.Read(recipe).Data is var d && d.Zoo is null
                ? d with { Zoo = Path.GetDirectoryName(Path.GetFullPath(recipe.Base)) } : AlignSection.Read(recipe).Data;
            File.WriteAllText(Path.Combine(output, "recipe.yaml"), pipeline.ToRecipe(family, align, output).ToYaml());
            log($"saved: {output} (pipeline and recipe.yaml)");
        }

        var evaluation = new Dictionary<string, EvaluationResults>(StringComparer.Ordinal);
        if (recipe.Sections.ContainsKey("evaluate"))
        {
            var section = RecipeEvaluator.ReadEvaluateSection(recipe);
            string zoo = section.Zoo ?? Path.GetDirectoryName(Path.GetFullPath(recipe.Base))!;
            var test = ctx.Data.LoadZoo(zoo, "test", family.TaskNames, cancellationToken);
            var validation = ctx.Data.LoadZoo(zoo, "validation", family.TaskNames, cancellationToken);
            var protocols = new List<EvaluationProtocol>();
            foreach (var p in section.Protocols)
            {
                if (p == "current") protocols.Add(ctx.Evaluation.Current());
                else if (p == "knn") protocols.Add(ctx.Evaluation.Knn(section.Shots, section.Seeds));
                else
                {
                    protocols.AddRange(section.FtcShots.Select(k => ctx.Evaluation.FtClassifier(family, validation, k, section.Seeds, cancellationToken)));
                }
            }
            foreach (var protocol in protocols)
            {
                evaluation[protocol.Name] = ctx.Evaluation.Evaluate(fitted, test, protocol, validation, progress, cancellationToken);
                log($"evaluate: {protocol.Name} average test accuracy {evaluation[protocol.Name].AverageAccuracy.ToString("P1", CultureInfo.InvariantCulture)}");
            }
        }

        var exported = new List<string>();
        if (export is not null)
        {
            if (options.Exporter is null) log("export: skipped (no exporter given; the ONNX converter is in MLNetMerge.Onnx)");
            else
            {
                exported.AddRange(options.Exporter(fitted, export));
                log($"export: {exported.Count} file(s) in {export.Onnx}");
            }
        }
        return new PipelineRunResult(fitted, chosen, evaluation, output, exported);
    }

    /// <summary>Reads the <c>export:</c> section, or null when the recipe has none.</summary>
    /// <exception cref="RecipeException">Unknown key or bad value.</exception>
    public static ExportSection? ReadExportSection(MergeRecipe recipe)
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
                case "onnx": onnx = Path.IsPathRooted(value) || recipe.Source is null ? value : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(recipe.Source))!, value)); break;
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

    private static MergeRecipe WithParameters(MergeRecipe r, IReadOnlyDictionary<string, double> values)
    {
        var parameters = new Dictionary<string, ParameterValue>(r.Parameters, StringComparer.Ordinal);
        foreach (var (k, v) in values) parameters[k] = new ParameterValue.Scalar(v);
        return new MergeRecipe
        {
            Method = r.Method, ImpliedParameters = r.ImpliedParameters, Base = r.Base, Models = r.Models, Parameters = parameters, Heads = r.Heads,
            DType = r.DType, Seed = r.Seed, Output = r.Output, MaxShardBytes = r.MaxShardBytes, AllowNonFinite = r.AllowNonFinite,
            Materialize = r.Materialize, Sections = r.Sections, Source = r.Source,
        };
    }
}
