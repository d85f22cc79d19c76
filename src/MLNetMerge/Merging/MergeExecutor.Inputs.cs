using System.Numerics.Tensors;
using MLNetMerge.Checkpoints;
using MLNetMerge.Encoders;
using MLNetMerge.Tensors;

namespace MLNetMerge.Merging;

/// <summary>The executor's per-worker buffers and how a work item's θ0 and θt get into them.</summary>
internal static partial class MergeExecutor
{
    /// <summary>Buffers of n elements; θ0 and the task buffers of <paramref name="inputs"/> instead when that is not 0 (runs reading ranges).</summary>
    private static void Rent(MergeTensorContext ctx, int n, int taskBuffers, int inputs = 0)
    {
        int m = inputs > 0 ? inputs : n;
        ctx.BaseArray = BufferPool<float>.Shared.Rent(m);                      // (m)
        ctx.ScratchArray = BufferPool<float>.Shared.Rent(n);                   // (n)
        ctx.OutputArray = BufferPool<float>.Shared.Rent(n);                    // (n)
        for (int t = 0; t < taskBuffers; t++) ctx.TaskArrays[t] = BufferPool<float>.Shared.Rent(m); // T × (m), or 1 for a task-sum run
    }

    /// <summary>
    /// Reads θ0 and every θt of <paramref name="item"/> into the context (τt = θt − θ0 when <paramref name="subtract"/>),
    /// checking them for non-finite values; with <paramref name="sumRun"/> each τt goes through the scratch buffer into
    /// the weighted sum in task buffer 0 (<see cref="MergeRun.UsesOnlyTaskSum"/>); with <paramref name="baseOnly"/> θ0 alone.
    /// With <paramref name="taskThreads"/> above 1 (a run that takes one tensor at a time and parallelises inside it, so the
    /// executor's only worker would read the T inputs alone while the other cores wait) the tasks are read side by side:
    /// each writes only its own buffer, so the buffers are the same; when several inputs are bad, the error is the one of
    /// the lowest task, as when they are read in order.
    /// </summary>
    private static unsafe void Load(ModelFamily family, MergePlan plan, MergeTensorContext ctx, MergeWorkItem item, bool checkFinite, bool subtract, bool allowNonFinite,
        MergeRun? sumRun = null, bool baseOnly = false, int taskThreads = 1)
    {
        var info = Describe(plan, ctx, item);
        bool whole = item.Start == 0 && item.Length == info.ElementCount;
        if (whole) family.Base.ReadFloat32(info, ctx.Base);
        else family.Base.ReadFloat32(info, item.Start, ctx.Base);
        if (checkFinite) NonFiniteInputs.Check(family.Base, info.Name, ctx.Base, item.Start);
        if (allowNonFinite) NonFiniteInputs.Find(ctx.Base, ctx.NonFinite);
        int tasks = baseOnly ? 0 : plan.TaskCount;
        // Side by side only where tasks share nothing they write: not into a running sum, not into the non-finite positions.
        if (taskThreads > 1 && tasks > 1 && sumRun is null && !allowNonFinite)
        {
            var failures = new Exception?[tasks];
            GemmWorkerPool.Shared.ForEach(tasks, taskThreads, t =>
            {
                try { LoadTask(family, info, ctx, item, t, whole, checkFinite, subtract, allowNonFinite: false, sumRun: null); }
                catch (Exception e) { failures[t] = e; }
            });
            if (Array.Find(failures, f => f is not null) is { } first) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
            return;
        }
        for (int t = 0; t < tasks; t++) LoadTask(family, info, ctx, item, t, whole, checkFinite, subtract, allowNonFinite, sumRun);
    }

