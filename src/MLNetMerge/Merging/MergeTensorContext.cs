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

    /// <summary>Reads elements [start, start + count) of the tensor's θ0 and every θt into the first count elements of the base and task buffers.</summary>
    /// <exception cref="InvalidOperationException">The run does not read ranges.</exception>
    internal void ReadRange(long start, int count) =>
        (Ranges ?? throw new InvalidOperationException("the executor reads whole tensors for this run.")).Read(this, start, count);

    /// <summary>Reads elements [start, start + count) of the tensor's θ0 alone into the first count elements of the base buffer.</summary>
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
