using System.Diagnostics;

/// <summary>Best of several timed repetitions, as rows per second.</summary>
internal static class Timing
{
    public static double RowsPerSecond(int rows, Action run, int repeats = 3)
    {
        run(); // warm-up: JIT, sessions, buffers
        double best = double.PositiveInfinity;
        for (int r = 0; r < repeats; r++)
        {
            var sw = Stopwatch.StartNew();
            run();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return rows / best;
    }
}
