namespace MLNetMerge.Merging;

/// <summary>
/// One merge, two destinations: every tensor goes to a <see cref="DirectoryMergeSink"/> (the files a <c>merge</c> writes,
/// byte for byte) and to an <see cref="InMemoryMergeSink"/> (the model a run goes on to align, evaluate and export).
/// The memory side materializes what a per-task method needs in memory; the directory side writes only the tasks the
/// recipe asked to materialize.
/// </summary>
internal sealed class TeeMergeSink(DirectoryMergeSink directory, InMemoryMergeSink memory, IReadOnlyCollection<string> materializeOnDisk)
    : IMergeSink, IModulatorWriter
{
    private IModulatorWriter? _directoryModulators;

    /// <summary>The in-memory side's result after <see cref="Complete"/>.</summary>
    public MergedModel? Result => memory.Result;

    public void Begin(MergeLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        directory.Begin(layout with { MaterializedTasks = layout.MaterializedTasks.Where(materializeOnDisk.Contains).ToList() });
        memory.Begin(layout);
        _directoryModulators = directory.Modulators;
    }

    public void WriteModel(string name, ReadOnlySpan<float> values)
    {
        directory.WriteModel(name, values);
        memory.WriteModel(name, values);
    }

    public bool AcceptsSlices => true;

    public void WriteModelSlice(string name, long start, ReadOnlySpan<float> values)
    {
        directory.WriteModelSlice(name, start, values);
        memory.WriteModelSlice(name, start, values);
    }

    public bool RewritesModel => true;

    public void PatchModel(string name, ReadOnlySpan<long> positions, ReadOnlySpan<float> values)
    {
        directory.PatchModel(name, positions, values);
        memory.PatchModel(name, positions, values);
    }

    public void RewriteModelSlice(string name, long start, ReadOnlySpan<float> values)
    {
        directory.RewriteModelSlice(name, start, values);
        memory.RewriteModelSlice(name, start, values);
    }

    public void WriteModelRaw(string name, ReadOnlySpan<byte> bytes)
    {
        directory.WriteModelRaw(name, bytes);
        memory.WriteModelRaw(name, bytes);
    }

    public void WriteHeadRaw(string task, string name, ReadOnlySpan<byte> bytes)
    {
        directory.WriteHeadRaw(task, name, bytes);
        memory.WriteHeadRaw(task, name, bytes);
    }

    public IModulatorWriter Modulators => this;

    public void WriteFloat32(string name, ReadOnlySpan<float> values)
    {
        _directoryModulators!.WriteFloat32(name, values);
        memory.WriteFloat32(name, values);
    }

    public void WriteBytes(string name, ReadOnlySpan<byte> values)
    {
        _directoryModulators!.WriteBytes(name, values);
        memory.WriteBytes(name, values);
    }

    public void WriteTask(string task, string name, ReadOnlySpan<float> values)
    {
        if (materializeOnDisk.Contains(task)) directory.WriteTask(task, name, values);
        memory.WriteTask(task, name, values);
    }

    public void WriteTaskRaw(string task, string name, ReadOnlySpan<byte> bytes)
    {
        if (materializeOnDisk.Contains(task)) directory.WriteTaskRaw(task, name, bytes);
        memory.WriteTaskRaw(task, name, bytes);
    }

    public void Complete(MergeSummary summary)
    {
        directory.Complete(summary);
        memory.Complete(summary);
    }
}
