using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using MLNetMerge.Tensors;
using MLNetMerge.Alignment;

namespace MLNetMerge.Tests;

/// <summary>Saving and loading fitted pipelines, and loading recipes as pipelines.</summary>
internal sealed partial class ModelCatalog
{
    /// <summary>File holding every alignment stage's state tensors, named <c>stage{i}/{tensor}</c>.</summary>
    public const string StagesFile = OutputFormat.StagesFile;

    /// <summary>
    /// Saves a fitted pipeline into <paramref name="directory"/> atomically, in the merged-model format plus the
    /// encoder's description files (<c>config.json</c>, tokenizer and pooling files, when known), <c>stages.safetensors</c>
    /// (each stage's <see cref="AlignedModel.State"/>) and, in <c>manifest.json</c>, the seed and each stage's method and parameters.
    /// </summary>
    /// <exception cref="OutputExistsException">The directory exists and <paramref name="overwrite"/> is false.</exception>
    /// <exception cref="ArgumentException">A stage's state tensor has a shape that does not match its values.</exception>
    public void Save(FittedPipeline model, string directory, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var dir = AtomicDirectory.Begin(directory, overwrite);
        OutputWriter.WriteMerged(dir, model.Merged);
        var modelFiles = OutputWriter.CopyModelFiles(model.Merged.Architecture, dir);
        OutputWriter.WriteStages(model.Aligned, dir);
        ulong seed = (model.Pipeline?.Merge as MergeEstimator)?.Seed ?? 0;
        OutputWriter.WriteManifest(dir.PathOf("manifest.json"), model.Merged.Summary, more: OutputWriter.PipelineEntries(seed, modelFiles.Count > 0, model.Aligned));
        dir.Commit();
    }

    /// <summary>
    /// Loads a pipeline saved by <see cref="Save(FittedPipeline, string, bool)"/> or written by a recipe run (or a merged
    /// model, as a pipeline without stages). Each stage is restored through its registry entry's
    /// <see cref="AlignmentMethod.Restore"/> from its parameters and saved state, and the estimator chain is rebuilt
    /// (<see cref="FittedPipeline.Pipeline"/>).
    /// </summary>
    /// <param name="directory">The saved directory.</param>
    /// <param name="alignmentMethods">Where stage names are looked up (default <see cref="AlignmentMethods.All"/>; pass your
    /// own list to restore stages of your own).</param>
    /// <exception cref="ModelFormatVersionException">A foreign format, or a version this library does not read.</exception>
    /// <exception cref="CheckpointFormatException">A stage's state tensor named in the manifest is missing.</exception>
    /// <exception cref="RecipeException">A stage the registry does not know.</exception>
    public FittedPipeline LoadPipeline(string directory, IReadOnlyList<AlignmentMethod>? alignmentMethods = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        using var doc = OutputFormat.OpenManifest(directory, out string manifestPath);
        var root = doc.RootElement;
        var merged = OutputFormat.WithArchitecture(OutputFormat.ReadMerged(directory, root, manifestPath), directory, root, manifestPath);
        var parameters = merged.Summary.Parameters;
        var perModel = new Dictionary<string, IReadOnlyDictionary<string, ParameterValue>>(StringComparer.Ordinal);
        for (int i = 0; i < merged.TaskNames.Count; i++)
            if (parameters.PerModel(i).Count > 0) perModel[merged.TaskNames[i]] = parameters.PerModel(i);
        var estimator = new MergeEstimator(merged.Summary.Method, parameters.Effective(), perModel, OutputFormat.Seed(root));
        var (aligned, stages) = OutputFormat.ReadStages(directory, root, manifestPath, merged, alignmentMethods);
        return new FittedPipeline(merged, aligned) { Pipeline = MergePipeline.Create(estimator, stages) };
    }

    /// <summary>Reads a recipe file as a pipeline (merge, then its <c>align.stages</c>); open its checkpoints with
    /// <see cref="MergeRecipe.OpenFamily"/>.</summary>
    /// <exception cref="RecipeException">Invalid recipe, or an unknown stage.</exception>
    public MergePipeline LoadRecipe(string path, IReadOnlyList<AlignmentMethod>? alignmentMethods = null) =>
        MergeRecipe.Load(path).ToPipeline(alignmentMethods);

}
