using MLNetMerge.Merging;
using MLNetMerge.Export;

namespace MLNetMerge.Tests;

/// <summary>ONNX conversion of fitted pipelines on <see cref="ModelCatalog"/> (<c>ctx.Model.ConvertToOnnx(fitted, …)</c>).</summary>
internal static class OnnxPipelineExtensions
{
    /// <summary>
    /// Exports a fitted pipeline as <see cref="OnnxModelCatalogExtensions.ConvertToOnnx"/> exports a merged model, with the
    /// heads of the last alignment stage that learned heads (<see cref="FittedPipeline.ExportModel"/>). The architecture
    /// defaults to the pipeline's <c>config.json</c> when <see cref="OnnxExportOptions.Architecture"/> is not set.
    /// </summary>
    /// <param name="catalog">The model catalog (<c>ctx.Model</c>).</param>
    /// <param name="model">The fitted pipeline.</param>
    /// <param name="directory">The output directory.</param>
    /// <param name="options">What to write.</param>
    /// <returns>The files written, relative to <paramref name="directory"/>.</returns>
    /// <exception cref="IncompatibleModelsException">A stage learned more than heads (transforms, coefficients), which an
    /// encoder-plus-head graph cannot hold; or the errors of the merged-model export.</exception>
    /// <exception cref="ArgumentException">No architecture given and none recorded in the pipeline.</exception>
    public static IReadOnlyList<string> ConvertToOnnx(this ModelCatalog catalog, FittedPipeline model, string directory, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        return OnnxExport.Write(model.ExportModel(), directory, options ?? new OnnxExportOptions());
    }
}
