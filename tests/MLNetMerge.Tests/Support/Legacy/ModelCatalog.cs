using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using MLNetMerge.Tensors;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests;

/// <summary>Model operations (ML.NET's ModelOperationsCatalog): load families, save and load merged models.</summary>
internal sealed partial class ModelCatalog
{
    /// <summary>On-disk format name written to <c>manifest.json</c>.</summary>
    public const string FormatName = OutputFormat.FormatName;

    /// <summary>On-disk format version this library writes.</summary>
    public const int FormatVersion = OutputFormat.FormatVersion;

    /// <summary>Oldest on-disk format version this library reads.</summary>
    public const int OldestReadableVersion = OutputFormat.OldestReadableVersion;

    internal ModelCatalog() { }

    /// <summary>Opens a family: a base checkpoint and named fine-tuned checkpoints (heads matched by <c>classifier.*</c>).</summary>
    public ModelFamily LoadFamily(string basePath, params (string Name, string Path)[] tasks) => ModelFamily.Load(basePath, tasks);

    /// <summary>Opens a family with options (head pattern, memory mapping).</summary>
    public ModelFamily LoadFamily(string basePath, IEnumerable<(string Name, string Path)> tasks, ModelFamilyOptions options) =>
        ModelFamily.Load(basePath, tasks, options);

    /// <summary>
    /// Saves a merged model into <paramref name="directory"/> atomically: <c>model.safetensors</c>, <c>heads.safetensors</c>,
    /// <c>modulators.safetensors</c>, <c>tasks/{task}.safetensors</c> for per-task methods, and <c>manifest.json</c>.
    /// </summary>
    /// <exception cref="OutputExistsException">The directory exists and <paramref name="overwrite"/> is false.</exception>
    public void Save(MergedModel model, string directory, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var dir = AtomicDirectory.Begin(directory, overwrite);
        OutputWriter.WriteMerged(dir, model);
        var files = OutputWriter.CopyModelFiles(model.Architecture, dir);
        OutputWriter.WriteManifest(dir.PathOf("manifest.json"), model.Summary, more: files.Count > 0 ? w => w.WriteString("config", "config.json") : null);
        dir.Commit();
    }

    /// <summary>Loads a model saved by <see cref="Save(MergedModel, string, bool)"/>.</summary>
    /// <exception cref="CheckpointFormatException">No manifest, a foreign format, or a version this library does not read.</exception>
    /// <exception cref="ModelFormatVersionException">A foreign format, or a version this library does not read.</exception>
    public MergedModel Load(string directory)
    {
        using var doc = OutputFormat.OpenManifest(directory, out string manifestPath);
        return OutputFormat.WithArchitecture(OutputFormat.ReadMerged(directory, doc.RootElement, manifestPath), directory, doc.RootElement, manifestPath);
    }
}
