using MLNetMerge.Tensors;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// Splits an element-wise or row-wise float32 kernel over the engine's worker threads (the GEMM pool): the index range
/// [0, count) is cut into contiguous parts on multiples of a granule, and each part calls the kernel on its sub-range.
/// The kernel sees the same elements with the same arithmetic whichever part holds them, so the result is the same for
/// any number of threads. Arguments travel in the job's pointer and number fields (no closure, no allocation: one job
/// object per calling thread); when the pool is busy (another thread is multiplying) every part runs on the caller.
/// </summary>
internal sealed unsafe class RangeJob : GemmWorkerPool.IJob
{
    [ThreadStatic] private static RangeJob? t_job;

    /// <summary>Smallest amount of work (elements, or rows × row length) worth a hand-off to another thread.</summary>
    internal const int MinParallelWork = 1 << 15;

    private delegate*<RangeJob, int, int, void> _body;
    private int _count, _granule, _parts;

    /// <summary>Kernel arguments (meaning set by the kernel).</summary>
    internal float* P0, P1, P2, P3, P4, P5, P6;

    /// <summary>Kernel arguments (meaning set by the kernel).</summary>
    internal int I0;

    /// <summary>Kernel arguments (meaning set by the kernel).</summary>
    internal double D0;

    /// <summary>This thread's job object, to fill with arguments before <see cref="Run"/>.</summary>
    internal static RangeJob ForThisThread => t_job ??= new RangeJob();

    /// <summary>
    /// Runs <paramref name="body"/>(job, start, end) over [0, <paramref name="count"/>) split into parts on multiples of
    /// <paramref name="granule"/>; with <paramref name="work"/> (total elements touched) below <see cref="MinParallelWork"/>
    /// it is one call on this thread.
    /// </summary>
    internal void Run(delegate*<RangeJob, int, int, void> body, int count, int granule, long work)
    {
        if (count <= 0) return;
        var pool = GemmWorkerPool.Shared;
        int units = (count + granule - 1) / granule;
        int parts = work < MinParallelWork ? 1 : Math.Min(Math.Min(Environment.ProcessorCount, pool.MaxParts), units);
        if (parts <= 1)
        {
            body(this, 0, count);
            return;
        }
        _body = body;
        _count = count;
        _granule = granule;
        _parts = parts;
        if (!pool.TryRun(this, parts))
            for (int p = 0; p < parts; p++) RunPart(p);
    }

    /// <inheritdoc />
    public void RunPart(int part)
    {
        int units = (_count + _granule - 1) / _granule;
        int u0 = (int)((long)units * part / _parts), u1 = (int)((long)units * (part + 1) / _parts);
        int start = u0 * _granule, end = Math.Min(_count, u1 * _granule);
        if (end > start) _body(this, start, end);
    }
}
