namespace MLNetMerge.Checkpoints;

/// <summary>
/// The size and modification time of every file a run reads its checkpoints from, taken before the merge and checked
/// before the output is committed: a checkpoint overwritten or replaced while the merge read it (memory-mapped, tensor by
/// tensor) gives an output mixed from its old and new contents, and its recorded SHA-256 would describe neither.
/// </summary>
internal sealed class InputStamps
{
    private readonly List<(string Path, long Length, DateTime Modified)> _files = [];

    /// <summary>Stamps the files of <paramref name="paths"/>: a file (with the shards beside a <c>.index.json</c>), or every
    /// file under a folder.</summary>
    public static InputStamps Take(IEnumerable<string> paths)
    {
        var stamps = new InputStamps();
        foreach (var path in paths.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal))
        {
            IEnumerable<string> files = Directory.Exists(path) ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                : path.EndsWith(".index.json", StringComparison.Ordinal) ? Directory.EnumerateFiles(Path.GetDirectoryName(path)!, "*.safetensors").Append(path)
                : File.Exists(path) ? [path] : [];
            foreach (var file in files.Order(StringComparer.Ordinal))
            {
                var info = new FileInfo(file);
                stamps._files.Add((file, info.Length, info.LastWriteTimeUtc));
            }
        }
        return stamps;
    }

    /// <summary>Refuses when a stamped file is gone, or its size or modification time changed.</summary>
    /// <exception cref="MergeException">A file changed while the run read it.</exception>
    public void Check()
    {
        foreach (var (path, length, modified) in _files)
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length != length || info.LastWriteTimeUtc != modified)
                throw new MergeException(path, null, "changed while the merge read it (its size or modification time is not what it was when the merge began); nothing was committed: run again once it is stable.");
        }
    }
}
