namespace MLNetMerge.Checkpoints;

/// <summary>
/// An output directory built under a temporary sibling name and renamed into place by <see cref="Commit"/>, so a
/// failed or cancelled run leaves nothing behind. Disposing without committing deletes the temporary directory.
/// </summary>
internal sealed class AtomicDirectory : IDisposable
{
    private bool _committed;

    private AtomicDirectory(string final, string temp, bool overwrite)
    {
        FinalPath = final;
        TempPath = temp;
        Overwrite = overwrite;
    }

    /// <summary>Where the result will live.</summary>
    public string FinalPath { get; }

    /// <summary>Where files are written until <see cref="Commit"/>.</summary>
    public string TempPath { get; }

    /// <summary>Replace an existing <see cref="FinalPath"/>.</summary>
    public bool Overwrite { get; }

    /// <summary>Starts an output; refuses an existing path unless <paramref name="overwrite"/>.</summary>
    /// <exception cref="OutputExistsException">The path exists and overwriting was not asked for.</exception>
    public static AtomicDirectory Begin(string path, bool overwrite)
    {
        string final = Path.GetFullPath(path.TrimEnd('/', '\\'));
        if (!overwrite && (Directory.Exists(final) || File.Exists(final))) throw new OutputExistsException(final);
        string parent = Path.GetDirectoryName(final)!;
        Directory.CreateDirectory(parent);
        string temp = Path.Combine(parent, $".{Path.GetFileName(final)}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        return new AtomicDirectory(final, temp, overwrite);
    }

    /// <summary>A path inside the temporary directory (subdirectories created).</summary>
    public string PathOf(string relative)
    {
        string p = Path.Combine(TempPath, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        return p;
    }

    /// <summary>Moves the finished directory into place (replacing an existing one when allowed).</summary>
    public void Commit()
    {
        string? old = null;
        if (Directory.Exists(FinalPath) || File.Exists(FinalPath))
        {
            if (!Overwrite) throw new OutputExistsException(FinalPath);
            old = Path.Combine(Path.GetDirectoryName(FinalPath)!, $".{Path.GetFileName(FinalPath)}.old-{Guid.NewGuid():N}");
            if (Directory.Exists(FinalPath)) Directory.Move(FinalPath, old); else File.Move(FinalPath, old);
        }
        Directory.Move(TempPath, FinalPath);
        _committed = true;
        if (old is not null)
        {
            if (Directory.Exists(old)) Directory.Delete(old, recursive: true); else File.Delete(old);
        }
    }

    /// <summary>Deletes the temporary directory unless committed.</summary>
    public void Dispose()
    {
        if (!_committed && Directory.Exists(TempPath))
        {
            try { Directory.Delete(TempPath, recursive: true); }
            catch (IOException) { }
        }
    }
}
