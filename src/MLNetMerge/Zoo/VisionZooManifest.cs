using System.Text.Json;
using System.Text.Json.Serialization;
using MLNetMerge.Data;
using MLNetMerge.Nn.Architectures;

namespace MLNetMerge.Zoo;

/// <summary>Files of one stored split: images (N, 1, 28, 28) uint8 and labels (N) int64, paths relative to the zoo.</summary>
/// <param name="Images">Image <c>.npy</c> path.</param>
/// <param name="Labels">Label <c>.npy</c> path.</param>
/// <param name="Count">N.</param>
public sealed record ZooSplitFiles(string Images, string Labels, int Count);

/// <summary>Accuracies measured at build time (encoder + head, arg-max).</summary>
/// <param name="BaseValidation">Base encoder + the task's own head, validation split.</param>
/// <param name="BaseTest">Base encoder + the task's own head, test split (the lower bound of METHODS.md §3).</param>
/// <param name="LinearProbeValidation">Base encoder + a linear head trained on the frozen base features, validation.</param>
/// <param name="LinearProbeTest">Base encoder + trained linear head, test.</param>
/// <param name="FineTunedValidation">Fine-tuned encoder + its head, validation.</param>
/// <param name="FineTunedTest">Fine-tuned encoder + its head, test (the upper bound).</param>
public sealed record ZooTaskAccuracy(double BaseValidation, double BaseTest, double LinearProbeValidation, double LinearProbeTest,
    double FineTunedValidation, double FineTunedTest);

/// <summary>One task of the zoo.</summary>
/// <param name="Name">Task name.</param>
/// <param name="Description">What the task is.</param>
/// <param name="Classes">Class names.</param>
/// <param name="Checkpoint">Fine-tuned checkpoint (safetensors: <c>vit.*</c> encoder + <c>classifier.*</c> head).</param>
/// <param name="TrainExamples">Examples the head and the fine-tuning saw (not stored).</param>
/// <param name="Validation">Validation split files.</param>
/// <param name="Test">Test split files.</param>
/// <param name="Accuracy">Build-time accuracies.</param>
public sealed record ZooTask(string Name, string Description, IReadOnlyList<string> Classes, string Checkpoint, int TrainExamples,
    ZooSplitFiles Validation, ZooSplitFiles Test, ZooTaskAccuracy Accuracy);

/// <summary>A build-time merge check: a method's accuracy per task on test with its hyperparameter chosen on validation.</summary>
/// <param name="Method">Method name.</param>
/// <param name="Scale">Chosen λ (0 when none).</param>
/// <param name="TestAccuracy">Per-task test accuracy, manifest task order.</param>
/// <param name="AverageTestAccuracy">Mean test accuracy.</param>
/// <param name="NormalizedAccuracy">Mean of merged/individual test accuracy.</param>
public sealed record ZooMergeCheck(string Method, double Scale, IReadOnlyList<double> TestAccuracy, double AverageTestAccuracy, double NormalizedAccuracy);

/// <summary>How the zoo was built.</summary>
/// <param name="Seed">Seed.</param>
/// <param name="Seconds">Wall-clock build time.</param>
/// <param name="Threads">Processor count seen by the build.</param>
/// <param name="Pretext">Label-free pretraining objective.</param>
/// <param name="PretrainExamples">Pooled training images used for pretraining.</param>
/// <param name="PretrainEpochs">Pretraining epochs.</param>
/// <param name="FineTuneEpochs">Fine-tuning epochs per task.</param>
/// <param name="Notes">Free text (head handling, learning rates).</param>
public sealed record ZooBuildInfo(int Seed, double Seconds, int Threads, string Pretext, int PretrainExamples, int PretrainEpochs, int FineTuneEpochs, string Notes);

/// <summary>The <c>manifest.json</c> of a built vision zoo.</summary>
/// <param name="Name">Zoo name (<c>vision</c>).</param>
/// <param name="Architecture">Architecture (<c>vit</c>).</param>
/// <param name="Config">Hugging Face config file name (<c>config.json</c>).</param>
/// <param name="Base">Base (pretrained) checkpoint.</param>
/// <param name="Normalization">Pixel normalisation applied to the stored uint8 images.</param>
/// <param name="Tasks">Tasks in order.</param>
/// <param name="Build">Build information.</param>
/// <param name="Checks">Merge checks at build time.</param>
public sealed record VisionZooManifest(string Name, string Architecture, string Config, string Base, string Normalization,
    IReadOnlyList<ZooTask> Tasks, ZooBuildInfo Build, IReadOnlyList<ZooMergeCheck> Checks)
{
    /// <summary>Manifest file name inside the zoo folder.</summary>
    public const string FileName = "manifest.json";

    /// <summary>JSON options: snake_case names, indented.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Reads <c>manifest.json</c> from a zoo folder.</summary>
    /// <exception cref="CheckpointFormatException">The manifest is not valid JSON of this shape.</exception>
    public static VisionZooManifest Load(string directory)
    {
        string path = Path.Combine(directory, FileName);
        try
        {
            return JsonSerializer.Deserialize<VisionZooManifest>(File.ReadAllText(path), Json)
                ?? throw new CheckpointFormatException(path, null, "is empty; expected a zoo manifest.");
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, null, $"is not a valid zoo manifest: {e.Message}", e);
        }
    }

    /// <summary>Writes the manifest into <paramref name="directory"/>.</summary>
    public void Save(string directory) => AtomicFile.Write(Path.Combine(directory, FileName), s => JsonSerializer.Serialize(s, this, Json));

    /// <summary>Reads the encoder configuration (<c>config.json</c>).</summary>
    public VisionTransformerConfig ReadConfig(string directory)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, Config)));
        return VisionTransformerConfig.FromJson(doc.RootElement);
    }

    /// <summary>Loads a stored split as a dataset with normalised pixels.</summary>
    public static TaskDataset LoadSplit(string directory, ZooTask task, ZooSplitFiles files)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(files);
        var images = NpyFile.Read(Path.Combine(directory, files.Images));
        var (labels, _) = NpyFile.ReadInt64(Path.Combine(directory, files.Labels));
        if (images.DType != Tensors.DType.U8 || images.Data.Length != labels.Length * VisionZooSources.Pixels)
            throw new CheckpointFormatException(files.Images, null, $"expected {labels.Length}×1×28×28 uint8 images.");
        return new ByteImages(images.Data, labels.Select(l => (int)l).ToArray()).ToDataset(task.Name, task.Classes);
    }
}
