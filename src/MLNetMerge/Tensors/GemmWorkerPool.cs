namespace MLNetMerge.Tensors;

/// <summary>
/// A small pool of dedicated background threads that run the parts of one statically partitioned job:
/// the caller runs part 0 itself and workers 1..parts-1 run the others, then the caller waits for all of them.
/// One job at a time; a caller that finds the pool busy (another thread is multiplying, or a part of the running
/// job calls in again) gets <c>false</c> and runs its parts itself, which gives the same result because the
/// partitioning never changes the arithmetic.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "the pool lives as long as the process (Shared): its background workers wait on these events until exit, so disposing them would fault a waiting worker")]
internal sealed class GemmWorkerPool
{
    /// <summary>One statically partitioned job: <see cref="RunPart"/> is called once for each part index.</summary>
    internal interface IJob
    {
        /// <summary>Runs part <paramref name="part"/> of the job.</summary>
        void RunPart(int part);
    }

    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _start;
    private readonly ManualResetEventSlim _done = new(false, spinCount: 2000);
    private int _busy; // 1 while a job runs; not a Monitor, so a nested call from part 0's own thread is refused too
    private IJob? _job;
    private int _pending;
    private Exception? _error;

    /// <summary>The process-wide pool: one worker per logical processor beyond the caller's.</summary>
    internal static GemmWorkerPool Shared { get; } = new(Math.Max(0, Environment.ProcessorCount - 1));

    /// <summary>Creates a pool with <paramref name="workers"/> background threads.</summary>
    internal GemmWorkerPool(int workers)
    {
        _threads = new Thread[workers];
        _start = new SemaphoreSlim[workers];
        for (int w = 0; w < workers; w++)
        {
            _start[w] = new SemaphoreSlim(0);
            int index = w;
            _threads[w] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"MLNetMerge GEMM worker {w + 1}" };
            _threads[w].Start();
        }
        // A caller whose wait outlasts the spin blocks on the event's lock object, which the event creates on its first
        // blocking wait; one timed-out wait here creates it now, so that no job's wait allocates (1 ms, once per pool).
        _done.Wait(1);
    }

    /// <summary>Largest number of parts one job can run in parallel (workers plus the caller).</summary>
    internal int MaxParts => _threads.Length + 1;

    /// <summary>
    /// Runs parts 0..parts-1 of <paramref name="job"/>, part 0 on the calling thread. Returns false without
    /// running anything when the pool is busy with another caller's job.
    /// </summary>
    internal bool TryRun(IJob job, int parts)
    {
        if (parts < 1 || parts > MaxParts) throw new ArgumentOutOfRangeException(nameof(parts));
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
        try
        {
            _job = job;
            _error = null;
            _pending = parts - 1;
            _done.Reset();
            for (int w = 0; w < parts - 1; w++) _start[w].Release();
            Exception? own = null;
            try { job.RunPart(0); }
            catch (Exception e) { own = e; }
            if (parts > 1) _done.Wait();
            _job = null;
            if (own != null) throw own;
            if (_error != null) throw new AggregateException("A GEMM worker failed.", _error);
            return true;
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private void WorkerLoop(int index)
    {
        while (true)
        {
            _start[index].Wait();
            try { _job!.RunPart(index + 1); }
            catch (Exception e) { _error = e; }
            if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
        }
    }
}
