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
}
