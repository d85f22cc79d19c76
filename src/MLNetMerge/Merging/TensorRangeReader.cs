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
        var info = ctx.Info;
        ctx.RangeBase = Place(family.Base, info, start, count, ctx, -1);
        for (int t = 0; t < (baseOnly ? 0 : ctx.TaskCount); t++)
        {
            var reader = family.Tasks[t].Reader;
            reader.TryGetTensor(info.Name, out var ti);
            ctx.RangeTasks[t] = Place(reader, ti, start, count, ctx, t);
        }
    }

    /// <summary>The address of one input's range: in place in the reader's mapping, or in the context's buffer for
    /// <paramref name="slot"/> (−1 θ0, else task t), read there; non-finite positions recorded under <c>allow_nonfinite</c>.</summary>
    private nint Place(ICheckpointReader reader, TensorInfo info, long start, int count, MergeTensorContext ctx, int slot)
    {
        nint address = InPlaceOrRead(reader, info, start, count, ctx, slot);
        if (allowNonFinite) NonFiniteInputs.Find(new ReadOnlySpan<float>((float*)address, count), ctx.NonFinite, start);
        return address;
    }

    /// <summary>The address of elements [start, start + count) of one input: in place in the reader's mapping, or read into
    /// the context's buffer for <paramref name="slot"/> (−1 θ0, else task t, pinned for the stage) and its address there.</summary>
    internal static nint InPlaceOrRead(ICheckpointReader reader, TensorInfo info, long start, int count, MergeTensorContext ctx, int slot)
    {
        float* mapped = reader.TryMapFloat32(info, start, count);
        if (mapped is not null) return (nint)mapped;
        var buffer = slot < 0 ? ctx.BaseArray : ctx.TaskArrays[slot];
        reader.ReadFloat32(info, start, buffer.AsSpan(0, count));
        return ctx.PinnedInput(slot);
    }

    /// <summary>Reads the tensor again range by range and throws for its first non-finite input (θ0 first, then the tasks in order, per range).</summary>
    /// <exception cref="NonFiniteTensorException">An input holds NaN or infinity.</exception>
    public void CheckInputs(MergeTensorContext ctx)
    {
        for (long start = 0; start < ctx.Length; start += RangeElements)
        {
            int count = (int)Math.Min(RangeElements, ctx.Length - start);
            Read(ctx, start, count);
            NonFiniteInputs.Check(family.Base.Path, ctx.Name, new ReadOnlySpan<float>((float*)ctx.RangeBase, count), start);
            for (int t = 0; t < ctx.TaskCount; t++)
                NonFiniteInputs.Check(family.Tasks[t].Reader.Path, ctx.Name, new ReadOnlySpan<float>((float*)ctx.RangeTasks[t], count), start);
        }
    }
}
