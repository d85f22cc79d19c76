using System.Text.Json;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Merging;

namespace MLNetMerge.Onnx;

/// <summary>ONNX conversion of fitted pipelines on <see cref="ModelCatalog"/> (<c>ctx.Model.ConvertToOnnx(fitted, …)</c>).</summary>
public static class OnnxPipelineExtensions
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
        options ??= new OnnxExportOptions();
        object architecture = options.Architecture ?? Architecture(model.Merged)
            ?? throw new ArgumentException("the pipeline records no architecture (config.json); set OnnxExportOptions.Architecture.", nameof(options));
        var resolved = new OnnxExportOptions
        {
            Architecture = architecture, PerTask = options.PerTask, MultiHead = options.MultiHead, PerTaskSingleFile = options.PerTaskSingleFile,
            BaseModel = options.BaseModel, HeadWeight = options.HeadWeight, HeadBias = options.HeadBias, BatchDimension = options.BatchDimension,
            Overwrite = options.Overwrite, Write = options.Write,
        };
        return catalog.ConvertToOnnx(model.ExportModel(), directory, resolved);
    }

    /// <summary>The exporter <see cref="Recipes.PipelineRecipeRunner"/> calls for a recipe's <c>export:</c> section
    /// (single-file EMR exports read θ0 from the recipe's base checkpoint).</summary>
    /// <param name="recipe">The recipe being run.</param>
    /// <param name="overwrite">Replace an existing export directory.</param>
    public static Func<FittedPipeline, Recipes.ExportSection, IReadOnlyList<string>> Exporter(Recipes.MergeRecipe recipe, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        return (model, section) =>
        {
            using var baseModel = section.SingleFile ? Checkpoints.CheckpointReader.Open(recipe.Base) : null;
            return new MergeContext().Model.ConvertToOnnx(model, section.Onnx, new OnnxExportOptions
            {
                PerTask = section.PerTask, MultiHead = section.MultiHead, PerTaskSingleFile = section.SingleFile, BaseModel = baseModel, Overwrite = overwrite,
            });
        };
    }

    /// <summary>The export architecture of a merged model (ViT/CLIP vision, MLP or text configuration), or null when it
    /// does not know its encoder.</summary>
    internal static object? Architecture(MergedModel merged) =>
        merged.Architecture is not { } a ? null : a.Vision ?? (object?)a.Mlp ?? a.TextConfig;
}
