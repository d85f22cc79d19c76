namespace MLNetMerge.Tensors;

/// <summary>
/// A second thread for a job made of many short fork–join steps (hundreds of steps of tens of microseconds, as in the
/// tridiagonal reduction), where waking a pool thread per step would cost as much as the step. The driver runs on the
/// calling thread; a worker of <see cref="GemmWorkerPool"/> joins it and, for the job's duration, spins waiting for
/// the second half of each step. Every step is split the same way whoever runs it: <see cref="Split"/> runs half 0 on
/// the driver and offers half 1; a helper that has not joined, or has not taken the offer by the time half 0 is done,
/// leaves half 1 to the driver. So the halves, and the arithmetic, are fixed by the job alone, and the result is the
/// same bits with or without the helper (a busy pool, one thread, a worker the OS has not scheduled yet).
/// </summary>
internal sealed class PairedSteps : GemmWorkerPool.IJob
{
    /// <summary>One step of the job: <see cref="Run"/>(0) and <see cref="Run"/>(1) are its two halves, independent of
    /// each other (they write disjoint memory) and each called once per <see cref="Split"/>.</summary>
    internal interface IStep
    {
        /// <summary>Runs half <paramref name="half"/> (0 or 1) of the step.</summary>
        void Run(int half);
    }

    // The helper's phase: Open (not joined yet), Joined (spinning for offers), Closed (the driver is done; a helper that
    // comes later returns at once).
    private const int Open = 0, Joined = 1, Closed = 2;

    // The offer of a step's half 1: None, Offered (helper or driver takes it by compare-exchange), Running (the helper
    // has it), Done (the helper finished it).
    private const int None = 0, Offered = 1, Running = 2, Done = 3;

    private readonly Action<PairedSteps> _driver;
    private int _phase;
    private int _offer;
    private IStep? _step;
    private Exception? _error;

    private PairedSteps(Action<PairedSteps> driver) => _driver = driver;

    /// <summary>
    /// Runs <paramref name="driver"/> on the calling thread with a helper from <see cref="GemmWorkerPool.Shared"/> when
    /// <paramref name="maxThreads"/> ≥ 2 and the pool is free, alone otherwise; the driver's <see cref="Split"/> calls
    /// give the same results either way.
    /// </summary>
    internal static void Run(int maxThreads, Action<PairedSteps> driver) => Run(GemmWorkerPool.Shared, maxThreads, driver);

    /// <summary><see cref="Run(int, Action{PairedSteps})"/> with the helper from <paramref name="pool"/>.</summary>
    internal static void Run(GemmWorkerPool pool, int maxThreads, Action<PairedSteps> driver)
    {
        var job = new PairedSteps(driver);
        if (maxThreads >= 2 && pool.MaxParts >= 2 && pool.TryRun(job, 2)) return;
        job._phase = Closed;
        driver(job);
    }

    /// <inheritdoc/>
    void GemmWorkerPool.IJob.RunPart(int part)
    {
        if (part != 0)
        {
            Help();
            return;
        }
        try
        {
            _driver(this);
        }
        finally
        {
            Volatile.Write(ref _phase, Closed); // a spinning helper sees it and returns; a late one returns at once
        }
    }

    /// <summary>
    /// Runs both halves of <paramref name="step"/>: half 0 here, half 1 on the helper when it has joined and takes the
    /// offer before half 0 is done, here otherwise. Returns when both are done.
    /// </summary>
    internal void Split(IStep step)
    {
        if (Volatile.Read(ref _phase) != Joined)
        {
            step.Run(0);
            step.Run(1);
            return;
        }
        _step = step;
        Volatile.Write(ref _offer, Offered);
        Exception? own = null;
        try { step.Run(0); }
        catch (Exception e) { own = e; }
        // Withdraw the offer if the helper has not taken it; else wait for the helper (it writes into the step's memory).
        if (Interlocked.CompareExchange(ref _offer, None, Offered) == Offered)
        {
            if (own == null) step.Run(1);
        }
        else
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref _offer) != Done) spin.SpinOnce(sleep1Threshold: -1);
            Volatile.Write(ref _offer, None);
        }
        var helper = _error;
        _error = null;
        if (own != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(own);
        if (helper != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(helper); // as if run here
    }

    /// <summary>The helper: joins unless the driver is done, then takes offers until the driver closes the job.</summary>
    private void Help()
    {
        if (Interlocked.CompareExchange(ref _phase, Joined, Open) != Open) return;
        var spin = new SpinWait();
        while (true)
        {
            if (Volatile.Read(ref _offer) == Offered && Interlocked.CompareExchange(ref _offer, Running, Offered) == Offered)
            {
                try { _step!.Run(1); }
                catch (Exception e) { _error = e; }
                Volatile.Write(ref _offer, Done);
                spin = default;
                continue;
            }
            if (Volatile.Read(ref _phase) == Closed) return;
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }
}
