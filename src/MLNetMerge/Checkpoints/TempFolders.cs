using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;

namespace MLNetMerge.Checkpoints;

/// <summary>
/// The temporary folders of <see cref="AtomicDirectory"/>: named <c>.NAME.tmp-PID-GUID</c> beside the output NAME, each
/// holding a marker file (<see cref="MarkerName"/>) that records the folder's GUID, the writing process's id and its start
/// time. A folder is recognised as MLNetMerge's only when its name and its marker agree, so a later run removes the
/// temporary folders of runs that were killed (kill -9, power loss) and never a folder someone else made; folders of a
/// run that is still alive are left alone and named. The folders of this process that are not yet committed are tracked,
/// so a signal handler can remove them before the process exits (<see cref="RemoveUncommitted"/>).
/// </summary>
internal static partial class TempFolders
{
    /// <summary>The marker file inside a temporary folder (removed just before the folder is renamed into place).</summary>
    public const string MarkerName = ".mlnetmerge-temp";

    private static readonly ConcurrentDictionary<string, byte> Live = new(StringComparer.Ordinal);
    private static volatile bool _stopping;

    /// <summary>Whether the process is stopping (a signal handler is removing the temporary folders): no new files or folders.</summary>
    public static bool Stopping => _stopping;

    /// <summary>Refuses new temporary folders and paths from now on (<see cref="AtomicDirectory.PathOf"/> throws
    /// <see cref="OperationCanceledException"/>), so a removed folder is not created again before the process exits.</summary>
    public static void StopWriting() => _stopping = true;

