using MLNetMerge.Alignment;
using MLNetMerge.Checkpoints.Onnx.Protobuf;
using MLNetMerge.Encoders;
using MLNetMerge.Merging;

namespace MLNetMerge.Export;

/// <summary>One ONNX graph serving some tasks: the tasks share its encoder weights and each has its own head.</summary>
/// <param name="Tasks">The tasks, in the order asked for.</param>
/// <param name="Model">Inputs as the encoder's (<c>pixel_values</c>, or <c>input_ids</c> and <c>attention_mask</c>);
/// outputs <see cref="EmbeddingOutput"/> (batch, E) and, per task, <see cref="LogitsOutput"/> (batch, classes).</param>
internal sealed record TaskGraph(IReadOnlyList<string> Tasks, ModelProto Model)
{
    /// <summary>The embedding output.</summary>
    public const string EmbeddingOutput = "embedding";

    /// <summary>The logits output of <paramref name="task"/>.</summary>
    public static string LogitsOutput(string task) => "logits_" + task;
}

/// <summary>
/// Builds the fewest encoder-plus-head graphs that serve a fitted model's tasks: tasks whose encoder weights are the same
/// (every task of a shared-weight merge, or of a stage that only changes heads) share one graph with a head each; tasks
/// that run their own weights (EMR, TALL, stages with per-task layers) get one graph each. A feature transform a stage
/// learned is fused into its head, a surgery module runs before it; a stage whose per-task part neither holds is refused.
/// </summary>
internal static class TaskGraphs
{
    /// <summary>The graphs serving <paramref name="tasks"/> of <paramref name="merged"/>, after <paramref name="aligned"/> when given.</summary>
    /// <exception cref="IncompatibleModelsException">The model does not know its architecture, a task has no head, a
    /// per-task method's task weights were not kept, or the stage learned a non-linear per-task part.</exception>
    public static IReadOnlyList<TaskGraph> Build(MergedModel merged, AlignedModel? aligned, IReadOnlyList<string> tasks, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(merged);
        ArgumentNullException.ThrowIfNull(tasks);
        var architecture = merged.Architecture ?? throw new IncompatibleModelsException(null, null,
            "the merged model does not know its encoder's architecture (no config.json beside the base), so it cannot run as ONNX.");
        if (options.TextPooling is null && architecture.Text is { } text) options = options with { TextPooling = text.Pooling };
        object config = OnnxExport.ArchitectureOf(merged)!;
        var exports = tasks.Select(t => (Task: t, Export: ExportOf(merged, aligned, t, architecture.Prefix))).ToList();
        var graphs = new List<TaskGraph>();
        foreach (var group in exports.GroupBy(e => e.Export.WeightsKey))
        {
            var members = group.ToList();
            var heads = members.Select(m => HeadOf(m.Task, m.Export)).ToList();
            var model = OnnxExporter.Build(config, members[0].Export.Weights, heads, options);
            if (heads.Count == 1) RenameOutput(model, "logits", TaskGraph.LogitsOutput(heads[0].Task));
            graphs.Add(new TaskGraph(members.Select(m => m.Task).ToList(), model));
        }
        return graphs;
    }

    /// <summary>What a graph of <paramref name="task"/> runs: the merge's weights and head, or the stage's when
    /// <paramref name="aligned"/> is given.</summary>
    /// <exception cref="IncompatibleModelsException">No such task, no head, per-task weights not kept, or a stage part no graph holds.</exception>
    public static TaskExport ExportOf(MergedModel merged, AlignedModel? aligned, string task, string prefix) =>
        aligned is null ? Merged(merged, task, prefix)
            : aligned.ExportTask(task) ?? throw new IncompatibleModelsException(null, null,
                $"alignment stage '{aligned.Method}' gives task '{task}' a part that an encoder-plus-head graph cannot hold; evaluate it with the engine instead.");

    /// <summary>The exported head of <paramref name="task"/> (with its surgery module, when the stage learned one).</summary>
    public static OnnxHead HeadOf(string task, TaskExport export) =>
        new(task, export.Head.Weight, export.Head.Bias, export.Head.ClassCount, export.Adapter);

    /// <summary>A task of a plain merge: the weights it runs (its own for a per-task method) and its fine-tuned head.</summary>
    private static TaskExport Merged(MergedModel merged, string task, string prefix)
    {
        if (!merged.TaskNames.Contains(task))
            throw new IncompatibleModelsException(null, null, $"the merged model has no task '{task}' (tasks: {string.Join(", ", merged.TaskNames)}).");
        bool perTask = merged.Summary.Method.IsPerTask;
        if (perTask && !merged.TaskTensors.ContainsKey(task))
            throw new IncompatibleModelsException(null, null, $"{merged.Summary.Method.Name} gives task '{task}' its own weights, and the merged model did not keep them.");
        if (!merged.HeadEntries.TryGetValue($"{task}.{TaskHead.WeightName}", out var w) || w.Shape is not [int classes, int width])
            throw new IncompatibleModelsException(null, TaskHead.WeightName, $"task '{task}' has no 2-D head weight to run.");
        var bias = merged.HeadEntries.ContainsKey($"{task}.{TaskHead.BiasName}") ? merged.HeadFloat32(task, TaskHead.BiasName) : new float[classes];
        var head = new TaskHead(merged.HeadFloat32(task, TaskHead.WeightName), bias, classes, width);
        return new TaskExport(name => merged.Tensors.ContainsKey(prefix + name) ? merged.TensorFor(task, prefix + name) : null, head,
            perTask ? (merged, task) : merged);
    }

    /// <summary>Renames graph output <paramref name="from"/> (and every use of the value) to <paramref name="to"/>.</summary>
    /// <exception cref="ArgumentException">No output <paramref name="from"/>, or a value named <paramref name="to"/> exists.</exception>
    public static void RenameOutput(ModelProto model, string from, string to)
    {
        var output = model.Graph.Output.FirstOrDefault(o => o.Name == from)
            ?? throw new ArgumentException($"the graph has no output '{from}'; its outputs are {string.Join(", ", model.Graph.Output.Select(o => o.Name))}.", nameof(from));
        if (model.Graph.Node.Any(n => n.Output.Contains(to)) || model.Graph.Input.Any(i => i.Name == to))
            throw new ArgumentException($"the graph already has a value named '{to}'.", nameof(to));
        foreach (var node in model.Graph.Node)
        {
            for (int i = 0; i < node.Output.Count; i++) if (node.Output[i] == from) node.Output[i] = to;
            for (int i = 0; i < node.Input.Count; i++) if (node.Input[i] == from) node.Input[i] = to;
        }
        output.Name = to;
    }
}
