using Microsoft.ML;
using MLNetMerge.Data;
using MLNetMerge.MLNet;

namespace MLNetMerge;

// Data in and out of a merged model: zoo splits as views, image and text input steps, class-name keys.
public sealed partial class MergingCatalog
{
    /// <summary>A stored split of a zoo task as a view: the model input (<see cref="MergeColumns.PixelValues"/>, normalised
    /// as the zoo's models were trained; or <see cref="MergeColumns.InputIds"/> and <see cref="MergeColumns.AttentionMask"/>)
    /// and <c>Label</c>, a key over the task's class names (key = class index + 1).</summary>
    /// <param name="directory">The zoo folder.</param>
    /// <param name="task">The task.</param>
    /// <param name="split"><c>test</c> or <c>validation</c>.</param>
    /// <exception cref="ArgumentException">No such task or split.</exception>
    /// <exception cref="CheckpointFormatException">The manifest or the split's files are not what they should be.</exception>
    public IDataView LoadZooData(string directory, string task, string split = "test")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(task);
        ArgumentException.ThrowIfNullOrWhiteSpace(split);
        var (manifest, data) = ZooSplit(directory, task, split);
        return Inputs(directory, manifest, data.Features, data.FeatureLength).AddKey("Label", data.RequireLabels(), data.ClassNames).Build();
    }

    /// <summary>A stored split of every zoo task in one view: the model input, <see cref="MergeColumns.Task"/> (the task's
    /// name) and <c>Label</c> (the class name, text: the tasks' classes differ), task after task in manifest order. What a
    /// merge serving every task fits its alignment stage on.</summary>
    /// <param name="directory">The zoo folder.</param>
    /// <param name="split"><c>test</c> or <c>validation</c>.</param>
    /// <exception cref="ArgumentException">No such split.</exception>
    /// <exception cref="CheckpointFormatException">The manifest or a split's files are not what they should be.</exception>
    public IDataView LoadZooData(string directory, string split = "test")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        return LoadZooData(directory, split, [.. ZooManifest.Load(directory).Tasks.Select(t => t.Name)]);
    }

    /// <summary>A stored split of some of a zoo's tasks in one view, as <see cref="LoadZooData(string, string)"/> gives
    /// every task's — each task's rows a seeded draw of <paramref name="samplesPerTask"/> (0, or more than the split holds:
    /// every row), the draw a recipe's <c>align.data.samples</c> makes with the recipe's seed. The rows a recipe's
    /// alignment stage was fitted on, for the tasks a family merges (a multi-task merge refuses rows of other tasks).</summary>
    /// <param name="directory">The zoo folder.</param>
    /// <param name="split"><c>test</c> or <c>validation</c>.</param>
    /// <param name="tasks">The tasks, in the order their rows come.</param>
    /// <param name="samplesPerTask">Rows drawn per task; 0: all.</param>
    /// <param name="seed">The draw's seed (a recipe's <c>seed</c>).</param>
    /// <exception cref="ArgumentException">No such split or task, or a negative sample count.</exception>
    /// <exception cref="CheckpointFormatException">The manifest or a split's files are not what they should be.</exception>
    public IDataView LoadZooData(string directory, string split, IReadOnlyList<string> tasks, int samplesPerTask = 0, ulong seed = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(split);
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentOutOfRangeException.ThrowIfNegative(samplesPerTask);
        if (tasks.Count == 0) throw new ArgumentException("no tasks; name one or more of the zoo's tasks.", nameof(tasks));
        if (tasks.GroupBy(t => t).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException($"task '{twice.Key}' is named twice (its rows would come twice).", nameof(tasks));
        var manifest = ZooManifest.Load(directory);
        var parts = tasks.Select(t => Recipes.AlignmentRows.Sample(ZooSplit(directory, t, split).Data, samplesPerTask, seed)).ToList();
        return Inputs(directory, manifest, [.. parts.SelectMany(p => p.Features)], parts[0].FeatureLength)
            .AddText(MergeColumns.Task, [.. parts.SelectMany(p => Enumerable.Repeat(p.Name, p.Count))])
            .AddText("Label", [.. parts.SelectMany(p => p.RequireLabels().Select(l => p.ClassNames[l]))])
            .Build();
    }

    /// <summary>Images to the family's <see cref="MergeColumns.PixelValues"/> normalised as the family's encoder was
    /// trained: <see cref="MergeFamily.PixelMean"/> and <see cref="MergeFamily.PixelStd"/> (its <c>preprocessor_config.json</c>),
    /// or 0.5 and 0.5 (ViT's, the bundled zoos') when it has none. Paths are absolute or relative to the working directory.</summary>
    /// <param name="family">The family whose encoder reads the pixels.</param>
    /// <param name="imagePathColumnName">Text column of image paths.</param>
    /// <exception cref="ArgumentException">The family's encoder does not read images.</exception>
    /// <exception cref="MergeException">The family's <c>preprocessor_config.json</c> is malformed.</exception>
    public IEstimator<ITransformer> ImagePixels(MergeFamily family, string imagePathColumnName) => ImagePixels(family, imagePathColumnName, imageFolder: null);

    /// <summary>Images to the family's <see cref="MergeColumns.PixelValues"/> normalised as the family's encoder was
    /// trained (see <see cref="ImagePixels(MergeFamily, string)"/>), paths relative to <paramref name="imageFolder"/>.</summary>
    /// <param name="family">The family whose encoder reads the pixels.</param>
    /// <param name="imagePathColumnName">Text column of image paths.</param>
    /// <param name="imageFolder">Folder the paths are relative to (saved with the model); null for absolute paths.</param>
    /// <exception cref="ArgumentException">The family's encoder does not read images.</exception>
    /// <exception cref="MergeException">The family's <c>preprocessor_config.json</c> is malformed.</exception>
    public IEstimator<ITransformer> ImagePixels(MergeFamily family, string imagePathColumnName, string? imageFolder)
    {
        ArgumentNullException.ThrowIfNull(family);
        float[] mean = family.PixelMean is { } m ? [.. m] : [.. Enumerable.Repeat(0.5f, family.ImageChannels)];
        float[] std = family.PixelStd is { } s ? [.. s] : [.. Enumerable.Repeat(0.5f, family.ImageChannels)];
        return ImagePixels(family, imagePathColumnName, imageFolder, mean, std);
    }

    /// <summary>Images to the family's <see cref="MergeColumns.PixelValues"/>: ML.NET's <c>LoadImages</c>,
    /// <c>ResizeImages</c> (to the encoder's side) and <c>ExtractPixels</c> (channel-planar, <c>(pixel/255 − mean)/std</c>),
    /// one mean and std for every channel.</summary>
    /// <param name="family">The family whose encoder reads the pixels.</param>
    /// <param name="imagePathColumnName">Text column of image paths.</param>
    /// <param name="imageFolder">Folder the paths are relative to (saved with the model); null for absolute paths.</param>
    /// <param name="mean">Pixel mean on [0, 1], every channel. Default 0.5 (ViT's).</param>
    /// <param name="std">Pixel standard deviation on [0, 1], every channel. Default 0.5 (ViT's).</param>
    /// <exception cref="ArgumentException">The family's encoder does not read images, or the mean or std is not finite or the std not positive.</exception>
    public IEstimator<ITransformer> ImagePixels(MergeFamily family, string imagePathColumnName, string? imageFolder = null, float mean = 0.5f, float std = 0.5f)
    {
        ArgumentNullException.ThrowIfNull(family);
        return ImagePixels(family, imagePathColumnName, imageFolder, [.. Enumerable.Repeat(mean, family.ImageChannels)], [.. Enumerable.Repeat(std, family.ImageChannels)]);
    }

    /// <summary>Images to the family's <see cref="MergeColumns.PixelValues"/> with a mean and std per channel (CLIP's
    /// <c>[0.4815, 0.4578, 0.4082]</c> / <c>[0.2686, 0.2613, 0.2758]</c>, ImageNet's, …): each channel's plane is extracted
    /// with its own <c>(pixel/255 − mean[c])/std[c]</c> and the planes are concatenated in R, G, B order.</summary>
    /// <param name="family">The family whose encoder reads the pixels.</param>
    /// <param name="imagePathColumnName">Text column of image paths.</param>
    /// <param name="imageFolder">Folder the paths are relative to (saved with the model); null for absolute paths.</param>
    /// <param name="mean">Pixel mean on [0, 1], one per channel.</param>
    /// <param name="std">Pixel standard deviation on [0, 1], one per channel, positive.</param>
    /// <exception cref="ArgumentException">The family's encoder does not read images, not one mean and one std per channel,
    /// or a mean that is not finite or a std that is not positive and finite.</exception>
    public IEstimator<ITransformer> ImagePixels(MergeFamily family, string imagePathColumnName, string? imageFolder, float[] mean, float[] std)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(imagePathColumnName);
        ArgumentNullException.ThrowIfNull(family);
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (family.ImageSize == 0) throw new ArgumentException("the family's encoder does not read images.", nameof(family));
        if (mean.Length != family.ImageChannels || std.Length != family.ImageChannels)
            throw new ArgumentException($"{mean.Length} means and {std.Length} stds; the family's encoder has {family.ImageChannels} channels.", nameof(mean));
        var pairs = mean.Zip(std, ImagePixelSteps.OffsetAndScale).ToArray();
        return ImagePixelSteps.Create(_ml, MergeColumns.PixelValues, imagePathColumnName, imageFolder, family.ImageSize, family.ImageChannels,
            [.. pairs.Select(p => p.Offset)], [.. pairs.Select(p => p.Scale)]);
    }

    /// <summary>Text to the family's <see cref="MergeColumns.InputIds"/> and <see cref="MergeColumns.AttentionMask"/>:
    /// BERT's WordPiece with the family's vocabulary, casing and sequence length, as savable ML.NET steps (the same ids
    /// as Hugging Face's tokenizer, lower-casing each character as it does).</summary>
    /// <exception cref="ArgumentException">The family's encoder does not read text, or has no <c>vocab.txt</c>; when fitted
    /// (or asked for its output schema), the text column is missing or not text.</exception>
    /// <exception cref="MergeException">The family's sequence length (its <c>sentence_bert_config.json</c> <c>max_seq_length</c>,
    /// <c>tokenizer_config.json</c> <c>model_max_length</c>, else its position count) is not one the savable steps hold;
    /// the message names the file and key it came from.</exception>
    public IEstimator<ITransformer> TokenizeText(MergeFamily family, string textColumnName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(textColumnName);
        ArgumentNullException.ThrowIfNull(family);
        if (!family.IsText || family.VocabularyPath is not { } vocabulary)
            throw new ArgumentException("the family's encoder does not read WordPiece text (no text config with a vocab.txt).", nameof(family));
        if (!WordPieceSelectionLengths.Supported.Contains(family.SequenceLength))
            throw new MergeException(family.Family.Architecture.Text!.LengthSource, null,
                $"sets the sequence length {family.SequenceLength}; the savable WordPiece steps hold {string.Join(", ", WordPieceSelectionLengths.Supported)} tokens (each length is a row type compiled into MLNetMerge): set one of those there.");
        return new TextInputCheck(SavableWordPiece.Create(_ml, File.ReadAllLines(vocabulary), textColumnName, family.SequenceLength, family.LowerCase), textColumnName);
    }

    /// <summary>Class names (text) to a key column whose keys follow <paramref name="task"/>'s class order, so that key
    /// = class index + 1 lines up with the <c>Score</c> columns (<c>MapValueToKey</c> alone numbers keys in order of appearance).</summary>
    /// <exception cref="ArgumentException">No such task.</exception>
    public IEstimator<ITransformer> MapClassNamesToKeys(MergeFamily family, string task, string outputColumnName = "Label", string? inputColumnName = null)
    {
        ArgumentNullException.ThrowIfNull(family);
        ArgumentException.ThrowIfNullOrWhiteSpace(task);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputColumnName);
        if (inputColumnName is not null) ArgumentException.ThrowIfNullOrWhiteSpace(inputColumnName);
        ArgumentNullException.ThrowIfNull(family);
        return MulticlassEvaluation.TextLabelsToKeys(_ml, outputColumnName, inputColumnName ?? outputColumnName, family.ClassNames(task));
    }

    private static (ZooManifest Manifest, TaskDataset Data) ZooSplit(string directory, string task, string split)
    {
        var manifest = ZooManifest.Load(directory);
        var entry = manifest.Tasks.FirstOrDefault(t => t.Name == task)
            ?? throw new ArgumentException($"zoo '{directory}' has no task '{task}' (tasks: {string.Join(", ", manifest.Tasks.Select(t => t.Name))}).", nameof(task));
        var files = split switch
        {
            "test" => entry.Test,
            "validation" => entry.Validation,
            _ => throw new ArgumentException($"split '{split}'; a zoo stores 'validation' and 'test'.", nameof(split)),
        };
        return (manifest, ZooManifest.LoadSplit(directory, entry, files));
    }

    /// <summary>The model-input columns of a zoo split: pixels as stored (normalised), or token ids with their mask.</summary>
    private static ArrayDataViewBuilder Inputs(string directory, ZooManifest manifest, float[] features, int width)
    {
        var builder = new ArrayDataViewBuilder();
        if (!manifest.IsText) return builder.AddFloatVector(MergeColumns.PixelValues, features, width);
        var ids = features.Select(v => (long)v).ToArray();
        int pad = PadTokenId(Path.Combine(directory, manifest.Config));
        return builder.AddInt64Vector(MergeColumns.InputIds, ids, width)
            .AddInt64Vector(MergeColumns.AttentionMask, [.. ids.Select(id => id == pad ? 0L : 1L)], width);
    }

    /// <summary>The padding id of a text encoder: its config's <c>pad_token_id</c> (absent: 0, BERT's).</summary>
    private static int PadTokenId(string config)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(config));
        return doc.RootElement.TryGetProperty("pad_token_id", out var pad) && pad.TryGetInt32(out int id) ? id : 0;
    }
}
