using MLNetMerge.Checkpoints;
using MLNetMerge.Checkpoints.Onnx;
using MLNetMerge.Encoders;
using MLNetMerge.Alignment;
using MLNetMerge.Merging;

namespace MLNetMerge.Export;

/// <summary>Writes a merged model as ONNX files: per task, multi-head, or EMR's single file (see
/// <see cref="OnnxExportOptions"/>).</summary>
internal static class OnnxExport
{
    /// <summary>
    /// Exports a merged model into <paramref name="directory"/> (atomically): with <see cref="OnnxExportOptions.PerTask"/>,
    /// <c>{task}.onnx</c> for every task (the weights that task runs with — its own for per-task methods — and its head);
    /// with <see cref="OnnxExportOptions.MultiHead"/>, <c>model.onnx</c> with the shared weights once and one
    /// <c>logits_{task}</c> output per task; with <see cref="OnnxExportOptions.PerTaskSingleFile"/> (EMR), <c>tasks.onnx</c>
    /// with θ0, τuni, packed masks and rescalers, each task's weights built in the graph; and a <c>manifest.json</c> (format
    /// <c>mlnetmerge.onnx-export</c>) that lets a later export with <see cref="OnnxExportOptions.Overwrite"/> recognise the
    /// folder as its own. Returns the ONNX files written, relative to <paramref name="directory"/>.
    /// </summary>
    /// <param name="model">The merged model.</param>
    /// <param name="directory">The output directory.</param>
    /// <param name="options">Architecture and what to write.</param>
    /// <exception cref="ArgumentException">No architecture given, or nothing to write.</exception>
    /// <exception cref="IncompatibleModelsException">A task has no head, a weight is missing, a multi-head export of a per-task
    /// method (whose tasks do not share weights), or a per-task export of a per-task method whose task weights were not materialized.</exception>
    /// <exception cref="OutputExistsException">The directory exists and <see cref="OnnxExportOptions.Overwrite"/> is false.</exception>
    /// <exception cref="UnsafeOverwriteException">The directory is not a previous MLNetMerge output, or holds an input.</exception>
    public static IReadOnlyList<string> Write(MergedModel model, string directory, OnnxExportOptions options) => Write(model, null, directory, options);

