using MLNetMerge.Checkpoints;

namespace MLNetMerge.Merging;

/// <summary>
/// One method applied to one family. The executor streams every merged tensor through
/// <see cref="Visit"/> once per statistics pass (then calls <see cref="EndPass"/> with the per-tensor partial
/// results in tensor order, so reductions are deterministic), and finally through <see cref="Merge"/>.
/// Before each call the executor reads θ0 and every θt into the context and, when <see cref="UsesTaskVectors"/>,
/// turns the task buffers into task vectors τt = θt − θ0; then <see cref="Prepare"/> runs (e.g. DARE's drop).
/// Visit, Prepare and Merge may run concurrently for different tensors and must only touch the context.
/// </summary>
internal abstract class MergeRun
{
    /// <summary>
    /// The parameters values resolve from, when the method filled in defaults it chooses itself (TIES's λ 0.3 with
    /// <c>merge: sum</c>, DARE's λ by base method); null means the parameters the run was begun with. The executor
    /// resolves <see cref="MergeTensorContext.Number(string)"/> and reports the summary from these.
    /// </summary>
    public virtual MergeParameters? Parameters => null;

    /// <summary>Task buffers hold τt = θt − θ0 (true) or θt (false).</summary>
    public virtual bool UsesTaskVectors => true;

    /// <summary>
    /// Whether <see cref="Prepare"/> and <see cref="Merge"/> work element by element: no statistic over the tensor,
    /// no randomness tied to an element's position, no per-task outputs. Then merging any slice of a tensor gives that
    /// slice of the whole-tensor result, and the executor streams the merge pass in cache-sized slices
    /// (<see cref="MergeTensorContext.Offset"/> is the slice's first element).
    /// </summary>
    public virtual bool IsElementwise => false;

    /// <summary>
    /// Whether the merge pass fuses everything into <see cref="MergeRaw"/>: the executor then leaves the task buffers
    /// holding θt (no τt = θt − θ0 sweep, no separate finite-check sweep) and calls <see cref="MergeRaw"/> instead of
    /// <see cref="Prepare"/> and <see cref="Merge"/>. Only for runs without passes whose Prepare does nothing.
    /// </summary>
    public virtual bool MergesRaw => false;

    /// <summary>Whether a true <see cref="MergeRaw"/> also says the output is finite (its check runs on the output), so
    /// the executor's check of the merged values (<see cref="NonFiniteOutputs"/>) has nothing left to find for a float32
    /// or float64 output.</summary>
    public virtual bool MergeRawChecksOutput => false;

    /// <summary>
    /// The fused merge of <see cref="MergesRaw"/> runs: writes what <see cref="Merge"/> would write, reading θ0 and the
    /// raw θt buffers; returns false when an input or an intermediate τt is NaN or infinite (the executor then checks the
    /// inputs one by one to name the file and tensor).
    /// </summary>
    /// <exception cref="NotSupportedException">The run does not merge raw buffers.</exception>
    /// <remarks>Where <see cref="MergeRawChecksOutput"/>, true also means every output value is finite.</remarks>
    public virtual bool MergeRaw(MergeTensorContext ctx, Span<float> output) =>
        throw new NotSupportedException($"{GetType().Name} does not merge raw buffers.");

    /// <summary>
    /// Whether <see cref="MergeRaw"/> of a slice reads θ0 and θt by address (<see cref="MergeTensorContext.RangeBase"/>,
    /// <see cref="MergeTensorContext.RangeTasks"/>) instead of from the base and task buffers: the executor then hands each
    /// input out in place where its checkpoint maps it (<see cref="Checkpoints.ICheckpointReader.TryMapFloat32"/>) and
    /// reads the others into the buffers. Only with <see cref="MergesRaw"/>, for slices (element-wise streaming).
    /// </summary>
    internal virtual bool MergesRawInPlace => false;

    /// <summary>
    /// Whether <see cref="MergeRaw"/> reads its whole-tensor inputs itself, in consecutive ranges
    /// (<see cref="MergeTensorContext.ReadRange"/>), keeping per-tensor state across them in element order: θ0 and every
    /// θt of a range stay in the core's cache, as with slices, where the run's result is not one of independent slices
    /// (EMR's rescaler sums, each one float64 accumulator over the tensor). Only with <see cref="MergesRaw"/>; the
    /// executor falls back to whole tensors when a reader cannot read ranges.
    /// </summary>
    internal virtual bool ReadsRanges => false;

    /// <summary>
    /// Whether <see cref="MaterializeTask"/> after the merge pass (<see cref="MaterializesAfterMerge"/>) reads θ0 itself
    /// range by range (<see cref="MergeTensorContext.ReadBaseRange"/>) — worth it for one task; several tasks would each
    /// read θ0 again, where the executor reads it once per tensor.
    /// </summary>
    internal virtual bool ReadsRangesAfterMerge => false;

    /// <summary>
    /// Whether the run reads the task vectors only through their weighted sum <c>Σt w_t τt</c> (w_t from
    /// <see cref="TaskWeight"/>): the executor then accumulates the sum into <see cref="MergeTensorContext.Task"/>(0) as it
    /// reads the models, each θt passing through <see cref="MergeTensorContext.Scratch"/>, so a worker holds one task
    /// buffer instead of T (the other task buffers are empty). Each τt is weighted (where w_t ≠ 1) and added in task
    /// order, the arithmetic of weighting the buffers and then summing them. <see cref="Prepare"/> is not called.
    /// Only for whole-tensor runs without passes.
    /// </summary>
    internal virtual bool UsesOnlyTaskSum => false;

