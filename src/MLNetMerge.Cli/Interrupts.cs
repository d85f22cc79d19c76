using System.Runtime.InteropServices;
using MLNetMerge.Checkpoints;

namespace MLNetMerge.Cli;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM stop a command cleanly: the first signal cancels <see cref="Token"/>, which the recipe runner,
/// merges, evaluation and <c>embed</c> observe between tensors and batches, so the run unwinds and its temporary output
/// folder is deleted; the command then exits with 130 (SIGINT) or 143 (SIGTERM), 128 + the signal number as shells do.
/// Work that does not observe the token (an ONNX export, a zoo build) is stopped by the watchdog: when the run has not
/// ended <see cref="GracePeriod"/> after the signal, or at a second signal, the process deletes every temporary folder it
/// has not committed and exits with the same code. A run killed outright (SIGKILL) leaves its temporary folder, which
/// the next run to the same output removes (<see cref="TempFolders"/>).
/// </summary>
internal sealed class Interrupts : IDisposable
{
    /// <summary>How long a cancelled run may take to unwind before the watchdog ends the process.</summary>
    public static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(5);

    private static readonly CancellationTokenSource Source = new();
    private static int _signal;
    private static int _finished;
    private readonly List<PosixSignalRegistration> _registrations = [];

    /// <summary>Cancelled at the first SIGINT or SIGTERM.</summary>
    public static CancellationToken Token => Source.Token;

    /// <summary>The signal that stopped the run (SIGINT or SIGTERM), or null.</summary>
    public static PosixSignal? Signal => _signal switch { 0 => null, var s => (PosixSignal)s };

    /// <summary>The exit code for a run stopped by <paramref name="signal"/>: 130 for SIGINT, 143 for SIGTERM.</summary>
    public static int ExitCode(PosixSignal signal) => signal == PosixSignal.SIGTERM ? 143 : 130;

    /// <summary>The one line printed when a signal stopped the run.</summary>
    public static string Message(PosixSignal signal)
    {
        string name = signal == PosixSignal.SIGTERM ? "SIGTERM" : "SIGINT";
        var written = TempFolders.Committed;
        return written.Count == 0
            ? $"interrupted ({name}): stopped; no output was written and the temporary folder was removed."
            : $"interrupted ({name}): stopped after writing {string.Join(", ", written)}; what would have followed did not run, and the temporary folder of the step in progress was removed.";
    }

    /// <summary>Starts handling SIGINT and SIGTERM for this process.</summary>
    public static Interrupts Install()
    {
        var interrupts = new Interrupts();
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            try { interrupts._registrations.Add(PosixSignalRegistration.Create(signal, interrupts.OnSignal)); }
            catch (PlatformNotSupportedException) { }
        }
        return interrupts;
    }

    /// <summary>Marks the run as ended (the watchdog then has nothing to do).</summary>
    public static void Finished() => Interlocked.Exchange(ref _finished, 1);

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // no default termination: the run unwinds and cleans up
        int code = (int)context.Signal;
        if (Interlocked.CompareExchange(ref _signal, code, 0) != 0)
        {
            Stop(context.Signal); // a second signal: stop now
            return;
        }
        Source.Cancel();
        _ = Task.Delay(GracePeriod).ContinueWith(_ => Stop(context.Signal), TaskScheduler.Default);
    }

    /// <summary>Deletes the temporary folders this process has not committed and exits, unless the run has ended.</summary>
    private static void Stop(PosixSignal signal)
    {
        if (Volatile.Read(ref _finished) != 0) return;
        TempFolders.StopWriting();
        TempFolders.RemoveUncommitted();
        Console.Error.WriteLine(Message(signal));
        Environment.Exit(ExitCode(signal));
    }

    /// <summary>Stops handling the signals.</summary>
    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
    }
}
