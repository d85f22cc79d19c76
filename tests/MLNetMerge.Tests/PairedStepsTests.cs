using MLNetMerge.Tensors;

namespace MLNetMerge.Tests;

/// <summary>
/// <see cref="PairedSteps"/>: each half of each step runs exactly once and before its <see cref="PairedSteps.Split"/>
/// returns, whoever runs it (the driver alone, or a helper that joined); a helper does take halves when the pool is free;
/// a half's exception reaches the driver with its own type, after the other half is done.
/// </summary>
[TestClass]
public sealed class PairedStepsTests
{
    private sealed class CountingStep : PairedSteps.IStep
    {
        public readonly int[] Ran = new int[2];
        public int OnOtherThread;
        public int Caller = Environment.CurrentManagedThreadId;
        public int Spin;
        public int Spin1 = -1; // half 1's spin when set (longer than half 0's: the driver must wait for it)
        public int Throwing = -1;

        public void Run(int half)
        {
            Thread.SpinWait(half == 1 && Spin1 >= 0 ? Spin1 : Spin);
            if (Environment.CurrentManagedThreadId != Caller) Interlocked.Increment(ref OnOtherThread);
            Interlocked.Increment(ref Ran[half]); // last: a Split that returned before a half finished sees 0 here
            if (half == Throwing) throw new InvalidOperationException($"half {half}");
        }
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void EachHalfRunsOncePerStepBeforeSplitReturns(int maxThreads)
    {
        var pool = new GemmWorkerPool(1);
        int onHelper = 0;
        PairedSteps.Run(pool, maxThreads, steps =>
        {
            for (int s = 0; s < 2000; s++)
            {
                var step = new CountingStep { Spin = s % 5 == 0 ? 3000 : 0, Spin1 = s % 5 == 0 ? 30000 : 0 };
                steps.Split(step);
                Assert.AreEqual(1, step.Ran[0], $"step {s}: half 0");
                Assert.AreEqual(1, step.Ran[1], $"step {s}: half 1");
                onHelper += step.OnOtherThread;
            }
        });
        if (maxThreads == 1) Assert.AreEqual(0, onHelper, "one thread asked for, but a half ran on another");
    }

    [TestMethod]
    public void AHelperTakesHalvesWhenThePoolIsFree()
    {
        var pool = new GemmWorkerPool(1);
        bool helped = false;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        PairedSteps.Run(pool, 2, steps =>
        {
            // Steps long enough for the woken worker to join; stop at the first half it runs (or give up after 20 s).
            while (!helped && clock.Elapsed < TimeSpan.FromSeconds(20))
            {
                var step = new CountingStep { Spin = 20000 };
                steps.Split(step);
                helped = step.OnOtherThread > 0;
            }
        });
        Assert.IsTrue(helped, "the pool was free, but no half ever ran on its worker");
    }

    [TestMethod]
    public void AFailingHalfReachesTheDriverWithItsType()
    {
        var pool = new GemmWorkerPool(1);
        foreach (int half in new[] { 0, 1 })
        {
            int failures = 0;
            PairedSteps.Run(pool, 2, steps =>
            {
                for (int s = 0; s < 200; s++)
                {
                    var step = new CountingStep { Spin = 2000, Throwing = half };
                    var e = Assert.ThrowsExactly<InvalidOperationException>(() => steps.Split(step));
                    Assert.AreEqual($"half {half}", e.Message);
                    Assert.AreEqual(1, step.Ran[0], "half 0 ran once");
                    failures++;
                }
            });
            Assert.AreEqual(200, failures);
        }
        // The pool is usable afterwards: a job after the failures still runs both halves.
        var after = new CountingStep();
        PairedSteps.Run(pool, 2, steps => steps.Split(after));
        CollectionAssert.AreEqual(new[] { 1, 1 }, after.Ran);
    }
}
