using System.Text.Json;
using System.Text.Json.Serialization;

namespace MLNetMerge.Data;

/// <summary>Files of one stored split, paths relative to the zoo: the inputs — images (N, 1, 28, 28) uint8 for a
/// vision zoo, token ids (N, T) int32 for a text zoo — and labels (N) int64.</summary>
/// <param name="Images">Image <c>.npy</c> path (vision), or null.</param>
/// <param name="Labels">Label <c>.npy</c> path.</param>
/// <param name="Count">N.</param>
/// <param name="Tokens">Token-id <c>.npy</c> path (text: <c>[CLS] text [SEP]</c> padded with <c>[PAD]</c> = 0), or null.</param>
internal sealed record ZooSplitFiles(string? Images, string Labels, int Count, string? Tokens = null);

/// <summary>Accuracies measured at build time (encoder + head, arg-max).</summary>
/// <param name="BaseValidation">Base encoder + the task's own head, validation split.</param>
/// <param name="BaseTest">Base encoder + the task's own head, test split (the lower bound of docs/methods/evaluation-protocols.md).</param>
/// <param name="LinearProbeValidation">Base encoder + a linear head trained on the frozen base features, validation.</param>
/// <param name="LinearProbeTest">Base encoder + trained linear head, test.</param>
/// <param name="FineTunedValidation">Fine-tuned encoder + its head, validation.</param>
/// <param name="FineTunedTest">Fine-tuned encoder + its head, test (the upper bound).</param>
internal sealed record ZooTaskAccuracy(double BaseValidation, double BaseTest, double LinearProbeValidation, double LinearProbeTest,
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
internal sealed record ZooTask(string Name, string Description, IReadOnlyList<string> Classes, string Checkpoint, int TrainExamples,
    ZooSplitFiles Validation, ZooSplitFiles Test, ZooTaskAccuracy? Accuracy = null);

/// <summary>A build-time merge check: a method's accuracy per task on test with its hyperparameter chosen on validation.</summary>
/// <param name="Method">Method name.</param>
/// <param name="Scale">Chosen λ (0 when none).</param>
/// <param name="TestAccuracy">Per-task test accuracy, manifest task order.</param>
/// <param name="AverageTestAccuracy">Mean test accuracy.</param>
/// <param name="NormalizedAccuracy">Mean of merged/individual test accuracy.</param>
internal sealed record ZooMergeCheck(string Method, double Scale, IReadOnlyList<double> TestAccuracy, double AverageTestAccuracy, double NormalizedAccuracy);

/// <summary>How the zoo was built: only what the build's result depends on (no wall-clock time or machine size, so a rebuild
/// gives the same bytes; the build log prints the time).</summary>
/// <param name="Seed">Seed.</param>
/// <param name="Pretext">Label-free pretraining objective.</param>
/// <param name="PretrainExamples">Pooled training images used for pretraining.</param>
/// <param name="PretrainEpochs">Pretraining epochs.</param>
/// <param name="FineTuneEpochs">Fine-tuning epochs per task.</param>
/// <param name="Notes">Free text (head handling, learning rates).</param>
/// <param name="PretrainLoss">Pretraining loss logged during the build (text zoo: mean masked-token cross-entropy per
/// logging interval, in order), or null.</param>
internal sealed record ZooBuildInfo(ulong Seed, string Pretext, int PretrainExamples, int PretrainEpochs, int FineTuneEpochs, string Notes,
    IReadOnlyList<double>? PretrainLoss = null);

/// <summary>The <c>manifest.json</c> of a zoo: its tasks (classes, checkpoints, stored validation and test splits), how the
/// stored inputs become model inputs, and how it was built. The encoder's architecture is not here: it is the model's own
/// (its config.json and tokenizer files, read by the family).</summary>
/// <param name="Name">Zoo name (<c>vision</c>, <c>text</c>).</param>
/// <param name="Architecture">Architecture (<c>vit</c> or <c>bert</c>); also the checkpoints' tensor-name prefix.</param>
/// <param name="Config">Hugging Face config file name (<c>config.json</c>).</param>
/// <param name="Base">Base (pretrained) checkpoint.</param>
/// <param name="Normalization">How the stored inputs become model inputs (pixel normalisation; tokenization).</param>
/// <param name="Tasks">Tasks in order.</param>
/// <param name="Build">Build information.</param>
/// <param name="Checks">Merge checks at build time.</param>
/// <param name="Vocabulary">Text: the WordPiece <c>vocab.txt</c> the token ids index; null for vision.</param>
/// <param name="SequenceLength">Text: tokens per stored example T; 0 for vision.</param>
/// <param name="Pooling">Text: how the hidden states become the embedding the heads read (<c>mean</c> over real tokens,
/// <c>cls</c>, or <c>pooler</c> = the model's own pooled output); null for vision.</param>
internal sealed record ZooManifest(string Name, string Architecture, string Config, string Base, string Normalization,
    IReadOnlyList<ZooTask> Tasks, ZooBuildInfo? Build = null, IReadOnlyList<ZooMergeCheck>? Checks = null, string? Vocabulary = null, int SequenceLength = 0,
    string? Pooling = null)
{
    /// <summary>Whether this is a text zoo (BERT over token ids).</summary>
    public bool IsText => Architecture == "bert";

    /// <summary>Manifest file name inside the zoo folder.</summary>
    public const string FileName = "manifest.json";

    /// <summary>JSON options: snake_case names, indented.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        // A missing or null field a manifest needs is an error naming it, not a null met later.
        RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true,
    };

    /// <summary>Reads <c>manifest.json</c> from a zoo folder.</summary>
    /// <exception cref="CheckpointFormatException">The manifest is not valid JSON of this shape.</exception>
    public static ZooManifest Load(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
            throw new CheckpointFormatException(path, null, Directory.Exists(directory)
                ? "does not exist: the folder is not a model zoo (a zoo holds manifest.json, base.safetensors and a checkpoint and splits per task)."
                : $"does not exist: there is no folder {directory}.");
        try
        {
            var manifest = JsonSerializer.Deserialize<ZooManifest>(File.ReadAllText(path), Json)
                ?? throw new CheckpointFormatException(path, null, "is empty; expected a zoo manifest.");
            manifest.Check(path);
            return manifest;
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, null, $"is not a valid zoo manifest: {Describe(e)}", e);
        }
    }

    /// <summary>The serializer's complaint in the manifest's own terms: the field's JSON path and what is wrong with it.</summary>
    private static string Describe(JsonException e)
    {
        string at = string.IsNullOrEmpty(e.Path) ? "$" : e.Path;
        var missing = System.Text.RegularExpressions.Regex.Match(e.Message, "missing required properties including: (.*)\\.?$");
        if (missing.Success) return $"{at} lacks {missing.Groups[1].Value.TrimEnd('.')}, which a zoo manifest records.";
        if (e.Message.Contains("doesn't allow null", StringComparison.Ordinal) || e.Message.Contains("null", StringComparison.Ordinal) && e.Message.Contains("nullab", StringComparison.Ordinal))
            return $"{at} is null; the field must hold a value.";
        if (e.Message.Contains("could not be converted", StringComparison.Ordinal)) return $"{at} is not of the type the field holds (text, a number, a list or an object as the manifest's other zoos write it).";
        return e.Message;
    }

    /// <summary>Task names and each task's class names are unique, and every file the manifest names lies inside the
    /// zoo's folder: a relative path that stays there.</summary>
    /// <exception cref="CheckpointFormatException">A repeated name, a rooted path, or one that leaves the folder.</exception>
    private void Check(string manifestPath)
    {
        if (Tasks.GroupBy(t => t.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new CheckpointFormatException(manifestPath, null, $"task '{twice.Key}' is listed twice.");
        foreach (var t in Tasks)
            if (t.Classes.GroupBy(c => c, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } again)
                throw new CheckpointFormatException(manifestPath, null, $"task '{t.Name}' names class '{again.Key}' twice; class names tell the classes apart.");
        var names = new List<(string Key, string? Value)> { ("base", Base), ("config", Config), ("vocabulary", Vocabulary) };
        foreach (var t in Tasks)
        {
            names.Add(($"tasks[{t.Name}].checkpoint", t.Checkpoint));
            foreach (var (split, files) in new[] { ("validation", t.Validation), ("test", t.Test) })
                names.AddRange([($"tasks[{t.Name}].{split}.images", files.Images), ($"tasks[{t.Name}].{split}.labels", files.Labels), ($"tasks[{t.Name}].{split}.tokens", files.Tokens)]);
        }
        foreach (var (key, value) in names)
            if (value is not null && (Path.IsPathRooted(value) || value.Replace('\\', '/').Split('/').Contains("..")))
                throw new CheckpointFormatException(manifestPath, null, $"'{key}' is '{value}'; a zoo's files are named relative to its folder, inside it.");
    }

    /// <summary>Writes the manifest into <paramref name="directory"/>.</summary>
    public void Save(string directory) => AtomicFile.Write(Path.Combine(directory, FileName), s => JsonSerializer.Serialize(s, this, Json));

    /// <summary>Loads a stored split as a dataset: normalised pixels (N, 1, 28, 28), or token ids as floats (N, T).</summary>
    /// <exception cref="CheckpointFormatException">The files do not hold what the manifest says.</exception>
    public static TaskDataset LoadSplit(string directory, ZooTask task, ZooSplitFiles files)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(files);
        if (files.Tokens is not null) return LoadTokens(directory, task, files);
        string labelsPath = Path.Combine(directory, files.Labels);
        if (files.Images is null) throw new CheckpointFormatException(Path.Combine(directory, FileName), null, $"the split of task '{task.Name}' with labels {files.Labels} names neither images nor tokens.");
        string imagesPath = Path.Combine(directory, files.Images);
        var images = NpyFile.Read(imagesPath);
        var labels = Labels(labelsPath, task, files.Count);
        if (images.DType != Tensors.DType.U8 || images.Shape.Length != 4 || images.Shape[0] != labels.Length || images.Shape[1] != 1)
            throw new CheckpointFormatException(imagesPath, null, $"expected {labels.Length}×1×H×W uint8 images (one per label of {files.Labels}); got {images.DType} [{string.Join(", ", images.Shape)}].");
        var pixels = new float[images.Data.Length];                     // (N, 1, H, W)
        for (int i = 0; i < pixels.Length; i++) pixels[i] = NormalizePixel(images.Data[i]);
        return new TaskDataset(task.Name, pixels, [1, images.Shape[2], images.Shape[3]], labels, task.Classes);
    }

    /// <summary>A split's labels: class indices of the task, one per example.</summary>
    /// <exception cref="CheckpointFormatException">A label outside the task's classes.</exception>
    private static int[] Labels(string path, ZooTask task, int count)
    {
        var (raw, _) = NpyFile.ReadInt64(path);
        if (raw.Length != count) throw new CheckpointFormatException(path, null, $"holds {raw.Length} labels; the zoo's manifest counts {count} examples in this split of task '{task.Name}'.");
        var labels = new int[raw.Length];
        for (int i = 0; i < raw.Length; i++)
            labels[i] = raw[i] >= 0 && raw[i] < task.Classes.Count ? (int)raw[i]
                : throw new CheckpointFormatException(path, null, $"label {raw[i]} of example {i} is outside task '{task.Name}''s {task.Classes.Count} classes (0 … {task.Classes.Count - 1}).");
        return labels;
    }

    /// <summary>How a stored pixel byte becomes a model input in a vision zoo: <c>x = b/127.5 − 1</c> (mean 0.5, std 0.5 on
    /// [0, 1]), the normalisation the zoo's models were trained with.</summary>
    public static float NormalizePixel(byte b) => b / 127.5f - 1f;

    private static TaskDataset LoadTokens(string directory, ZooTask task, ZooSplitFiles files)
    {
        string tokensPath = Path.Combine(directory, files.Tokens!);
        var tokens = NpyFile.Read(tokensPath);
        var labels = Labels(Path.Combine(directory, files.Labels), task, files.Count);
        if (tokens.Shape.Length != 2 || tokens.Shape[0] != labels.Length || (tokens.DType != Tensors.DType.I32 && tokens.DType != Tensors.DType.F32))
            throw new CheckpointFormatException(tokensPath, null, $"has {tokens.DType} [{string.Join(", ", tokens.Shape)}]; expected {labels.Length}×T int32 or float32 token ids (one row per label of {files.Labels}).");
        var ids = new float[tokens.ElementCount];                       // (N, T) ids as floats
        NpyConversion.ToFloat32(tokens.Data, tokens.DType, ids);
        return new TaskDataset(task.Name, ids, [tokens.Shape[1]], labels, task.Classes);
    }
}
