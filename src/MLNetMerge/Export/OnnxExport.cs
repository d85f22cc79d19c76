using MLNetMerge.Checkpoints;
using MLNetMerge.Checkpoints.Onnx;
using MLNetMerge.Encoders;
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
    /// with θ0, τuni, packed masks and rescalers, each task's weights built in the graph. Returns the files written, relative to <paramref name="directory"/>.
    /// </summary>
    /// <param name="model">The merged model.</param>
    /// <param name="directory">The output directory.</param>
    /// <param name="options">Architecture and what to write.</param>
    /// <exception cref="ArgumentException">No architecture given, or nothing to write.</exception>
    /// <exception cref="IncompatibleModelsException">A task has no head, a weight is missing, a multi-head export of a per-task
    /// method (whose tasks do not share weights), or a per-task export of a per-task method whose task weights were not materialized.</exception>
    /// <exception cref="OutputExistsException">The directory exists and <see cref="OnnxExportOptions.Overwrite"/> is false.</exception>
    public static IReadOnlyList<string> Write(MergedModel model, string directory, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        if (options.TextPooling is null && model.Architecture?.Text is { } text) options = options with { TextPooling = text.Pooling };
        var architecture = options.Architecture ?? ArchitectureOf(model)
            ?? throw new ArgumentException("the merged model does not know its architecture (no config.json): set OnnxExportOptions.Architecture.", nameof(options));
        if (!options.PerTask && !options.MultiHead && !options.PerTaskSingleFile) throw new ArgumentException("set PerTask, MultiHead or PerTaskSingleFile.", nameof(options));
        if (options.PerTaskSingleFile && options.BaseModel is null) throw new ArgumentException("PerTaskSingleFile needs OnnxExportOptions.BaseModel (the family's base checkpoint).", nameof(options));
        string method = model.Summary.Method.Name;
        if (options.MultiHead && model.Summary.Method.IsPerTask)
            throw new IncompatibleModelsException(null, null, $"{method} gives each task its own weights, so they cannot share one multi-head encoder; export per task.");
        EmrTaskWeights? rebuild = null;
        if (options.PerTask && model.Summary.Method.IsPerTask && model.TaskNames.Any(t => !model.TaskTensors.ContainsKey(t)))
        {
            if (!EmrTaskWeights.CanRebuild(model) || options.BaseModel is null)
                throw new IncompatibleModelsException(null, null,
                    $"{method} gives each task its own weights, but this model does not hold them all (merge with --materialize{(EmrTaskWeights.CanRebuild(model) ? ", or give OnnxExportOptions.BaseModel to rebuild them from the masks and rescalers" : "")}).");
            rebuild = new EmrTaskWeights(model, options.BaseModel);
        }
        var files = new List<string>();
        using var dir = AtomicDirectory.Begin(directory, options.Overwrite);
        if (options.PerTask)
        {
            foreach (var task in model.TaskNames)
            {
                Func<string, float[]?> weights = rebuild is not null && !model.TaskTensors.ContainsKey(task)
                    ? name => Key(model, name) is { } key ? rebuild.Rebuild(task, key) : null
                    : name => Weight(model, task, name);
                OnnxExporter.Export(architecture, weights, [Head(model, task, options)], dir.PathOf(task + ".onnx"), options);
                files.Add(task + ".onnx");
                if (File.Exists(dir.PathOf(task + ".onnx.data"))) files.Add(task + ".onnx.data");
            }
        }
        if (options.MultiHead)
        {
            OnnxExporter.Export(architecture, name => Weight(model, null, name), model.TaskNames.Select(t => Head(model, t, options)).ToList(), dir.PathOf("model.onnx"), options);
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