    /// <summary>Reads θt of <paramref name="item"/> into task buffer <paramref name="t"/> (τt = θt − θ0 when
    /// <paramref name="subtract"/>), or through the scratch buffer into the running sum with <paramref name="sumRun"/>.</summary>
    private static unsafe void LoadTask(ModelFamily family, TensorInfo info, MergeTensorContext ctx, MergeWorkItem item, int t, bool whole,
        bool checkFinite, bool subtract, bool allowNonFinite, MergeRun? sumRun)
    {
        var reader = family.Tasks[t].Reader;
        reader.TryGetTensor(info.Name, out var ti);
        var task = sumRun is null ? ctx.Task(t) : ctx.Scratch;
        // θt in place in its checkpoint's mapping when the reader hands it out (F32 safetensors: τt = θt − θ0 then
        // reads it once, without a copy into the task buffer first), else read into the task buffer.
        float* inPlace = subtract ? reader.TryMapFloat32(ti, item.Start, item.Length) : null;
        if (inPlace is null)
        {
            if (whole) reader.ReadFloat32(ti, task);
            else reader.ReadFloat32(ti, item.Start, task);
        }
        ReadOnlySpan<float> theta = inPlace is null ? task : new ReadOnlySpan<float>(inPlace, item.Length);
        // One sweep; on a non-finite input read it again to name the element.
        bool done = checkFinite && subtract && SubtractChecked.Run(theta, ctx.Base, task);
        if (!done)
        {
            if (checkFinite && subtract && inPlace is null)
            {
                if (whole) reader.ReadFloat32(ti, task);
                else reader.ReadFloat32(ti, item.Start, task);
            }
            if (checkFinite) NonFiniteInputs.Check(reader, info.Name, theta, item.Start);
            if (allowNonFinite) NonFiniteInputs.Find(theta, ctx.NonFinite);
            if (subtract) TensorPrimitives.Subtract(theta, ctx.Base, task);
        }
        if (sumRun is not null) AddToSum(ctx, task, sumRun.TaskWeight(ctx, t), first: t == 0);
    }

    /// <summary>
    /// For <see cref="MergeRun.MergesRawInPlace"/> runs: the addresses of <paramref name="item"/>'s θ0 and every θt in the
    /// context (<see cref="MergeTensorContext.RangeBase"/>, <see cref="MergeTensorContext.RangeTasks"/>), each in place in
    /// its checkpoint's mapping or read into the context's buffers; non-finite positions recorded under <c>allow_nonfinite</c>
    /// (the fused merge reports any other non-finite input itself).
    /// </summary>
    private static void LoadByAddress(ModelFamily family, MergePlan plan, MergeTensorContext ctx, MergeWorkItem item, bool allowNonFinite)
    {
        var info = Describe(plan, ctx, item);
        TensorRangeReader.Place(family, info, item.Start, item.Length, ctx, allowNonFinite ? 0 : -1, baseOnly: false); // positions within the slice
        ctx.InputsByAddress = true;
    }

    /// <summary>Points the context at <paramref name="item"/> (tensor, layer, offset, length) without reading anything.</summary>
    private static TensorInfo Describe(MergePlan plan, MergeTensorContext ctx, MergeWorkItem item)
    {
        var info = plan.Tensors[item.Tensor];
        ctx.Info = info;
        ctx.Index = item.Tensor;
        ctx.Layer = LayerIndex.Of(info.Name);
        ctx.Offset = item.Start;
        ctx.Length = item.Length;
        ctx.NonFinite.Clear();
        ctx.InputsByAddress = false;
        return info;
    }

    /// <summary>Task buffer 0 ← (first ? 0 : itself) + w·τ, weighting only where w ≠ 1: the arithmetic of weighting each buffer, then summing them in order from 0.</summary>
    private static void AddToSum(MergeTensorContext ctx, Span<float> tau, float weight, bool first)
    {
        if (weight != 1f) TensorPrimitives.Multiply(tau, weight, tau);
        var sum = ctx.Task(0);
        if (first) sum.Clear();
        TensorPrimitives.Add(sum, tau, sum);
    }

    private static void Release(MergeTensorContext ctx)
    {
        ctx.Unpin();
        if (ctx.BaseArray.Length > 0) BufferPool<float>.Shared.Return(ctx.BaseArray);
        if (ctx.ScratchArray.Length > 0) BufferPool<float>.Shared.Return(ctx.ScratchArray);
        if (ctx.OutputArray.Length > 0) BufferPool<float>.Shared.Return(ctx.OutputArray);
        for (int t = 0; t < ctx.TaskArrays.Length; t++)
        {
            if (ctx.TaskArrays[t] is { Length: > 0 } a) BufferPool<float>.Shared.Return(a);
            ctx.TaskArrays[t] = [];
        }
        ctx.BaseArray = [];
        ctx.ScratchArray = [];
        ctx.OutputArray = [];
    }
}
