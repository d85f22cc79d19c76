using System.Numerics.Tensors;
using MLNetMerge.Checkpoints;
using MLNetMerge.Encoders;
using MLNetMerge.Errors;
using MLNetMerge.Tensors;

namespace MLNetMerge.Merging;

/// <summary>
/// NaN and infinity in a merge's inputs: by default a one-line error naming the file, the tensor and the element;
/// under <c>allow_nonfinite</c> their positions, and the rule that keeps them non-finite in every output.
/// </summary>
internal static class NonFiniteInputs
{
    /// <summary>
    /// The rule of <c>allow_nonfinite</c>, the same for every method: an element where θ0 or any θt holds NaN or infinity
    /// is non-finite in the output — the value the method's arithmetic gives when that is already non-finite (task
    /// arithmetic's NaN or ±∞), else NaN. A method that selects elements (TIES's trim and sign election, DARE's drop,
    /// magnitude masks) thus never turns a non-finite input into a finite weight unnoticed.
    /// </summary>
    public static void Keep(MergeTensorContext ctx, Span<float> output)
    {
        foreach (int i in ctx.NonFinite)
            if (float.IsFinite(output[i])) output[i] = float.NaN;
    }

    /// <summary>
    /// Sets every task vector to 0 at the context's non-finite positions, for methods whose statistics over the model
    /// (PCB's cuts, TATR's trust region) must not see NaN or infinity: such an element counts as τ = 0 in them, and
    /// <see cref="Keep"/> makes it non-finite in the output again.
    /// </summary>
    public static void ZeroTaskVectors(MergeTensorContext ctx)
    {
        foreach (int i in ctx.NonFinite)
            for (int t = 0; t < ctx.TaskCount; t++) ctx.Task(t)[i] = 0;
    }

    /// <summary>
    /// The context's non-finite positions as τ = 0 for a method whose statistics span elements: zero in task-vector
    /// buffers (<paramref name="taskVectors"/>); in weight buffers θt = θ0 there (θ0 = θt = 0 where θ0 itself is not
    /// finite). <see cref="Keep"/> makes the positions non-finite in the output again.
    /// </summary>
    /// <param name="ctx">The item's context.</param>
    /// <param name="taskVectors">Whether the task buffers hold τt (else θt).</param>
    /// <param name="taskSum">Whether the run reads only the weighted task sum, held in the first task buffer.</param>
    public static void ZeroInputs(MergeTensorContext ctx, bool taskVectors, bool taskSum = false)
    {
        if (taskSum)
        {
            foreach (int i in ctx.NonFinite) ctx.Task(0)[i] = 0;
            return;
        }
        if (taskVectors) { ZeroTaskVectors(ctx); return; }
        foreach (int i in ctx.NonFinite)
        {
            if (!float.IsFinite(ctx.Base[i])) ctx.Base[i] = 0;
            for (int t = 0; t < ctx.TaskCount; t++) ctx.Task(t)[i] = ctx.Base[i];
        }
    }

    /// <summary>Positions (plus <paramref name="offset"/>) of <paramref name="values"/> holding NaN or infinity, added to <paramref name="positions"/>.</summary>
    public static void Find(ReadOnlySpan<float> values, List<int> positions, long offset = 0)
    {
        if (values.Length == 0 || float.IsFinite(TensorPrimitives.MaxMagnitude(values))) return;
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) positions.Add(checked((int)(offset + i)));
    }

    /// <summary>The raw inputs of a fused merge that flagged a non-finite value, checked one by one (base first, then tasks in order).</summary>
    public static unsafe void CheckAll(ModelFamily family, MergePlan plan, MergeTensorContext ctx)
    {
        // In the buffers, or by address when the executor handed them out in place (MergeRun.MergesRawInPlace).
        ReadOnlySpan<float> Input(int slot) => !ctx.InputsByAddress ? (slot < 0 ? ctx.Base : ctx.Task(slot))
            : new ReadOnlySpan<float>((float*)(slot < 0 ? ctx.RangeBase : ctx.RangeTasks[slot]), ctx.Length);
        Check(family.Base, ctx.Name, Input(-1), ctx.Offset);
        for (int t = 0; t < plan.TaskCount; t++) Check(family.Tasks[t].Reader, ctx.Name, Input(t), ctx.Offset);
    }

    /// <summary>Throws for the first NaN or infinity of <paramref name="values"/> (a tensor of <paramref name="reader"/>
    /// read as float32), naming the file, the tensor and the element (plus <paramref name="offset"/>).</summary>
    /// <exception cref="NonFiniteTensorException">A value is NaN or infinite.</exception>
    public static void Check(ICheckpointReader reader, string tensor, ReadOnlySpan<float> values, long offset = 0)
    {
        if (values.Length == 0) return;
        float m = TensorPrimitives.MaxMagnitude(values);
        if (!float.IsFinite(m))
        {
            int at = 0;
            while (at < values.Length && float.IsFinite(values[at])) at++;
            // A float64 value beyond float32's range is finite in the file and infinite once read: say which.
            if (float.IsInfinity(values[at]) && reader.TryGetTensor(tensor, out var stored) && stored.DType == DType.F64)
                throw new NonFiniteTensorException(reader.Path, tensor, $"element {offset + at} is a float64 value beyond float32's range (±3.4e38), which the " +
                    "merge, computing in float32, reads as " + values[at] + "; rescale the tensor, or pass --allow-nonfinite to merge it as such.");
            throw new NonFiniteTensorException(reader.Path, tensor, $"holds {values[at]} at element {offset + at}; pass --allow-nonfinite to merge it anyway.");
        }
    }

    /// <summary>The same check of a tensor copied as stored (a head, a tensor no method merges), when it is floating-point.</summary>
    /// <exception cref="NonFiniteTensorException">A value is NaN or infinite.</exception>
    public static void CheckRaw(ICheckpointReader reader, TensorInfo info, ReadOnlySpan<byte> bytes)
    {
        if (!info.DType.IsFloatingPoint() || info.ElementCount == 0) return;
        var values = new float[info.ElementCount];
        DTypeConversion.ToFloat32(bytes, info.DType, values);
        Check(reader, info.Name, values);
    }
}
