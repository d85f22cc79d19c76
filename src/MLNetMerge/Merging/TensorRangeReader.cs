using MLNetMerge.Encoders;
using MLNetMerge.Errors;

namespace MLNetMerge.Merging;

/// <summary>
/// Reads one tensor's θ0 and θt range by range into a context's cache-sized buffers for runs that read their own
/// inputs (<see cref="MergeRun.ReadsRanges"/>), with the executor's rules for non-finite values: positions recorded
/// under <c>allow_nonfinite</c>, and a check that names the file, tensor and element when the run reports one.
/// </summary>
internal sealed class TensorRangeReader(ModelFamily family, bool allowNonFinite)
{
    /// <summary>Elements per range: 65,536 (256 KiB per buffer, a multiple of 8 so that only the last range has a tail).</summary>
    public const int RangeElements = 65536;

    /// <summary>Whether every reader of <paramref name="family"/> reads ranges.</summary>
    public static bool Supported(ModelFamily family) => family.Base.SupportsRangeReads && family.Tasks.All(t => t.Reader.SupportsRangeReads);

    /// <summary>Elements [start, start + count) of θ0 into the base buffer and, unless <paramref name="baseOnly"/>, of every θt into the task buffers.</summary>
    public void Read(MergeTensorContext ctx, long start, int count, bool baseOnly = false)
    {
        if (count > RangeElements || start < 0 || start + count > ctx.Length)
            throw new ArgumentOutOfRangeException(nameof(count), $"range [{start}, {start + count}) of '{ctx.Name}' ({ctx.Length} elements, ranges of at most {RangeElements}).");
        var info = ctx.Info;
        var theta0 = ctx.BaseArray.AsSpan(0, count);
        family.Base.ReadFloat32(info, start, theta0);
        if (allowNonFinite) NonFiniteInputs.Find(theta0, ctx.NonFinite, start);
        for (int t = 0; t < (baseOnly ? 0 : ctx.TaskCount); t++)
        {
            var reader = family.Tasks[t].Reader;
            reader.TryGetTensor(info.Name, out var ti);
            var theta = ctx.TaskArrays[t].AsSpan(0, count);
            reader.ReadFloat32(ti, start, theta);
            if (allowNonFinite) NonFiniteInputs.Find(theta, ctx.NonFinite, start);
        }
    }

    /// <summary>Reads the tensor again range by range and throws for its first non-finite input (θ0 first, then the tasks in order, per range).</summary>
    /// <exception cref="NonFiniteTensorException">An input holds NaN or infinity.</exception>
    public void CheckInputs(MergeTensorContext ctx)
    {
        for (long start = 0; start < ctx.Length; start += RangeElements)
        {
            int count = (int)Math.Min(RangeElements, ctx.Length - start);
            Read(ctx, start, count);
            NonFiniteInputs.Check(family.Base.Path, ctx.Name, ctx.BaseArray.AsSpan(0, count), start);
            for (int t = 0; t < ctx.TaskCount; t++)
                NonFiniteInputs.Check(family.Tasks[t].Reader.Path, ctx.Name, ctx.TaskArrays[t].AsSpan(0, count), start);
        }
    }
}