    [GeneratedRegex(@"^\.(?<name>.+)\.(?<kind>tmp|old)-(?<pid>\d{1,10})-(?<guid>[0-9a-f]{32})$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    /// <summary>Creates a new temporary folder for <paramref name="final"/> (a full path) with its marker, and tracks it.</summary>
    public static string Create(string final)
    {
        if (_stopping) throw new OperationCanceledException("the process is stopping.");
        string path = NewName(final, "tmp");
        Directory.CreateDirectory(path);
        Live[path] = 0;
        WriteMarker(path);
        return path;
    }

    /// <summary>A fresh sibling name of <paramref name="final"/>: <c>.NAME.KIND-PID-GUID</c>.</summary>
    public static string NewName(string final, string kind) =>
        Path.Combine(Path.GetDirectoryName(final)!, $".{Path.GetFileName(final)}.{kind}-{Environment.ProcessId}-{Guid.NewGuid():N}");

    /// <summary>Writes the marker of a folder named by <see cref="NewName"/>: "mlnetmerge-temp GUID PID START-TICKS".</summary>
    /// <param name="path">The folder that gets the marker.</param>
    /// <param name="named">The name (by <see cref="NewName"/>) the folder has or is about to get; default its own.</param>
    public static void WriteMarker(string path, string? named = null)
    {
        string guid = Path.GetFileName(named ?? path).Split('-')[^1];
        File.WriteAllText(Path.Combine(path, MarkerName),
            string.Create(CultureInfo.InvariantCulture, $"mlnetmerge-temp {guid} {Environment.ProcessId} {Data.ProcessIdentity.StartTicks}\n"));
    }

    /// <summary>Stops tracking <paramref name="path"/> (committed or deleted).</summary>
    public static void Forget(string path) => Live.TryRemove(path, out _);

    private static readonly ConcurrentQueue<string> CommittedOutputs = new();

    /// <summary>Notes an output (a folder, or a report or array file) this process committed, for an interrupted run's last line.</summary>
    public static void NoteCommitted(string final) => CommittedOutputs.Enqueue(final);

    /// <summary>The output folders this process committed, in order.</summary>
    public static IReadOnlyList<string> Committed => [.. CommittedOutputs];

    /// <summary>
    /// Deletes a marked folder with its marker last: everything else first, then the marker, then the folder. A process
    /// killed part-way leaves a folder that still carries its marker, which the next run recognises and removes (a
    /// recursive delete may take the marker first and leave the rest unrecognisable).
    /// </summary>
    public static void DeleteMarkedLast(string dir)
    {
        if (!Directory.Exists(dir)) return;
        string marker = Path.Combine(dir, MarkerName);
        foreach (var entry in Directory.EnumerateFileSystemEntries(dir).Where(e => e != marker).ToList())
        {
            var info = new FileInfo(entry);
            if (Directory.Exists(entry) && info.LinkTarget is null) Directory.Delete(entry, recursive: true);
            else File.Delete(entry);
        }
        if (File.Exists(marker)) File.Delete(marker);
        Directory.Delete(dir);
    }

    /// <summary>Removes the marker of a folder about to be committed.</summary>
    public static void RemoveMarker(string path)
    {
        string marker = Path.Combine(path, MarkerName);
        if (File.Exists(marker)) File.Delete(marker);
    }

    /// <summary>Deletes every temporary folder this process created and has not committed; returns the ones removed.
    /// Used on SIGINT/SIGTERM when the run does not stop in time by itself.</summary>
    public static IReadOnlyList<string> RemoveUncommitted()
    {
        var removed = new List<string>();
        foreach (var path in Live.Keys.ToList())
        {
            try
            {
                DeleteMarkedLast(path);
                removed.Add(path);
                Forget(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return removed;
    }

    /// <summary>
    /// Looks beside <paramref name="final"/> for temporary folders of earlier runs to the same output: removes those whose
    /// process is gone (<c>.tmp-</c> folders, and <c>.old-</c> folders of an interrupted replacement once the output is back in
    /// place), and reports the rest (a run still writing, a folder without a matching marker, a previous output moved aside
    /// while the output itself is missing). Returns one line per folder found.
    /// </summary>
    public static IReadOnlyList<string> CleanStale(string final)
    {
        string parent = Path.GetDirectoryName(final)!;
        string name = Path.GetFileName(final);
        var lines = new List<string>();
        if (!Directory.Exists(parent)) return lines;
        foreach (var dir in Directory.EnumerateDirectories(parent, $".{name}.*"))
        {
            var m = NamePattern().Match(Path.GetFileName(dir));
            if (!m.Success || m.Groups["name"].Value != name || Live.ContainsKey(dir)) continue;
            int pid = int.TryParse(m.Groups["pid"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int p) ? p : -1;
            string guid = m.Groups["guid"].Value;
            if (!HasMarker(dir, guid, pid, out long startTicks))
            {
                lines.Add($"warning: left alone {dir}: named like an MLNetMerge temporary folder but without its marker file; remove it yourself if it is not needed.");
                continue;
            }
            if (IsAlive(pid, startTicks))
            {
                lines.Add($"warning: left alone {dir}: process {pid} is still writing {final}.");
                continue;
            }
            if (m.Groups["kind"].Value == "old" && !Directory.Exists(final))
            {
                lines.Add($"warning: left alone {dir}: the previous output, moved aside by an interrupted run (process {pid}); rename it back to {name} or remove it.");
                continue;
            }
            try
            {
                DeleteMarkedLast(dir);
                lines.Add($"note: removed {dir}: left behind by an interrupted run (process {pid} is gone).");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                lines.Add($"warning: could not remove {dir} (left behind by process {pid}): {e.Message}");
            }
        }
        return lines;
    }

    private static bool HasMarker(string dir, string guid, int pid, out long startTicks)
    {
        startTicks = 0;
        string marker = Path.Combine(dir, MarkerName);
        try
        {
            if (!File.Exists(marker) || new FileInfo(marker).Length > 200) return false;
            var parts = File.ReadAllText(marker).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return parts.Length == 4 && parts[0] == "mlnetmerge-temp" && parts[1] == guid
                && parts[2] == pid.ToString(CultureInfo.InvariantCulture)
                && long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out startTicks);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool IsAlive(int pid, long startTicks) => Data.ProcessIdentity.IsAlive(pid, startTicks);
}
