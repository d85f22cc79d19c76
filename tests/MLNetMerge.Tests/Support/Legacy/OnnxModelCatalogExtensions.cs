using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Export;
using MLNetMerge.Checkpoints.Onnx;

namespace MLNetMerge.Tests;

/// <summary>ONNX conversion on <see cref="ModelCatalog"/> (<c>ctx.Model.ConvertToOnnx(...)</c>), as ML.NET's OnnxConverter adds it.</summary>
internal static class OnnxModelCatalogExtensions
{
    /// <summary>
    /// Exports a merged model into <paramref name="directory"/> (atomically): with <see cref="OnnxExportOptions.PerTask"/>,
    /// <c>{task}.onnx</c> for every task (the weights that task runs with — its own for per-task methods — and its head);
    /// with <see cref="OnnxExportOptions.MultiHead"/>, <c>model.onnx</c> with the shared weights once and one
    /// <c>logits_{task}</c> output per task; with <see cref="OnnxExportOptions.PerTaskSingleFile"/> (EMR), <c>tasks.onnx</c>
    /// with θ0, τuni, packed masks and rescalers, each task's weights built in the graph. Returns the files written, relative to <paramref name="directory"/>.
    /// </summary>
    /// <param name="catalog">The model catalog (<c>ctx.Model</c>).</param>
    /// <param name="model">The merged model.</param>
    /// <param name="directory">The output directory.</param>
    /// <param name="options">Architecture and what to write.</param>
    /// <exception cref="ArgumentException">No architecture given, or nothing to write.</exception>
    /// <exception cref="IncompatibleModelsException">A task has no head, a weight is missing, a multi-head export of a per-task
    /// method (whose tasks do not share weights), or a per-task export of a per-task method whose task weights were not materialized.</exception>
    /// <exception cref="OutputExistsException">The directory exists and <see cref="OnnxExportOptions.Overwrite"/> is false.</exception>
    public static IReadOnlyList<string> ConvertToOnnx(this ModelCatalog catalog, MergedModel model, string directory, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return OnnxExport.Write(model, directory, options);
    }
}
