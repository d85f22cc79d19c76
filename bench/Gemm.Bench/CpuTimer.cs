using System.Diagnostics;

/// <summary>The benchmarks' one-thread measure: seconds of process CPU time per call, the best of five batches of calls
/// that each last at least 0.3 s of wall time — a figure other processes' load on a shared machine barely moves (the first
/// batch is the warm-up: tier-up and caches).</summary>
internal static class CpuTimer
{
    internal static double BestSecondsPerCall(Action once)
    {
        double best = double.MaxValue;
        for (int rep = 0; rep < 5; rep++)
        {
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var wall = Stopwatch.StartNew();
            int calls = 0;
            do { once(); calls++; } while (wall.Elapsed.TotalSeconds < 0.3);
            best = Math.Min(best, (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds / calls);
        }
        return best;
    }
}
