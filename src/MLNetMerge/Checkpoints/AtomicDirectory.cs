namespace MLNetMerge.Checkpoints;

/// <summary>
/// An output directory built under a temporary sibling name and renamed into place by <see cref="Commit"/>, so a
/// failed or cancelled run leaves nothing behind. Disposing without committing deletes the temporary directory.
/// Overwriting replaces only a previous MLNetMerge output that holds none of the run's inputs (see
/// <see cref="OutputGuard"/>); temporary folders that killed runs left beside the output are removed when the next run
/// to the same output begins (see <see cref="TempFolders"/>).
/// </summary>
internal sealed class AtomicDirectory : IDisposable
{
    private readonly IReadOnlyList<string> _inputs;
    private readonly Action<string>? _log;
    private bool _committed;

    private AtomicDirectory(string final, string temp, bool overwrite, IReadOnlyList<string> inputs, Action<string>? log)
    {
        _log = log;
        FinalPath = final;
        TempPath = temp;
        Overwrite = overwrite;
        _inputs = inputs;
    }

    /// <summary>Where the result will live.</summary>
    public string FinalPath { get; }

    /// <summary>Where files are written until <see cref="Commit"/>.</summary>
    public string TempPath { get; }

    /// <summary>Replace an existing <see cref="FinalPath"/> (only a previous MLNetMerge output).</summary>
    public bool Overwrite { get; }

    /// <summary>Starts an output; refuses an existing path unless <paramref name="overwrite"/>, and with it refuses
    /// anything but a previous MLNetMerge output.</summary>
    /// <exception cref="OutputExistsException">The path exists and overwriting was not asked for.</exception>
    /// <exception cref="UnsafeOverwriteException">Overwriting was asked for, but the path is not a previous MLNetMerge output.</exception>
    public static AtomicDirectory Begin(string path, bool overwrite) => Begin(path, overwrite, [], null);

    /// <summary>Starts an output that must not hold any of <paramref name="inputs"/>; stale temporary folders of earlier
    /// runs to the same output are removed (or, when they cannot be, named) through <paramref name="log"/>.</summary>
    /// <exception cref="OutputExistsException">The path exists and overwriting was not asked for.</exception>
    /// <exception cref="UnsafeOverwriteException">The path is not a previous MLNetMerge output, holds an input, or is a link.</exception>
    internal static AtomicDirectory Begin(string path, bool overwrite, IEnumerable<string> inputs, Action<string>? log)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string final = OutputGuard.OutputFolder(path);
        var inputList = inputs.Where(i => !string.IsNullOrEmpty(i)).ToList();
        OutputGuard.CheckWritable(final, overwrite, inputList);
        string parent = Path.GetDirectoryName(final)!;
        Directory.CreateDirectory(parent);
        foreach (var line in TempFolders.CleanStale(final)) log?.Invoke(line);
        string temp = TempFolders.Create(final);
        return new AtomicDirectory(final, temp, overwrite, inputList, log);
    }

    /// <summary>A path inside the temporary directory (subdirectories created).</summary>
    /// <exception cref="OperationCanceledException">The process is stopping at a signal (its temporary folders are being removed).</exception>
    public string PathOf(string relative)
    {
        if (TempFolders.Stopping) throw new OperationCanceledException("the process is stopping.");
        CheckTemporaryFolder();
        string p = Path.Combine(TempPath, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        return p;
    }

    /// <summary>Refuses to go on when the temporary folder (or its marker) is gone: something removed it while the run
    /// wrote it, and re-creating it would commit an output without what was written before.</summary>
    /// <exception cref="MergeException">The temporary folder or its marker was removed.</exception>
    private void CheckTemporaryFolder()
    {
        if (!File.Exists(Path.Combine(TempPath, TempFolders.MarkerName)))
            throw new MergeException(FinalPath, null, $"its temporary folder {TempPath} was removed while the run wrote it; nothing was committed.");
    }

    /// <summary>Moves the finished directory into place (replacing an existing one when allowed: a previous MLNetMerge
    /// output, moved aside first and deleted once the new one is in place).</summary>
    /// <exception cref="OutputExistsException">The path appeared meanwhile and overwriting was not asked for.</exception>
    /// <exception cref="UnsafeOverwriteException">The path is not (or no longer) a previous MLNetMerge output.</exception>
    public void Commit()
    {
        CheckTemporaryFolder();
        string? old = null;
        if (Directory.Exists(FinalPath) || File.Exists(FinalPath))
        {
            if (!Overwrite) throw new OutputExistsException(FinalPath);
            OutputGuard.CheckReplaceable(FinalPath, _inputs);
            old = TempFolders.NewName(FinalPath, "old");
            // The marker lets a later run recognise (and remove) the old output if this process dies before deleting it;
            // written before the move, so that the moved folder never lacks it (a stray one left in the output by a kill
            // before the move is passed over).
            TempFolders.WriteMarker(FinalPath, named: old);
            Directory.Move(FinalPath, old);
        }
        // The marker goes only once the folder is in place: a process killed before the rename leaves a temporary folder
        // the next run recognises and removes (one removed first was left unrecognised), one killed after it a stray
        // marker inside the output, which the contents record and --force pass over.
        OutputContents.Write(TempPath);
        Directory.Move(TempPath, FinalPath);
        try { TempFolders.RemoveMarker(FinalPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // a stray marker is passed over
        TempFolders.Forget(TempPath);
        TempFolders.NoteCommitted(FinalPath);
        _committed = true;
        OutputContents.NoteWritten(FinalPath); // an output inside an earlier one (a run's export folder) is recorded there
        if (old is null) return;
        // Checked again now that the old output is out of the way: a file added since the first check is not deleted.
        var late = OutputContents.Extras(old);
        if (late is not { Count: 0 })
        {
            _log?.Invoke($"warning: the replaced output was left at {old}: it holds {(late is null ? "a damaged record" : string.Join(", ", late.Take(5)))}, which no run wrote; move what is yours and remove it.");
            return;
        }
        try { TempFolders.DeleteMarkedLast(old); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The new output is in place; what is left of the old one is said, not turned into a failure of the run.
            _log?.Invoke($"warning: the replaced output could not be removed completely and was left at {old} ({e.Message}); remove it yourself.");
        }
    }

    /// <summary>Deletes the temporary directory unless committed.</summary>
    public void Dispose()
    {
        if (_committed) return;
        try
        {
            TempFolders.DeleteMarkedLast(TempPath);
            TempFolders.Forget(TempPath);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
