using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Evaluation;
using MLNetMerge.Merging;
using MLNetMerge.Nn;
using MLNetMerge.Nn.Architectures;

namespace MLNetMerge.Alignment;

/// <summary>
/// What the weight-space alignment stages (AdaMerging, CART++, RegMean, Fisher) share: the family's encoder
/// (built from the <c>config.json</c> beside the base checkpoint), its parameter layout, each task's head and data checked
/// against the merged model, and weight vectors flattened in the arena's layout (P values, tensor after tensor).
/// </summary>
public sealed class EncoderWorkspace
{
    private EncoderWorkspace(FamilyEncoder encoder, string configJson, IReadOnlyList<string> tasks, IReadOnlyList<TaskHead> heads, IReadOnlyList<TaskDataset> data)
    {
        Family = encoder;
        ConfigJson = configJson;
        TaskNames = tasks;
        Heads = heads;
        Data = data;
    }

    /// <summary>The family's encoder, heads and weight lookups.</summary>
    public FamilyEncoder Family { get; }

    /// <summary>The encoder model (one set of buffers; its arena's values are overwritten by each use).</summary>
    public IDenseEncoder Model => Family.Encoder.Model;

    /// <summary>The encoder's <c>config.json</c> text (kept with the fitted model so that it can be restored).</summary>
    public string ConfigJson { get; }

    /// <summary>Tasks in the merged model's order.</summary>
    public IReadOnlyList<string> TaskNames { get; }

    /// <summary>Each task's head (from its fine-tuned checkpoint), in <see cref="TaskNames"/> order.</summary>
    public IReadOnlyList<TaskHead> Heads { get; }

    /// <summary>Each task's data, in <see cref="TaskNames"/> order.</summary>
    public IReadOnlyList<TaskDataset> Data { get; }