    /// <summary>
    /// <see cref="Write(MergedModel, string, OnnxExportOptions)"/> after an alignment stage fitted on <paramref name="model"/>:
    /// each task's graph runs what the stage gives it (its head, a feature transform fused into the head, a surgery module
    /// before it, re-merged weights or its own tinted block), for the tasks the stage serves. The manifest names the stage.
    /// </summary>
    /// <param name="model">The merged model.</param>
    /// <param name="stage">The stage fitted on it, or null for the merge alone.</param>
    /// <param name="directory">The output directory.</param>
    /// <param name="options">Architecture and what to write.</param>
    /// <exception cref="ArgumentException">No architecture given, nothing to write, or a stage fitted on another merged model.</exception>
    /// <exception cref="IncompatibleModelsException">As the merge alone; also a multi-head export of a stage that gives
    /// tasks their own encoder weights, and EMR's single file with a stage.</exception>
    /// <exception cref="OutputExistsException">The directory exists and <see cref="OnnxExportOptions.Overwrite"/> is false.</exception>
    /// <exception cref="UnsafeOverwriteException">The directory is not a previous MLNetMerge output, or holds an input.</exception>
    public static IReadOnlyList<string> Write(MergedModel model, AlignedModel? stage, string directory, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        if (stage is not null && !ReferenceEquals(stage.Merged, model))
            throw new ArgumentException($"alignment stage '{stage.Method}' was fitted on another merged model.", nameof(stage));
        if (stage is not null && options.PerTaskSingleFile)
            throw new IncompatibleModelsException(null, null, $"EMR's single file builds each task's weights from the merge's masks in the graph; it cannot hold alignment stage '{stage.Method}' (export per task or multi-head, or the merge alone).");
        if (options.TextPooling is null && model.Architecture?.Text is { } text) options = options with { TextPooling = text.Pooling };
        var architecture = options.Architecture ?? ArchitectureOf(model)
            ?? throw new ArgumentException("the merged model does not know its architecture (no config.json): set OnnxExportOptions.Architecture.", nameof(options));
        if (!options.PerTask && !options.MultiHead && !options.PerTaskSingleFile) throw new ArgumentException("set PerTask, MultiHead or PerTaskSingleFile.", nameof(options));
        if (options.PerTaskSingleFile && options.BaseModel is null) throw new ArgumentException("PerTaskSingleFile needs OnnxExportOptions.BaseModel (the family's base checkpoint).", nameof(options));
        string method = model.Summary.Method.Name;
        if (options.MultiHead && model.Summary.Method.IsPerTask)
            throw new IncompatibleModelsException(null, null, $"{method} gives each task its own weights, so they cannot share one multi-head encoder; export per task.");
        var tasks = stage?.TaskNames ?? model.TaskNames;
        // What each task's graph runs after the stage, asked once for the per-task files and the multi-head model.
        var stageExports = stage is null ? null : tasks.ToDictionary(t => t, t => TaskGraphs.ExportOf(model, stage, t, ""), StringComparer.Ordinal);
        EmrTaskWeights? rebuild = null;
        if (options.PerTask && model.Summary.Method.IsPerTask && tasks.Any(t => !model.TaskTensors.ContainsKey(t)))
        {
            if (stage is not null)
                throw new IncompatibleModelsException(null, null, $"{method} gives each task its own weights, but this model does not hold them all (merge with --materialize) for alignment stage '{stage.Method}' to run on.");
            if (!EmrTaskWeights.CanRebuild(model) || options.BaseModel is null)
                throw new IncompatibleModelsException(null, null,
                    $"{method} gives each task its own weights, but this model does not hold them all (merge with --materialize{(EmrTaskWeights.CanRebuild(model) ? ", or give OnnxExportOptions.BaseModel to rebuild them from the masks and rescalers" : "")}).");
            rebuild = new EmrTaskWeights(model, options.BaseModel);
        }
        var files = new List<string>();
        using var dir = AtomicDirectory.Begin(directory, options.Overwrite, options.Inputs, options.Log);
        if (options.PerTask)
        {
            foreach (var task in tasks)
            {
                var aligned = stageExports?[task];
                Func<string, float[]?> weights = aligned is not null ? aligned.Weights
                    : rebuild is not null && !model.TaskTensors.ContainsKey(task)
                    ? name => Key(model, name) is { } key ? rebuild.Rebuild(task, key) : null
                    : name => Weight(model, task, name);
                var head = aligned is not null ? TaskGraphs.HeadOf(task, aligned) : Head(model, task, options);
                OnnxExporter.Export(architecture, weights, [head], dir.PathOf(task + ".onnx"), options);
                files.Add(task + ".onnx");
                if (File.Exists(dir.PathOf(task + ".onnx.data"))) files.Add(task + ".onnx.data");
            }
        }
        if (options.MultiHead)
        {
            if (stage is null)
                OnnxExporter.Export(architecture, name => Weight(model, null, name), tasks.Select(t => Head(model, t, options)).ToList(), dir.PathOf("model.onnx"), options);
            else
            {
                var exports = tasks.Select(t => stageExports![t]).ToList();
                if (exports.Select(e => e.WeightsKey).Distinct().Count() > 1)
                    throw new IncompatibleModelsException(null, null, $"alignment stage '{stage.Method}' gives the tasks their own encoder weights, so they cannot share one multi-head encoder; export per task.");
                OnnxExporter.Export(architecture, exports[0].Weights, tasks.Select((t, i) => TaskGraphs.HeadOf(t, exports[i])).ToList(), dir.PathOf("model.onnx"), options);
            }
            files.Add("model.onnx");
            if (File.Exists(dir.PathOf("model.onnx.data"))) files.Add("model.onnx.data");
        }
        if (options.PerTaskSingleFile)
        {
            var heads = model.TaskNames.Select(t => Head(model, t, options)).ToList();
            var proto = EmrSingleFileExporter.Build(architecture, model, options.BaseModel!, heads, options);
            OnnxModelWriter.Save(proto, dir.PathOf("tasks.onnx"), options.Write);
            files.Add("tasks.onnx");
            if (File.Exists(dir.PathOf("tasks.onnx.data"))) files.Add("tasks.onnx.data");
        }
        ExportManifest.Write(dir.PathOf(ExportManifest.FileName), method, stage?.Method, tasks, files);
        dir.Commit();
        return files;
    }

    /// <summary>A task's weight (or the shared one when <paramref name="task"/> is null), by architecture name.</summary>
    private static float[]? Weight(MergedModel model, string? task, string name)
    {
        if (Key(model, name) is not { } key) return null;
        return task is not null && model.TaskTensors.TryGetValue(task, out var own) && own.TryGetValue(key, out var v) ? v : model.Tensors[key];
    }

    /// <summary>The merged-tensor key of an architecture weight name: under the prefix the model's architecture records, or,
    /// for a model that does not know its architecture, under the first of <see cref="ModelArchitecture.Prefixes"/> it holds.</summary>
    internal static string? Key(MergedModel model, string name) =>
        model.Architecture is { } a ? (model.Tensors.ContainsKey(a.Prefix + name) ? a.Prefix + name : null)
            : ModelArchitecture.Prefixes.Select(p => p + name).FirstOrDefault(model.Tensors.ContainsKey);

    /// <summary>The export architecture of a merged model (ViT/CLIP vision, MLP or text configuration), or null when it
    /// does not know its encoder.</summary>
    public static object? ArchitectureOf(MergedModel model) =>
        model.Architecture is not { } a ? null : a.Vision ?? (object?)a.Mlp ?? a.TextConfig;

    private static OnnxHead Head(MergedModel model, string task, OnnxExportOptions options)
    {
        if (!model.HeadEntries.TryGetValue($"{task}.{options.HeadWeight}", out var w) || w.Shape.Length != 2)
            throw new IncompatibleModelsException(null, options.HeadWeight, $"task '{task}' has no 2-D head weight '{options.HeadWeight}' to export.");
        float[]? bias = model.HeadEntries.ContainsKey($"{task}.{options.HeadBias}") ? model.HeadFloat32(task, options.HeadBias) : null;
        return new OnnxHead(task, model.HeadFloat32(task, options.HeadWeight), bias, w.Shape[0]);
    }
}
