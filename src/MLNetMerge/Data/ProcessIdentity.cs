using System.Diagnostics;

namespace MLNetMerge.Data;

/// <summary>
/// A process told apart from a later one that reuses its id: its id and start time, as temporary folders' markers and
/// temporary files' names record them, so that a later run removes only what a process that has ended left behind.
/// </summary>
internal static class ProcessIdentity
{
    private static readonly Lazy<long> Start = new(() =>
    {
        try { return Process.GetCurrentProcess().StartTime.ToUniversalTime().Ticks; }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or System.ComponentModel.Win32Exception) { return 0; }
    });

    /// <summary>This process's start time in UTC ticks (0 when the platform does not say).</summary>
    public static long StartTicks => Start.Value;

    /// <summary>Whether process <paramref name="pid"/> runs and is the one that started at <paramref name="startTicks"/>
    /// (a reused process id is another process). Unknown start times count as alive.</summary>
    public static bool IsAlive(int pid, long startTicks)
    {
        if (pid == Environment.ProcessId) return startTicks == StartTicks || startTicks == 0;
        try
        {
            using var process = Process.GetProcessById(pid);
            if (process.HasExited) return false;
            if (startTicks == 0) return true;
            long ticks = process.StartTime.ToUniversalTime().Ticks;
            return Math.Abs(ticks - startTicks) < TimeSpan.TicksPerSecond;
        }
        catch (ArgumentException) { return false; } // no such process
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or System.ComponentModel.Win32Exception) { return true; }
    }
}
