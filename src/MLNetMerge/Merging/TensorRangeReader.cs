using MLNetMerge.Checkpoints;
using MLNetMerge.Encoders;
using MLNetMerge.Errors;

namespace MLNetMerge.Merging;

/// <summary>
/// Reads one tensor's θ0 and θt range by range for runs that read their own inputs (<see cref="MergeRun.ReadsRanges"/>),
/// with the executor's rules for non-finite values: positions recorded under <c>allow_nonfinite</c>, and a check that names
/// the file, tensor and element when the run reports one. Each range is handed to the kernel by address
/// (<see cref="MergeTensorContext.RangeBase"/>, <see cref="MergeTensorContext.RangeTasks"/>): in place where the checkpoint
/// maps it (<see cref="ICheckpointReader.TryMapFloat32"/>: F32 safetensors), else copied into the context's cache-sized
/// buffers (pinned for the stage). In place, a kernel reads each value once from the page cache; a read would copy it
/// into a buffer first (the kernel's copy, 4–6 GB/s on one core here) and the kernel would read it back.
/// </summary>
internal sealed unsafe class TensorRangeReader(ModelFamily family, bool allowNonFinite)
{
    /// <summary>Elements per range: 65,536 (256 KiB per buffer, a multiple of 8 so that only the last range has a tail).</summary>
    public const int RangeElements = 65536;

    /// <summary>Whether every reader of <paramref name="family"/> reads ranges.</summary>
    public static bool Supported(ModelFamily family) => family.Base.SupportsRangeReads && family.Tasks.All(t => t.Reader.SupportsRangeReads);

    /// <summary>
    /// Elements [start, start + count) of θ0 and, unless <paramref name="baseOnly"/>, of every θt: their addresses in
    /// <see cref="MergeTensorContext.RangeBase"/> and <see cref="MergeTensorContext.RangeTasks"/>, each in place in its
    /// checkpoint's mapping or in the context's base or task buffer, read there.
    /// </summary>
    public void Read(MergeTensorContext ctx, long start, int count, bool baseOnly = false)
    {
        if (count > RangeElements || start < 0 || start + count > ctx.Length)
            throw new ArgumentOutOfRangeException(nameof(count), $"range [{start}, {start + count}) of '{ctx.Name}' ({ctx.Length} elements, ranges of at most {RangeElements}).");
        Place(family, ctx.Info, start, count, ctx, allowNonFinite ? start : -1, baseOnly);
    }

    /// <summary>
    /// The addresses of elements [start, start + count) of <paramref name="info"/>'s θ0 and, unless <paramref name="baseOnly"/>,
    /// every θt in <see cref="MergeTensorContext.RangeBase"/> and <see cref="MergeTensorContext.RangeTasks"/>: in place in a
    /// reader's mapping, or read into the context's buffer (pinned for the stage) and its address there. With
    /// <paramref name="nonFiniteOffset"/> ≥ 0 (<c>allow_nonfinite</c>) the positions of non-finite inputs, plus that offset,
    /// go to <see cref="MergeTensorContext.NonFinite"/>. Ranges of a run that reads its own (<see cref="Read"/>) and the
    /// slices of a run that merges by address (<see cref="MergeRun.MergesRawInPlace"/>) both come through here.
    /// </summary>
    internal static void Place(ModelFamily family, TensorInfo info, long start, int count, MergeTensorContext ctx, long nonFiniteOffset, bool baseOnly)
    {
        ctx.RangeBase = Place(family.Base, info, start, count, ctx, -1, nonFiniteOffset);
        for (int t = 0; t < (baseOnly ? 0 : ctx.TaskCount); t++)
        {
            var reader = family.Tasks[t].Reader;
            reader.TryGetTensor(info.Name, out var ti);
            ctx.RangeTasks[t] = Place(reader, ti, start, count, ctx, t, nonFiniteOffset);
        }
    }

    /// <summary>One input of <see cref="Place(ModelFamily, TensorInfo, long, int, MergeTensorContext, long, bool)"/>: the
    /// context's buffer for <paramref name="slot"/> is θ0's (−1) or task t's.</summary>
    private static nint Place(ICheckpointReader reader, TensorInfo info, long start, int count, MergeTensorContext ctx, int slot, long nonFiniteOffset)
    {
        float* address = reader.TryMapFloat32(info, start, count);
        if (address is null)
        {
            var buffer = slot < 0 ? ctx.BaseArray : ctx.TaskArrays[slot];
            reader.ReadFloat32(info, start, buffer.AsSpan(0, count));
            address = (float*)ctx.PinnedInput(slot);
        }
        if (nonFiniteOffset >= 0) NonFiniteInputs.Find(new ReadOnlySpan<float>(address, count), ctx.NonFinite, nonFiniteOffset);
        return (nint)address;
    }

    /// <summary>Reads the tensor again range by range and throws for its first non-finite input (θ0 first, then the tasks in order, per range).</summary>
    /// <exception cref="NonFiniteTensorException">An input holds NaN or infinity.</exception>
    public void CheckInputs(MergeTensorContext ctx)
    {
        for (long start = 0; start < ctx.Length; start += RangeElements)
        {
            int count = (int)Math.Min(RangeElements, ctx.Length - start);
            Read(ctx, start, count);
            NonFiniteInputs.Check(family.Base, ctx.Name, new ReadOnlySpan<float>((float*)ctx.RangeBase, count), start);
            for (int t = 0; t < ctx.TaskCount; t++)
                NonFiniteInputs.Check(family.Tasks[t].Reader, ctx.Name, new ReadOnlySpan<float>((float*)ctx.RangeTasks[t], count), start);
        }
    }
}
