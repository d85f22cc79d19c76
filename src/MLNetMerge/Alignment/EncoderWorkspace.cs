using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Encoders;
using MLNetMerge.Merging;
using MLNetMerge.Nn;

namespace MLNetMerge.Alignment;

/// <summary>
/// What the weight-space alignment stages (AdaMerging, CART++, RegMean, Fisher) share: the family's encoder session
/// (<see cref="ModelFamily.Session"/>), its parameter layout, each task's head and data checked
/// against the merged model, and weight vectors flattened in the arena's layout (P values, tensor after tensor).
/// </summary>
internal sealed class EncoderWorkspace
{
    private EncoderWorkspace(ModelFamily family, IReadOnlyList<string> tasks, IReadOnlyList<TaskHead> heads, IReadOnlyList<TaskDataset> data)
    {
        Family = family;
        TaskNames = tasks;
        Heads = heads;
        Data = data;
    }

    /// <summary>The family (checkpoints, heads).</summary>
    public ModelFamily Family { get; }

    /// <summary>The family's encoder session.</summary>
    public EncoderSession Session => Family.Session;

    /// <summary>The encoder model (one set of buffers; its arena's values are overwritten by each use).</summary>
    public IDenseEncoder Model => Session.Model;

    /// <summary>Tasks in the merged model's order.</summary>
    public IReadOnlyList<string> TaskNames { get; }

    /// <summary>Each task's head (from its fine-tuned checkpoint), in <see cref="TaskNames"/> order.</summary>
    public IReadOnlyList<TaskHead> Heads { get; }

    /// <summary>Each task's data, in <see cref="TaskNames"/> order.</summary>
    public IReadOnlyList<TaskDataset> Data { get; }

    /// <summary>
    /// Checks <paramref name="inputs"/> against <paramref name="merged"/> and opens the family's encoder session:
    /// the family and the merged model must have the same tasks; <c>inputs.Data</c> (checked by <see cref="AlignmentInputs"/>) must hold a non-empty dataset for exactly those tasks, with
    /// examples of the encoder's input size and as many classes as the task's head.
    /// </summary>
    /// <param name="stage">Stage name for messages.</param>
    /// <param name="merged">The merged model the stage is fitted on.</param>
    /// <param name="inputs">Family and data.</param>
    /// <exception cref="IncompatibleModelsException">The family's tasks differ from the merged model's.</exception>
    /// <exception cref="AlignmentDataException">Missing, extra, empty or mis-shaped data.</exception>
    /// <exception cref="CheckpointFormatException">A head is missing or of the wrong width.</exception>
    /// <exception cref="MergeException">The family's files describe no encoder the engine runs.</exception>
    public static EncoderWorkspace Open(string stage, MergedModel merged, MergeInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(merged);
        ArgumentNullException.ThrowIfNull(inputs);
        var family = inputs.Family;
        var tasks = merged.TaskNames;
        if (!family.TaskNames.OrderBy(t => t, StringComparer.Ordinal).SequenceEqual(tasks.OrderBy(t => t, StringComparer.Ordinal)))
            throw new IncompatibleModelsException(family.Base.Path, null,
                $"{stage}: the family's tasks ({string.Join(", ", family.TaskNames)}) are not the merged model's ({string.Join(", ", tasks)}).");
        var checkedData = AlignmentInputs.Check(stage, merged, inputs, family.Session);
        var heads = new List<TaskHead>();
        var sets = new List<TaskDataset>();
        foreach (var (task, set) in checkedData)
        {
            var head = family.Head(task);
            if (set.ClassCount != head.ClassCount)
                throw new AlignmentDataException(task, $"the data has {set.ClassCount} classes but the head {TaskHead.WeightName} has {head.ClassCount}.");
            heads.Add(head);
            sets.Add(set);
        }
        return new EncoderWorkspace(family, tasks, heads, sets);
    }

    /// <summary>Number of parameters P of the encoder.</summary>
    public int ParameterCount => Model.Parameters.Layout.TotalLength;

    /// <summary>A checkpoint's encoder weights flattened in the arena's layout (P).</summary>
    /// <exception cref="CheckpointFormatException">A tensor is missing or has the wrong size.</exception>
    public float[] Flatten(ICheckpointReader reader) => Flatten(Session.ReadWeights(reader));

    /// <summary>Weights by layout name flattened in the arena's layout (P).</summary>
    public float[] Flatten(IReadOnlyDictionary<string, float[]> byName)
    {
        ArgumentNullException.ThrowIfNull(byName);
        return Flatten(name => byName[name]);
    }

    /// <summary>A merged model's weights for <paramref name="task"/> (its own for per-task merges) flattened (P).</summary>
    public float[] Flatten(MergedModel merged, string task) => Flatten(Session.WeightsFor(merged, task));

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
}
