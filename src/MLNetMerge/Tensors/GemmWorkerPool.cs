namespace MLNetMerge.Tensors;

/// <summary>
/// A small pool of dedicated background threads that run the parts of one statically partitioned job:
/// the caller runs part 0 itself and offers parts 1..parts-1 to workers 1..parts-1; when done with its own part, it takes
/// back every offered part that no worker has started yet and runs it itself, then waits only for the parts a worker is
/// running. So a worker the OS has not scheduled yet (a loaded machine) never holds the caller up; it finds its offer
/// withdrawn when it wakes. One job at a time; a caller that finds the pool busy (another thread is multiplying, or a
/// part of the running job calls in again) gets <c>false</c> and runs its parts itself, which gives the same result
/// because the partitioning never changes the arithmetic.
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

    // A worker's offer: Idle (nothing for it), Offered (its part is waiting: the worker or the caller takes it by
    // compare-exchange, whoever comes first), Running (the worker has it; back to Idle, then _done set, when finished).
    private const int Idle = 0, Offered = 1, Running = 2;

    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _start;
    private readonly int[] _state;
    private readonly int[] _threadIds;        // each worker's kernel thread id (0: unknown), for WorkerPlacement
    private readonly ulong[]?[] _allowed;      // the processors each worker started with (null: placement off)
    private readonly bool[] _described;        // the worker has set its _threadIds and _allowed entries
    private int _avoided = -1;                // the caller's processor the workers were last kept off
    private readonly ManualResetEventSlim _done = new(false, spinCount: 2000);
    private int _busy; // 1 while a job runs; not a Monitor, so a nested call from part 0's own thread is refused too
    private IJob? _job;
    private Exception? _error;

    /// <summary>The process-wide pool: one worker per logical processor beyond the caller's.</summary>
    internal static GemmWorkerPool Shared { get; } = new(Math.Max(0, Environment.ProcessorCount - 1));

    /// <summary>Creates a pool with <paramref name="workers"/> background threads.</summary>
    internal GemmWorkerPool(int workers)
    {
        _threads = new Thread[workers];
        _start = new SemaphoreSlim[workers];
        _state = new int[workers];
        _threadIds = new int[workers];
        _allowed = new ulong[]?[workers];
        _described = new bool[workers];
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

    /// <summary>Keeps the workers off the caller's processor (see <see cref="WorkerPlacement"/>), re-setting their
    /// affinity only when the caller has moved since the last job.</summary>
    private void PlaceWorkers()
    {
        int cpu = WorkerPlacement.CurrentProcessor();
        if (cpu < 0 || cpu == _avoided) return;
        bool pending = false;
        for (int w = 0; w < _allowed.Length; w++)
        {
            // A worker that has not described itself yet (just started) is placed on a later job; one whose description
            // or affinity call failed is left where it is (not retried on every job).
            if (!Volatile.Read(ref _described[w])) { pending = true; continue; }
            var allowed = Volatile.Read(ref _allowed[w]);
            if (allowed != null) WorkerPlacement.AvoidProcessor(Volatile.Read(ref _threadIds[w]), allowed, cpu);
        }
        _avoided = pending ? -1 : cpu;
    }

    /// <summary>Tests: the workers' kernel thread ids (0 where not known yet) and the processor they were last kept off
    /// (-1: none; see <see cref="WorkerPlacement"/>).</summary>
    internal int[] WorkerThreadIds => (int[])_threadIds.Clone();

    /// <inheritdoc cref="WorkerThreadIds"/>
    internal int AvoidedProcessor => _avoided;

    /// <summary>Largest number of parts one job can run in parallel (workers plus the caller).</summary>
    internal int MaxParts => _threads.Length + 1;

    /// <summary>
    /// Runs <paramref name="body"/>(i) for every i in [0, <paramref name="count"/>), items claimed one at a time (in any
    /// order) by up to <paramref name="maxParts"/> threads: the caller and the pool's workers, or the caller alone when the
    /// pool is busy. For short loops outside the products (no TPL: its generic code would be compiled at first use).
    /// </summary>
    internal void ForEach(int count, int maxParts, Action<int> body)
    {
        var job = new IndexJob(count, body);
        int parts = Math.Clamp(Math.Min(maxParts, count), 1, MaxParts);
        if (parts <= 1 || !TryRun(job, parts)) job.RunPart(0);
    }

    private sealed class IndexJob(int count, Action<int> body) : IJob
    {
        private int _next = -1;

        public void RunPart(int part)
        {
            for (int i; (i = Interlocked.Increment(ref _next)) < count;) body(i);
        }
    }

    /// <summary>
    /// Runs parts 0..parts-1 of <paramref name="job"/>, part 0 and every part no worker has started by then on the calling
    /// thread. Returns false without running anything when the pool is busy with another caller's job.
    /// </summary>
    internal bool TryRun(IJob job, int parts)
    {
        if (parts < 1 || parts > MaxParts) throw new ArgumentOutOfRangeException(nameof(parts));
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0) return false;
        try
        {
            _job = job;
            _error = null;
            PlaceWorkers();
            for (int w = 0; w < parts - 1; w++)
            {
                Volatile.Write(ref _state[w], Offered);
                _start[w].Release();
            }
            Exception? own = null;
            try { job.RunPart(0); }
            catch (Exception e) { own = e; }
            for (int w = 0; w < parts - 1; w++)
            {
                if (Interlocked.CompareExchange(ref _state[w], Idle, Offered) != Offered) continue;
                try { job.RunPart(w + 1); } // withdrawn: the worker had not started it
                catch (Exception e) { own ??= e; }
            }
            for (int w = 0; w < parts - 1; w++)
            {
                // The worker writes Idle before it sets _done, and this checks the state after each reset: no lost wake-up.
                while (Volatile.Read(ref _state[w]) != Idle)
                {
                    _done.Wait();
                    _done.Reset();
                }
            }
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
        var (threadId, allowed) = WorkerPlacement.DescribeCurrentThread();
        Volatile.Write(ref _threadIds[index], threadId);
        Volatile.Write(ref _allowed[index], allowed);
        Volatile.Write(ref _described[index], true);
        while (true)
        {
            _start[index].Wait();
            // A wake-up whose offer the caller withdrew finds Idle (or a later job's offer, which it may take).
            if (Interlocked.CompareExchange(ref _state[index], Running, Offered) != Offered) continue;
            try { _job!.RunPart(index + 1); }
            catch (Exception e) { _error = e; }
            Volatile.Write(ref _state[index], Idle);
            _done.Set();
        }
    }
}
