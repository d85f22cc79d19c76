using MLNetMerge.Checkpoints;

namespace MLNetMerge.Merging;

/// <summary>Every tensor a merge will produce, known before any is written (safetensors headers need it).</summary>
/// <param name="Model">The merged (or unified) model: merged tensors and copied integer tensors.</param>
/// <param name="Heads">Per task, its head tensors.</param>
/// <param name="Modulators">Per-task methods' modulators (masks, rescalers, low-rank factors); empty otherwise.</param>
/// <param name="MaterializedTasks">Tasks whose full checkpoint (model + head) is also written.</param>
internal sealed record MergeLayout(
    IReadOnlyList<TensorEntry> Model,
    IReadOnlyDictionary<string, IReadOnlyList<TensorEntry>> Heads,
    IReadOnlyList<TensorEntry> Modulators,
    IReadOnlyList<string> MaterializedTasks);

/// <summary>Per-tensor float32 scratch kept outside memory (see <see cref="IMergeSink.TaskScratch"/>).</summary>
internal interface ITensorScratch
{
    /// <summary>Keeps <paramref name="values"/> for <paramref name="tensor"/>; false when it cannot (the caller keeps them).</summary>
    bool TryWrite(string tensor, ReadOnlySpan<float> values);

    /// <summary>Reads back what <see cref="TryWrite"/> kept for <paramref name="tensor"/>.</summary>
    void Read(string tensor, Span<float> values);
}

/// <summary>Where a merge's results go: a directory of safetensors files, or memory.</summary>
internal interface IMergeSink
{
    /// <summary>Called once before any tensor, with the full layout.</summary>
    void Begin(MergeLayout layout);

    /// <summary>A merged model tensor (float32, converted to the entry's dtype).</summary>
    void WriteModel(string name, ReadOnlySpan<float> values);

    /// <summary>Whether <see cref="WriteModelSlice"/> is supported (the executor then streams element-wise methods in slices).</summary>
    bool AcceptsSlices => false;

    /// <summary>Elements <c>[start, start + values.Length)</c> of a merged model tensor; slices of one tensor arrive in any
    /// order and never overlap.</summary>
    /// <exception cref="NotSupportedException">The sink takes whole tensors only (<see cref="AcceptsSlices"/> is false).</exception>
    void WriteModelSlice(string name, long start, ReadOnlySpan<float> values) =>
        throw new NotSupportedException($"{GetType().Name} takes whole tensors only.");

    /// <summary>
    /// Whether <see cref="PatchModel"/> and <see cref="RewriteModelSlice"/> work on tensors already written: a run may then
    /// write placeholders for elements it can only settle after the merge pass. Default false.
    /// </summary>
    bool RewritesModel => false;

    /// <summary>Sets elements <paramref name="positions"/> (ascending, within the tensor) of a merged model tensor already
    /// written to <paramref name="values"/>, leaving its other elements as they are. Calls on one tensor may run at once
    /// when their position ranges do not interleave.</summary>
    /// <exception cref="NotSupportedException"><see cref="RewritesModel"/> is false.</exception>
    void PatchModel(string name, ReadOnlySpan<long> positions, ReadOnlySpan<float> values) =>
        throw new NotSupportedException($"{GetType().Name} does not rewrite what it wrote.");

    /// <summary>Overwrites elements <c>[start, start + values.Length)</c> of a merged model tensor already written.</summary>
    /// <exception cref="NotSupportedException"><see cref="RewritesModel"/> is false.</exception>
    void RewriteModelSlice(string name, long start, ReadOnlySpan<float> values) =>
        throw new NotSupportedException($"{GetType().Name} does not rewrite what it wrote.");

    /// <summary>A copied model tensor's raw bytes.</summary>
    void WriteModelRaw(string name, ReadOnlySpan<byte> bytes);

    /// <summary>A task's head tensor, raw bytes in its stored dtype.</summary>
    void WriteHeadRaw(string task, string name, ReadOnlySpan<byte> bytes);

    /// <summary>Writer for modulator tensors.</summary>
    IModulatorWriter Modulators { get; }

    /// <summary>A tensor of a materialized task's checkpoint.</summary>
    void WriteTask(string task, string name, ReadOnlySpan<float> values);

    /// <summary>A raw tensor (copied integer tensor or head) of a materialized task's checkpoint.</summary>
    void WriteTaskRaw(string task, string name, ReadOnlySpan<byte> bytes);

    /// <summary>
    /// Scratch space in task <paramref name="task"/>'s own output for values a run keeps until it writes that task's
    /// tensors (EMR's unified vector, from the merge pass until the task is written after it), or null: keep them in
    /// memory. Default null.
    /// </summary>
    ITensorScratch? TaskScratch(string task) => null;

    /// <summary>Called once after every tensor was written.</summary>
    void Complete(MergeSummary summary);
}

/// <summary>Progress of a long operation.</summary>
/// <param name="Stage">What is running (e.g. <c>pass 1/3</c>, <c>merge</c>).</param>
/// <param name="Completed">Units done.</param>
/// <param name="Total">Units in the stage.</param>
/// <param name="Loss">Running loss of a training stage (alignment, coefficient learning), or null.</param>
public sealed record MergeProgress(string Stage, long Completed, long Total, double? Loss = null);

/// <summary>What a merge did: method, parameters, tasks and the method's notes (thresholds, rescalers).</summary>
/// <param name="Method">The method.</param>
/// <param name="Parameters">The parameters.</param>
/// <param name="TaskNames">The tasks.</param>
/// <param name="Notes">Method notes.</param>
/// <param name="MergedParameterCount">Elements merged.</param>
internal sealed record MergeSummary(MergeMethod Method, MergeParameters Parameters, IReadOnlyList<string> TaskNames,
    IReadOnlyDictionary<string, string> Notes, long MergedParameterCount)
{
    /// <summary>Notes whose key starts with this are warnings: a structural rule of the recipe that matched nothing.</summary>
    internal const string WarningPrefix = "warning.";

    /// <summary>The warnings among <see cref="Notes"/>, in key order.</summary>
    internal IEnumerable<string> Warnings =>
        Notes.Where(n => n.Key.StartsWith(WarningPrefix, StringComparison.Ordinal)).OrderBy(n => n.Key, StringComparer.Ordinal).Select(n => n.Value);
}
