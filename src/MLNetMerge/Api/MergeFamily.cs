using System.Text.Json;
using MLNetMerge.Data;
using MLNetMerge.Encoders;
using MLNetMerge.Nn.Architectures;

namespace MLNetMerge;

/// <summary>
/// A pretrained base checkpoint and the copies of it fine-tuned on several tasks, each with its classification head —
/// what every merge estimator of <see cref="MergingCatalog"/> merges. Tensors are read lazily; the family knows its
/// encoder's architecture from its own files (<c>config.json</c>; for text, <c>vocab.txt</c>, <c>tokenizer_config.json</c>
/// and sentence-transformers' <c>1_Pooling/config.json</c>) and each task's class names. Dispose it to close the files.
/// </summary>
public sealed class MergeFamily : IDisposable
{
    private readonly IReadOnlyDictionary<string, IReadOnlyList<string>> _classes;

    private readonly ModelFamily _family;
    private bool _disposed;

    internal MergeFamily(ModelFamily family, IReadOnlyDictionary<string, IReadOnlyList<string>> classes)
    {
        _family = family;
        _classes = classes;
    }

    /// <exception cref="ObjectDisposedException">The family was disposed (its checkpoints are closed).</exception>
    internal ModelFamily Family => _disposed
        ? throw new ObjectDisposedException(nameof(MergeFamily), $"the family of {_family.Base.Path} was disposed, which closed its checkpoints; keep it open until the estimators built on it are fitted.")
        : _family;

    /// <summary>The tasks, in the order the family was loaded.</summary>
    public IReadOnlyList<string> TaskNames => Family.TaskNames;

    /// <summary>The base checkpoint's path.</summary>
    public string BasePath => Family.Base.Path;

    /// <summary>The class names of <paramref name="task"/>, in the order of its head's outputs: the names given when the
    /// family was loaded, else the task's <c>config.json</c> <c>id2label</c>, else those of a zoo <c>manifest.json</c>
    /// beside the base, else <c>0</c>, <c>1</c>, ….</summary>
    /// <exception cref="ArgumentException">No task of that name.</exception>
    public IReadOnlyList<string> ClassNames(string task) =>
        _classes.TryGetValue(task, out var names) ? names
            : throw new ArgumentException($"the family has no task '{task}' (tasks: {string.Join(", ", TaskNames)}).", nameof(task));

    /// <summary>What the encoder reads: for a vision encoder, <c>pixel_values</c> of <see cref="ImageChannels"/> ×
    /// <see cref="ImageSize"/> × <see cref="ImageSize"/> floats; for a text encoder, <c>input_ids</c> and
    /// <c>attention_mask</c> of <see cref="SequenceLength"/> int64 each.</summary>
    public bool IsText => Family.Architecture.IsText;

    /// <summary>Image side of a vision encoder (0 for text).</summary>
    public int ImageSize => Family.Architecture.Vision?.ImageSize ?? 0;

    /// <summary>Image channels of a vision encoder (0 for text).</summary>
    public int ImageChannels => Family.Architecture.Vision?.NumChannels ?? 0;

    /// <summary>The pixel normalisation the vision encoder was trained with, per channel on [0, 1] pixels
    /// (<c>x = (pixel/255 − PixelMean[c]) / PixelStd[c]</c>), from the image processor's <c>preprocessor_config.json</c>
    /// beside the config (<c>image_mean</c>, <c>image_std</c>, <c>rescale_factor</c>, <c>do_normalize</c>); null when
    /// there is none (then <see cref="MergingCatalog.ImagePixels(MergeFamily, string)"/> uses 0.5, 0.5).</summary>
    public IReadOnlyList<float>? PixelMean => Family.Architecture.Image?.Mean;

    /// <summary>Per-channel pixel standard deviation on [0, 1] pixels; see <see cref="PixelMean"/>.</summary>
    public IReadOnlyList<float>? PixelStd => Family.Architecture.Image?.Std;

    /// <summary>Tokens per example of a text encoder (0 for vision).</summary>
    public int SequenceLength => Family.Architecture.Text?.SequenceLength ?? 0;

    /// <summary>Floats per example of an MLP encoder's input (0 otherwise).</summary>
    public int FeatureSize => Family.Architecture.Mlp?.InputSize ?? 0;

    /// <summary>The text encoder's WordPiece vocabulary (<c>vocab.txt</c> beside the config), or null.</summary>
    public string? VocabularyPath => Family.Architecture.Text?.VocabularyPath;

    /// <summary>Whether the text tokenizer lower-cases (and strips accents).</summary>
    public bool LowerCase => Family.Architecture.Text?.LowerCase ?? true;

