using System.Diagnostics;
using MLNetMerge.Tensors;

/// <summary>
/// `pool-wake PAUSE_MS [TRIALS]`: how long after its offer the GEMM pool's worker starts its part, when the job follows
/// PAUSE_MS of idleness (both threads asleep) and the caller is busy with part 0 for 5 ms. A worker the kernel queues
/// behind the caller on the caller's processor starts only when the scheduler's balancing moves it (milliseconds);
/// <c>MLNM_WORKER_PLACEMENT=0</c> turns off what keeps it off that processor (<c>WorkerPlacement</c>), for comparison.
/// </summary>
internal static class PoolWake
{
    private sealed class Job : GemmWorkerPool.IJob
    {
        public long Start, Part1;

        public void RunPart(int part)
        {
            if (part == 1) { Part1 = Stopwatch.GetTimestamp(); return; }
            while (Stopwatch.GetTimestamp() - Start < Stopwatch.Frequency / 200) { } // part 0: 5 ms of the caller's time
        }
    }

    internal static int Run(int pauseMs, int trials)
    {
        Console.WriteLine(KernelIsa.Describe());
        if (GemmWorkerPool.Shared.MaxParts < 2) { Console.WriteLine("one processor: no worker to wake"); return 0; }
        var late = new double[trials]; // µs from the offer to the worker's start (5000: the caller ran it, withdrawn)
        for (int t = 0; t < trials; t++)
        {
            Thread.Sleep(pauseMs);
            var job = new Job { Start = Stopwatch.GetTimestamp() };
            if (!GemmWorkerPool.Shared.TryRun(job, 2)) throw new InvalidOperationException("the pool is busy");
            late[t] = (job.Part1 - job.Start) * 1e6 / Stopwatch.Frequency;
        }
        Array.Sort(late);
        Console.WriteLine($"after {pauseMs} ms idle, worker placement {(WorkerPlacement.Enabled ? "on" : "off")}: the worker started its part " +
            $"min {late[0]:F0}, median {late[trials / 2]:F0}, 90th percentile {late[trials * 9 / 10]:F0}, max {late[^1]:F0} µs after the offer ({trials} jobs)");
        return 0;
    }
}
