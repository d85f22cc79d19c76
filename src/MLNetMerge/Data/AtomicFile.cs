using System.Globalization;
using System.Text.RegularExpressions;

namespace MLNetMerge.Data;

/// <summary>
/// A file written so that readers never see a partial one: the content goes to a temporary file in the same directory,
/// and <see cref="Commit()"/> flushes it and renames it over the destination (a rename within one directory is atomic on
/// POSIX file systems). Disposing without committing deletes the temporary file and leaves the destination untouched.
/// </summary>
internal sealed partial class AtomicFile : IDisposable
{
    private readonly string _destination;
    private readonly string _temp;
    private bool _committed;

    private AtomicFile(string destination, string temp, FileStream stream)
    {
        _destination = destination;
        _temp = temp;
        Stream = stream;
    }

    /// <summary>The stream to write the content into.</summary>
    public FileStream Stream { get; }

    /// <summary>Opens a temporary file next to <paramref name="path"/> (creating the directory if needed).</summary>
    public static AtomicFile Create(string path)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(directory);
        CleanStale(full); // a killed writer's leftover (its process has ended)
        string temp = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture,
            $".{Path.GetFileName(full)}.{Environment.ProcessId}-{ProcessIdentity.StartTicks}-{Guid.NewGuid():N}.tmp"));
        var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        return new AtomicFile(full, temp, stream);
    }

    /// <summary>Deletes the temporary files (<c>.NAME.PID-START-GUID.tmp</c>) of writes to <paramref name="destination"/>
    /// whose process has ended — killed before it could delete them; a live process's are left alone.</summary>
    public static IReadOnlyList<string> CleanStale(string destination)
    {
        string dir = Path.GetDirectoryName(destination)!, prefix = "." + Path.GetFileName(destination) + ".";
        var removed = new List<string>();
        if (!Directory.Exists(dir)) return removed;
        foreach (var path in Directory.EnumerateFiles(dir, prefix + "*.tmp"))
        {
            var m = TempName().Match(Path.GetFileName(path)[prefix.Length..]);
            if (!m.Success || new FileInfo(path).LinkTarget is not null) continue;
            if (!int.TryParse(m.Groups["pid"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                || !long.TryParse(m.Groups["start"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long start)
                || ProcessIdentity.IsAlive(pid, start)) continue;
            try { File.Delete(path); removed.Add(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return removed;
    }

    [GeneratedRegex(@"^(?<pid>\d{1,10})-(?<start>\d{1,20})-(?<guid>[0-9a-f]{32})\.tmp$", RegexOptions.CultureInvariant)]
    private static partial Regex TempName();

    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>, replacing any existing file.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        using var file = Create(path);
        write(file.Stream);
        file.Commit();
    }

    /// <summary>Flushes the content to disk and renames the temporary file over the destination.</summary>
    public void Commit() => Commit(null);

    /// <summary>
    /// Flushes the content and renames the temporary file to the destination under a caller's rule, checked at the last
    /// moment (a file may have appeared or changed while the content was written): <paramref name="replace"/> is given
    /// the destination when one exists and either refuses by throwing or allows the replacement; without a destination
    /// the rename fails rather than replace one that appears in between (<see cref="IOException"/>).
    /// </summary>
    /// <param name="replace">The rule for an existing destination; null replaces any.</param>
    /// <param name="beforeRename">Called with the finished temporary file just before the rename (a caller's record of
    /// what is about to be in place, so that a kill between the rename and its own bookkeeping leaves nothing unknown).</param>
    public void Commit(Action<string>? replace, Action<string>? beforeRename = null)
    {
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        bool exists = File.Exists(_destination);
        if (exists) replace?.Invoke(_destination);
        beforeRename?.Invoke(_temp);
        File.Move(_temp, _destination, overwrite: replace is null || exists);
        _committed = true;
    }

    /// <summary>Closes the stream; deletes the temporary file unless committed.</summary>
    public void Dispose()
    {
        // A full disk fails the flush of a file that is being discarded; it is deleted below all the same.
        try { Stream.Dispose(); }
        catch (IOException) when (!_committed) { }
        if (_committed) return;
        try { File.Delete(_temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