    /// <summary>
    /// Checks <paramref name="inputs"/> against <paramref name="merged"/> and opens the encoder: the family and the merged
    /// model must have the same tasks; <c>inputs.Data</c> must hold a non-empty dataset for exactly those tasks, with
    /// examples of the encoder's input size and as many classes as the task's head.
    /// </summary>
    /// <param name="stage">Stage name for messages.</param>
    /// <param name="merged">The merged model the stage is fitted on.</param>
    /// <param name="inputs">Family and data.</param>
    /// <exception cref="IncompatibleModelsException">The family's tasks differ from the merged model's.</exception>
    /// <exception cref="AlignmentDataException">Missing, extra, empty or mis-shaped data.</exception>
    /// <exception cref="CheckpointFormatException">A head is missing or of the wrong width.</exception>
    /// <exception cref="MergeException">No usable config.json beside the base checkpoint.</exception>
    public static EncoderWorkspace Open(string stage, MergedModel merged, MergeInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(merged);
        ArgumentNullException.ThrowIfNull(inputs);
        var family = inputs.Family;
        var tasks = merged.TaskNames;
        if (!family.TaskNames.OrderBy(t => t, StringComparer.Ordinal).SequenceEqual(tasks.OrderBy(t => t, StringComparer.Ordinal)))
            throw new IncompatibleModelsException(family.Base.Path, null,
                $"{stage}: the family's tasks ({string.Join(", ", family.TaskNames)}) are not the merged model's ({string.Join(", ", tasks)}).");
        var data = inputs.Data ?? throw new AlignmentDataException(null, $"{stage} needs unlabeled data for every task ({string.Join(", ", tasks)}); MergeInputs.Data is empty.");
        foreach (var name in data.Keys)
            if (!tasks.Contains(name))
                throw new AlignmentDataException(name, $"{stage} was given data for a task the merged model does not have (tasks: {string.Join(", ", tasks)}).");
        string configPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(family.Base.Path)) ?? ".", "config.json");
        if (!File.Exists(configPath))
            throw new MergeException(family.Base.Path, null, $"{stage} needs the encoder's config.json beside the base checkpoint (looked for {configPath}).");
        var encoder = FamilyEncoder.Create(family, configPath);
        var heads = new List<TaskHead>();
        var sets = new List<TaskDataset>();
        foreach (var task in tasks)
        {
            if (!data.TryGetValue(task, out var set))
                throw new AlignmentDataException(task, $"{stage} has no data for this task (data given for: {string.Join(", ", data.Keys)}).");
            if (set.Count == 0) throw new AlignmentDataException(task, $"{stage} was given an empty dataset.");
            if (set.FeatureLength != encoder.Encoder.Model.InputSize)
                throw new AlignmentDataException(task, $"examples have {set.FeatureLength} values; the {encoder.Encoder.Model.ArchitectureName} encoder expects {encoder.Encoder.Model.InputSize}.");
            var head = encoder.Head(task);
            if (set.ClassCount != head.ClassCount)
                throw new AlignmentDataException(task, $"the data has {set.ClassCount} classes but the head {TaskHead.WeightName} has {head.ClassCount}.");
            heads.Add(head);
            sets.Add(set);
        }
        return new EncoderWorkspace(encoder, File.ReadAllText(configPath), tasks, heads, sets);
    }

    /// <summary>Number of parameters P of the encoder.</summary>
    public int ParameterCount => Model.Parameters.Layout.TotalLength;

    /// <summary>A checkpoint's encoder weights flattened in the arena's layout (P).</summary>
    /// <exception cref="CheckpointFormatException">A tensor is missing or has the wrong size.</exception>
    public float[] Flatten(ICheckpointReader reader) => Flatten(Family.ReadWeights(reader));

    /// <summary>Weights by layout name flattened in the arena's layout (P).</summary>
    public float[] Flatten(IReadOnlyDictionary<string, float[]> byName)
    {
        ArgumentNullException.ThrowIfNull(byName);
        return Flatten(name => byName[name]);
    }

    /// <summary>A merged model's weights for <paramref name="task"/> (its own for per-task merges) flattened (P).</summary>
    public float[] Flatten(MergedModel merged, string task) => Flatten(Family.MergedWeights(merged, task));

    /// <summary>Weights from a lookup by layout name (no prefix) flattened in the arena's layout (P).</summary>
    public float[] Flatten(Func<string, float[]> lookup)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        var flat = new float[ParameterCount];                             // (P)
        foreach (var e in Model.Parameters.Layout.Entries) lookup(e.Name).AsSpan(0, e.Length).CopyTo(flat.AsSpan(e.Offset, e.Length));
        return flat;
    }

    /// <summary>The first <paramref name="count"/> examples of a task (all when it has fewer).</summary>
    public TaskDataset Take(int task, int count)
    {
        var set = Data[task];
        return count >= set.Count ? set : set.Subset(Enumerable.Range(0, count).ToArray());
    }

    /// <summary>Builds an encoder of the architecture a <c>config.json</c> text describes, with zero weights.</summary>
    /// <param name="configJson">The config text.</param>
    /// <param name="hasPooler">Whether a ViT has a pooler (<c>pooler.dense</c>), which config.json does not say.</param>
    /// <exception cref="MergeException">Not a dense-input architecture, or an invalid config.</exception>
    public static IDenseEncoder CreateEncoder(string configJson, bool hasPooler)
    {
        try
        {
            using var doc = JsonDocument.Parse(configJson);
            var root = doc.RootElement;
            var kind = ModelConfigFile.Detect(root);
            return kind switch
            {
                ArchitectureKind.Mlp => new Mlp(MlpConfig.FromJson(root)),
                ArchitectureKind.Vit => new VisionTransformer(VisionTransformerConfig.FromJson(root) with { Pooler = hasPooler }),
                ArchitectureKind.ClipVision => new VisionTransformer(VisionTransformerConfig.FromJson(root)),
                _ => throw new ArgumentException($"architecture {kind} has no dense encoder for alignment."),
            };
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new MergeException(null, null, "encoder config: " + e.Message, e);
        }
    }
}
