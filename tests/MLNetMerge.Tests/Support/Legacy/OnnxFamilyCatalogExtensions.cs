using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Encoders;
using MLNetMerge.Checkpoints.Onnx;

namespace MLNetMerge.Tests;

/// <summary>ONNX families on <see cref="ModelCatalog"/>: load with the graph check, write merged results back as ONNX.</summary>
internal static class OnnxFamilyCatalogExtensions
{
    /// <summary>
    /// Opens a family of ONNX models exported from one base (<c>ctx.Model.LoadOnnxFamily("base.onnx", ("a", "a.onnx"), …)</c>):
    /// checks that every model has the base's graph (<see cref="OnnxFamilyCheck"/>), then opens them as checkpoints —
    /// torch-exported BERT, ViT and CLIP vision encoders under the Hugging Face names and layouts their graphs prove
    /// (anonymous <c>[in, out]</c> Linear weights traced and transposed), other models as their initializers.
    /// </summary>
    /// <exception cref="IncompatibleModelsException">The graphs differ; the first difference is named.</exception>
    /// <exception cref="UnsupportedOnnxModelException">A model uses an operator MLNetMerge does not merge through.</exception>
    /// <exception cref="CheckpointFormatException">A model is truncated or malformed, or its external data is missing.</exception>
    public static ModelFamily LoadOnnxFamily(this ModelCatalog catalog, string basePath, params (string Name, string Path)[] tasks) =>
        LoadOnnxFamily(catalog, basePath, tasks, new ModelFamilyOptions());

    /// <summary>As the overload without options, with a head pattern.</summary>
    public static ModelFamily LoadOnnxFamily(this ModelCatalog catalog, string basePath, IEnumerable<(string Name, string Path)> tasks, ModelFamilyOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        var list = tasks.ToList();
        var opened = new List<OnnxCheckpointReader>();
        try
        {
            var baseModel = OnnxCheckpointReader.Open(basePath);
            opened.Add(baseModel);
            OnnxFamilyCheck.CheckSupported(baseModel);
            var heads = new HeadFilter(options.Heads);
            var members = new List<TaskModel>();
            foreach (var (name, path) in list)
            {
                var r = OnnxCheckpointReader.Open(path);
                opened.Add(r);
                OnnxFamilyCheck.Check(baseModel, r, heads);
                members.Add(new TaskModel(name, r));
            }
            if (!Checkpoints.Onnx.Import.ImportedOnnxCheckpoints.IsTorchExport(baseModel)) return ModelFamily.Create(baseModel, members, heads);
            // Torch-exported encoders: the same graphs, seen under Hugging Face names and layouts.
            var imported = Checkpoints.Onnx.Import.TorchEncoderImporter.Import(baseModel).Tensors;
            var importedMembers = members.Select(m => new TaskModel(m.Name, Checkpoints.Onnx.Import.TorchEncoderImporter.Import((OnnxCheckpointReader)m.Reader).Tensors)).ToList();
            foreach (var r in opened) r.Dispose();
            return ModelFamily.Create(imported, importedMembers, heads);
        }
        catch
        {
            foreach (var r in opened) r.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes a merged model as ONNX with the graph of <paramref name="graphModelPath"/> (the family's base, or a task's
    /// model): each initializer takes the weight <paramref name="task"/> runs with (its own for per-task methods, else the
    /// merged one) and, when <paramref name="task"/> is given, that task's head. Written atomically; returns the files written.
    /// </summary>
    /// <param name="catalog">The model catalog.</param>
    /// <param name="model">The merged model.</param>
    /// <param name="graphModelPath">The ONNX model whose graph is kept.</param>
    /// <param name="outputPath">The <c>.onnx</c> file to write.</param>
    /// <param name="task">The task whose weights and head to use, or null for the shared merged weights and the graph's own head.</param>
    /// <param name="options">Write options.</param>
    /// <exception cref="IncompatibleModelsException">A merged tensor's shape differs from the graph's initializer.</exception>
    public static IReadOnlyList<string> SaveAsOnnx(this ModelCatalog catalog, MergedModel model, string graphModelPath, string outputPath,
        string? task = null, OnnxWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        if (task is not null && !model.TaskNames.Contains(task)) throw new ArgumentException($"'{task}' is not a task of this model.", nameof(task));
        var values = new InMemoryCheckpoint("merged model");
        foreach (var e in model.Layout)
        {
            if (model.RawTensors.ContainsKey(e.Name)) continue;
            values.Add(e.Name, e.Shape, task is null ? model.Tensors[e.Name] : model.TensorFor(task, e.Name));
        }
        if (task is not null)
            foreach (var (name, bytes) in model.Heads[task])
            {
                var entry = model.HeadEntries[$"{task}.{name}"];
                values.AddRaw(name, entry.Shape, entry.DType, bytes);
            }
        using var graph = OnnxCheckpointReader.Open(graphModelPath);
        return OnnxInitializerWriter.Write(graph, Checkpoints.Onnx.Import.ImportedOnnxCheckpoints.WriteBackSource(graph,
            name => values.TryGetTensor(name, out var t) ? (values, t) : null), outputPath, options);
    }
}