    /// <summary>w_t of <see cref="UsesOnlyTaskSum"/> runs for the context's tensor.</summary>
    internal virtual float TaskWeight(MergeTensorContext ctx, int task) => 1f;

    /// <summary>
    /// Whether the run parallelises inside one tensor (over <see cref="MergeTensorContext.MaxThreads"/> threads) instead of
    /// being given several tensors at once: the executor then runs one worker, so memory holds one tensor's buffers.
    /// </summary>
    internal virtual bool ParallelWithinTensor => false;

    /// <summary>Number of statistics passes before the merge pass (it may grow after <see cref="EndMerge"/>: see <see cref="MergeAgain"/>).</summary>
    public virtual int PassCount => 0;

    /// <summary>
    /// Statistics pass <paramref name="pass"/> reads one element in this many: of each slice, a run of
    /// <c>⌊length / n⌋</c> (at least 1) elements at a spot fixed by the slice's index, so every tensor is sampled in
    /// proportion to its size (only where the executor streams slices; whole tensors are read whole). The inputs are then
    /// checked for non-finite values in the next pass that reads them whole. 1 (default): the whole of every tensor.
    /// </summary>
    internal virtual int PassSampling(int pass) => 1;

    /// <summary>Per-tensor transformation of the task buffers applied before every pass and the merge.</summary>
    public virtual void Prepare(MergeTensorContext ctx) { }

    /// <summary>Computes this tensor's contribution to pass <paramref name="pass"/>'s statistic.</summary>
    public virtual object? Visit(int pass, MergeTensorContext ctx) => null;

    /// <summary>
    /// Folds the results of two consecutive slices of one tensor (element-wise runs only; the executor folds a tensor's
    /// slices in order, so <see cref="EndPass"/> still gets one partial per tensor). Default: no partials to fold.
    /// </summary>
    /// <exception cref="InvalidOperationException">Both are non-null and the run does not say how to fold them.</exception>
    public virtual object? CombinePartials(object? first, object? second) =>
        first is null ? second : second is null ? first
            : throw new InvalidOperationException($"{GetType().Name} returns per-tensor partials but does not combine slices.");

    /// <summary>Reduces the per-tensor results of a pass (indexed like the plan's tensors).</summary>
    public virtual void EndPass(int pass, object?[] partials) { }

    /// <summary>
    /// Per-task runs: whether the tasks of <see cref="MergePlan.Materialized"/> are written after the merge pass instead of
    /// inside it, because the merge pass itself gathers a statistic they need (EMR's rescalers, counted in the election
    /// sweep instead of a pass of their own). The executor then calls <see cref="EndMerge"/> and streams θ0 alone once
    /// more, calling <see cref="MaterializeTask"/> with only <see cref="MergeTensorContext.Base"/> read (nothing read when
    /// <see cref="ReadsRangesAfterMerge"/>) and an empty merged span.
    /// </summary>
    public virtual bool MaterializesAfterMerge => false;

    /// <summary>Called once after the merge pass, before <see cref="GlobalModulators"/> are written.</summary>
    public virtual void EndMerge() { }

    /// <summary>
    /// After <see cref="EndMerge"/>: merged elements the merge pass wrote as placeholders because it could not settle them
    /// yet (only with <see cref="MergePlan.RewritableOutput"/>), per tensor with their final values; the executor has the
    /// sink patch them in. Empty by default.
    /// </summary>
    internal virtual IEnumerable<LateElements> LateElements() => [];

    /// <summary>
    /// After <see cref="EndMerge"/>: true when some placeholders could not be kept (<see cref="LateElements"/> would have
    /// grown past its memory bound) and were not right after all, or could not be settled; the executor then runs the
    /// statistics passes the run now asks for (<see cref="PassCount"/> beyond those done) and merges every tensor once more,
    /// rewriting it, with everything the run learned. False by default.
    /// </summary>
    internal virtual bool MergeAgain => false;

    /// <summary>Writes the merged (for per-task methods: unified) weights θ of the tensor into <paramref name="output"/>.</summary>
    public abstract void Merge(MergeTensorContext ctx, Span<float> output);

    /// <summary>Per-task methods: the modulator tensors stored for one merged tensor (masks, low-rank factors).</summary>
    public virtual IReadOnlyList<TensorEntry> ModulatorsFor(TensorInfo tensor) => [];

    /// <summary>Per-task methods: modulators that are not per tensor (e.g. EMR's rescalers), known after the merge pass (their entries before it).</summary>
    public virtual IReadOnlyList<(TensorEntry Entry, float[] Values)> GlobalModulators() => [];

    /// <summary>Per-task methods: writes this tensor's modulators (called after <see cref="Merge"/> with the same context).</summary>
    public virtual void WriteModulators(MergeTensorContext ctx, ReadOnlySpan<float> merged, IModulatorWriter writer) { }

    /// <summary>Per-task methods: task <paramref name="task"/>'s own weights θ̂t for the tensor (after <see cref="Merge"/>).</summary>
    public virtual void MaterializeTask(MergeTensorContext ctx, ReadOnlySpan<float> merged, int task, Span<float> output) =>
        merged.CopyTo(output);

    /// <summary>Extra lines for the model card and the run summary (thresholds, rescalers).</summary>
    public virtual IReadOnlyDictionary<string, string> Notes() => new Dictionary<string, string>();
}

/// <summary>Receives modulator tensors declared by <see cref="MergeRun.ModulatorsFor"/>.</summary>
internal interface IModulatorWriter
{
    /// <summary>Writes a float modulator.</summary>
    void WriteFloat32(string name, ReadOnlySpan<float> values);

    /// <summary>Writes a byte modulator (packed masks).</summary>
    void WriteBytes(string name, ReadOnlySpan<byte> values);
}