    /// <summary>Width of the embedding the heads read.</summary>
    public int EmbeddingSize => Family.Session.EmbeddingSize;

    /// <summary>Closes every checkpoint.</summary>
    public void Dispose()
    {
        _disposed = true;
        _family.Dispose();
    }

    /// <summary>Opens a family and resolves its tasks' class names.</summary>
    internal static MergeFamily Open(string basePath, IEnumerable<(string Task, string Path)> tasks, MergeFamilyOptions options)
    {
        var family = ModelFamily.Load(basePath, tasks, new ModelFamilyOptions { Heads = options.Heads, ConfigPath = options.ConfigPath });
        try { return Wrap(family, options); }
        catch
        {
            family.Dispose();
            throw;
        }
    }

    /// <summary>An opened engine family with its tasks' class names resolved as <see cref="Open"/> does (disposing the
    /// result disposes <paramref name="family"/>).</summary>
    internal static MergeFamily Wrap(ModelFamily family, MergeFamilyOptions options)
    {
        var zoo = ZooClasses(Path.GetDirectoryName(Path.GetFullPath(family.Base.Path))!);
        var classes = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var t in family.Tasks)
        {
            int k = family.TaskHeads[t.Name].FirstOrDefault(h => h.Name == TaskHead.BiasName)?.Shape is [var n] ? n : 0;
            // A zoo's class names belong to its checkpoints, whatever the task is called here.
            IReadOnlyList<string>? names = options.ClassNames.TryGetValue(t.Name, out var given) ? given
                : Id2Label(t.Reader.Path) ?? (zoo.TryGetValue(Path.GetFullPath(t.Reader.Path), out var z) ? z : null);
            if (names is not null && k > 0 && names.Count != k)
                throw new ArgumentException($"task '{t.Name}' has {names.Count} class names but its head {TaskHead.BiasName} has {k} classes.", nameof(options));
            classes[t.Name] = names ?? Enumerable.Range(0, k).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        }
        return new MergeFamily(family, classes) { Unrecorded = options.ConfigPath is not null || options.ClassNames.Count > 0 };
    }

    /// <summary>Whether the family was loaded with settings a recipe does not carry (<see cref="MergeFamilyOptions.ConfigPath"/>,
    /// <see cref="MergeFamilyOptions.ClassNames"/>), so that a recipe written from it would load another family.</summary>
    internal bool Unrecorded { get; private init; }

    /// <summary>Class names of a zoo's task checkpoints (by full path), when a zoo <c>manifest.json</c> sits in <paramref name="directory"/>.</summary>
    private static Dictionary<string, IReadOnlyList<string>> ZooClasses(string directory) =>
        File.Exists(Path.Combine(directory, ZooManifest.FileName))
            ? ZooManifest.Load(directory).Tasks.ToDictionary(t => Path.GetFullPath(Path.Combine(directory, t.Checkpoint)), t => t.Classes, StringComparer.Ordinal)
            : new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);

    /// <summary>The <c>id2label</c> of a Hugging Face <c>config.json</c> in a task checkpoint's own folder, in id order.</summary>
    private static IReadOnlyList<string>? Id2Label(string checkpoint)
    {
        string dir = Directory.Exists(checkpoint) ? checkpoint : Path.GetDirectoryName(Path.GetFullPath(checkpoint))!;
        string config = Path.Combine(dir, "config.json");
        if (!File.Exists(config) || !Directory.Exists(checkpoint)) return null;   // a folder per task: its own config
        using var doc = JsonDocument.Parse(File.ReadAllText(config));
        if (!doc.RootElement.TryGetProperty("id2label", out var map) || map.ValueKind != JsonValueKind.Object) return null;
        return map.EnumerateObject().Select(p => (Id: int.Parse(p.Name, System.Globalization.CultureInfo.InvariantCulture), Name: p.Value.GetString() ?? p.Name))
            .OrderBy(p => p.Id).Select(p => p.Name).ToList();
    }
}

/// <summary>Settings of <see cref="MergingCatalog.LoadFamily(string, IEnumerable{ValueTuple{string, string}}, MergeFamilyOptions)"/>.</summary>
public sealed class MergeFamilyOptions
{
    /// <summary>Head tensors (per task, never merged) as comma-separated globs. Default <c>classifier.*</c>.</summary>
    public string Heads { get; init; } = Checkpoints.HeadFilter.DefaultPattern;

    /// <summary>The encoder's <c>config.json</c>. Default null: the one beside the base checkpoint.</summary>
    public string? ConfigPath { get; init; }

    /// <summary>Class names per task (in the order of the head's outputs). Default: read from the model's files.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> ClassNames { get; init; } = new Dictionary<string, IReadOnlyList<string>>();
}
