using MLNetMerge.Tensors;

namespace MLNetMerge.Tests;

/// <summary>
/// The worker pool's offer/withdraw protocol: a part a worker has not started when the caller finishes its own is run by
/// the caller instead. Whoever runs it, every part of every job must run exactly once, for that job, before TryRun returns.
/// </summary>
[TestClass]
public sealed class GemmWorkerPoolTests
{
    private sealed class CountingJob(int parts, int spin) : GemmWorkerPool.IJob
    {
        public readonly int[] Ran = new int[parts];
        public int OtherThreads;
        private readonly int _caller = Environment.CurrentManagedThreadId;

        public void RunPart(int part)
        {
            Interlocked.Increment(ref Ran[part]);
            if (Environment.CurrentManagedThreadId != _caller) Interlocked.Increment(ref OtherThreads);
            if (part == 0) Thread.SpinWait(spin); // give workers time to take their offers in some jobs, none in others
        }
    }

    [TestMethod]
    public void EveryPartRunsExactlyOnceWhoeverTakesIt()
    {
        var pool = new GemmWorkerPool(3);
        int byWorkers = 0;
        for (int j = 0; j < 3000; j++)
        {
            int parts = 1 + j % 4;
            var job = new CountingJob(parts, j % 3 == 0 ? 20000 : 0);
            Assert.IsTrue(pool.TryRun(job, parts));
            for (int p = 0; p < parts; p++) Assert.AreEqual(1, job.Ran[p], $"job {j}: part {p} of {parts}");
            byWorkers += job.OtherThreads;
        }
        // With a long own part the workers have time to start theirs: some parts ran on workers, so both paths ran.
        Assert.IsTrue(byWorkers > 0, "no part ever ran on a worker");
    }

    /// <summary>Processors in a <c>Cpus_allowed_list</c> line of /proc (e.g. "0-3,6").</summary>
    private static SortedSet<int> AllowedList(string statusPath)
    {
        string line = File.ReadLines(statusPath).First(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
        var set = new SortedSet<int>();
        foreach (string range in line["Cpus_allowed_list:".Length..].Trim().Split(','))
        {
            var ends = range.Split('-');
            int lo = int.Parse(ends[0]), hi = int.Parse(ends[^1]);
            for (int c = lo; c <= hi; c++) set.Add(c);
        }
        return set;
    }

    [TestMethod]
    public void WorkersAreKeptOffTheCallersProcessor()
    {
        if (!WorkerPlacement.Enabled) { Assert.Inconclusive("worker placement is off here (not Linux, MLNM_WORKER_PLACEMENT=0, or a libc call missing)"); return; }
        var pool = new GemmWorkerPool(1);
        int tid = 0;
        for (int j = 0; j < 200 && (tid == 0 || pool.AvoidedProcessor < 0); j++) // the first job may find the worker not started yet
        {
            Assert.IsTrue(pool.TryRun(new CountingJob(2, 0), 2));
            tid = pool.WorkerThreadIds[0];
            if (tid == 0 || pool.AvoidedProcessor < 0) Thread.Sleep(1);
        }
        Assert.AreNotEqual(0, tid, "the worker never reported its thread id");
        var processAllowed = AllowedList("/proc/thread-self/status"); // what the test thread (and so the worker) may use
        var workerAllowed = AllowedList($"/proc/self/task/{tid}/status");
        if (processAllowed.Count < 2)
        {
            Assert.AreEqual(-1, pool.AvoidedProcessor, "one processor: nothing to keep the worker off");
            CollectionAssert.AreEqual(processAllowed.ToList(), workerAllowed.ToList());
            return;
        }
        int avoided = pool.AvoidedProcessor;
        Assert.IsTrue(processAllowed.Contains(avoided), $"kept off processor {avoided}, which the process may not use");
        CollectionAssert.AreEqual(processAllowed.Where(c => c != avoided).ToList(), workerAllowed.ToList());
    }

    [TestMethod]
    public void TheSystemCallFallbackNamesTheSameThreadAsGettid()
    {
        if (!WorkerPlacement.Enabled) { Assert.Inconclusive("worker placement is off here"); return; }
        var (tid, _) = WorkerPlacement.DescribeCurrentThread();
        Assert.AreEqual(tid, WorkerPlacement.ThreadIdBySystemCall());
        Assert.IsTrue(Directory.Exists($"/proc/self/task/{tid}"), $"thread {tid} is not a thread of this process");
    }

    [TestMethod]
    public void PlacementRefusesWhatItCannotDo()
    {
        var only3 = new ulong[16];
        only3[0] = 1UL << 3;
        Assert.IsFalse(WorkerPlacement.AvoidProcessor(0, only3, 1), "no thread id");
        Assert.IsFalse(WorkerPlacement.AvoidProcessor(Environment.ProcessId, only3, 16 * 64), "a processor past the mask");
        Assert.IsFalse(WorkerPlacement.AvoidProcessor(Environment.ProcessId, only3, -1), "no processor");
    }
}
