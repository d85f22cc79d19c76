using MLNetMerge.Checkpoints;

namespace MLNetMerge.Merging;

/// <summary>
/// The working set of one merged tensor inside a run: θ0, the task buffers (θt or τt), scratch space, and the
/// parameters resolved for this tensor. Buffers are pooled and longer than <see cref="Length"/>; use the spans.
/// </summary>
internal sealed class MergeTensorContext
{
    internal MergeTensorContext(int taskCount)
    {
        TaskArrays = new float[taskCount][];
        RangeTasks = new nint[taskCount];
    }

    /// <summary>The tensor.</summary>
    public TensorInfo Info { get; internal set; } = null!;

    /// <summary>Its position in the plan.</summary>
    public int Index { get; internal set; }

    /// <summary>Its block index (-1 when none).</summary>
    public int Layer { get; internal set; }

    /// <summary>The run's plan.</summary>
    public MergePlan Plan { get; internal set; } = null!;

    /// <summary>The run's parameters.</summary>
    public MergeParameters Parameters { get; internal set; } = null!;

    /// <summary>Element count of the buffers: the whole tensor, or one slice when the run is element-wise.</summary>
    public int Length { get; internal set; }

    /// <summary>First element of the buffers within the tensor (0 unless the executor streams slices).</summary>
    public long Offset { get; internal set; }

    /// <summary>Threads the run may use for this tensor when it parallelises inside it (<see cref="MergeRun.ParallelWithinTensor"/>).</summary>
    internal int MaxThreads { get; set; } = 1;

    /// <summary>Number of tasks.</summary>
    public int TaskCount => TaskArrays.Length;

    internal float[] BaseArray = [];
    internal float[][] TaskArrays;
    internal float[] ScratchArray = [];
    internal float[] OutputArray = [];

    /// <summary>Under <c>allow_nonfinite</c>: positions (within the buffers) where θ0 or a θt holds NaN or infinity, found
    /// when the item was loaded; empty when all inputs are finite.</summary>
    internal List<int> NonFinite = [];

    /// <summary>
    /// Set when the run reads its inputs in ranges (<see cref="MergeRun.ReadsRanges"/>): the base and task buffers then
    /// hold <see cref="TensorRangeReader.RangeElements"/> elements, filled by <see cref="ReadRange"/>, while the
    /// scratch and output buffers hold the whole tensor.
    /// </summary>
    internal TensorRangeReader? Ranges;

    /// <summary>True while a pass reads a sample of each item (<see cref="MergeRun.PassSampling"/>) rather than all of it.</summary>
    internal bool Sampled;

    /// <summary>Where a run that materializes tasks after the merge pass may keep per-tensor values until then (<see cref="IMergeSink.TaskScratch"/>), or null.</summary>
    internal ITensorScratch? Stash;

    /// <summary>After <see cref="ReadRange"/> or <see cref="ReadBaseRange"/>: the address of the range's θ0 (count floats),
    /// in place in its checkpoint's mapping or in the base buffer; valid until the next range or the end of the run.</summary>
    internal nint RangeBase;

    /// <summary>After <see cref="ReadRange"/>: the address of each θt's range (count floats each), as <see cref="RangeBase"/>.</summary>
    internal nint[] RangeTasks;

    /// <summary>True when the executor handed this item's θ0 and θt out by address (<see cref="RangeBase"/>,
    /// <see cref="RangeTasks"/>, <see cref="Length"/> floats each) for <see cref="MergeRun.MergesRawInPlace"/>; the base and
    /// task buffers then hold nothing of the item.</summary>
    internal bool InputsByAddress;

    private System.Runtime.InteropServices.GCHandle[]? _pins; // base and task buffers pinned once for the stage (slot + 1)

    /// <summary>The address of the base buffer (slot −1) or task buffer <paramref name="slot"/>, pinned the first time until
    /// <see cref="Unpin"/> (the buffers stay the same for a stage, so a range read into one is handed out by address).</summary>
    internal nint PinnedInput(int slot)
    {
        _pins ??= new System.Runtime.InteropServices.GCHandle[TaskArrays.Length + 1];
        ref var pin = ref _pins[slot + 1];
        var buffer = slot < 0 ? BaseArray : TaskArrays[slot];
        if (!pin.IsAllocated) pin = System.Runtime.InteropServices.GCHandle.Alloc(buffer, System.Runtime.InteropServices.GCHandleType.Pinned);
        else if (!ReferenceEquals(pin.Target, buffer)) throw new InvalidOperationException("an input buffer changed while pinned.");
        return pin.AddrOfPinnedObject();
    }

    /// <summary>Releases the pins of <see cref="PinnedInput"/> (before the buffers go back to their pool).</summary>
    internal void Unpin()
    {
        if (_pins is null) return;
        for (int i = 0; i < _pins.Length; i++)
            if (_pins[i].IsAllocated) _pins[i].Free();
        _pins = null;
    }

    /// <summary>Elements [start, start + count) of the tensor's θ0 and every θt, at <see cref="RangeBase"/> and <see cref="RangeTasks"/>.</summary>
    /// <exception cref="InvalidOperationException">The run does not read ranges.</exception>
    internal void ReadRange(long start, int count) =>
        (Ranges ?? throw new InvalidOperationException("the executor reads whole tensors for this run.")).Read(this, start, count);

    /// <summary>Elements [start, start + count) of the tensor's θ0 alone, at <see cref="RangeBase"/>.</summary>
    /// <exception cref="InvalidOperationException">The run does not read ranges.</exception>
    internal void ReadBaseRange(long start, int count) =>
        (Ranges ?? throw new InvalidOperationException("the executor reads whole tensors for this run.")).Read(this, start, count, baseOnly: true);

    /// <summary>θ0 for this tensor (length <see cref="Length"/>).</summary>
    public Span<float> Base => BaseArray.AsSpan(0, Length);

    /// <summary>Task buffer t: τt when the run uses task vectors, else θt.</summary>
    public Span<float> Task(int t) => TaskArrays[t].AsSpan(0, Length);

    /// <summary>Scratch space of <see cref="Length"/> floats (contents unspecified on entry).</summary>
    public Span<float> Scratch => ScratchArray.AsSpan(0, Length);

    /// <summary>The tensor's name.</summary>
    public string Name => Info.Name;

    /// <summary>A number parameter resolved for this tensor.</summary>
    public double Number(string name) => Parameters.Number(name, Info.Name, Layer, Plan.LayerCount);

    /// <summary>A per-model number parameter resolved for task <paramref name="task"/> and this tensor.</summary>
    public double Number(string name, int task) => Parameters.Number(name, task, Info.Name, Layer, Plan.LayerCount);
}
