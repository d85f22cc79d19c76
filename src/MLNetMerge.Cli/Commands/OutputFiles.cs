using MLNetMerge.Checkpoints;

namespace MLNetMerge.Cli.Commands;

/// <summary>Single output files of the commands (<c>embed -o</c>, NPY arrays): written only when new, or with
/// <c>--force</c> over an earlier NPY array — never over a folder, a link, another kind of file (a checkpoint, a config,
/// anything the command did not write) or one of the command's own inputs.</summary>
internal static class OutputFiles
{
    /// <summary>Refuses <paramref name="path"/> when it is a folder, a link, one of <paramref name="inputs"/>, an existing
    /// file without <paramref name="force"/>, or with it an existing file that is not an NPY array.</summary>
    /// <exception cref="OutputExistsException">The file exists and <paramref name="force"/> is false.</exception>
    /// <exception cref="UnsafeOverwriteException">The path is a folder, a link, an input, or not an NPY array.</exception>
    public static void CheckNewNpy(string path, bool force, IEnumerable<string?> inputs)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new UnsafeOverwriteException(full, "is a folder; the output names the file to write.");
        foreach (var input in inputs)
            if (input is not null && OutputGuard.IsAtOrUnder(Path.GetFullPath(input), full))
                throw new UnsafeOverwriteException(full, $"is an input of this command ({input}); choose another output file.");
        if (!File.Exists(full)) return;
        if (!force) throw new OutputExistsException(full);
        if (new FileInfo(full).LinkTarget is { } target)
            throw new UnsafeOverwriteException(full, $"is a link (to {target}); --force replaces only an earlier .npy output: choose another output file.");
        if (!IsNpy(full))
            throw new UnsafeOverwriteException(full, "is not an NPY array; --force replaces only an earlier .npy output, never another kind of file: choose another output file.");
    }

    /// <summary>Whether the file is a readable NPY array (its header parses).</summary>
    private static bool IsNpy(string path)
    {
        try
        {
            MLNetMerge.Data.NpyFile.ReadHeader(path);
            return true;
        }
        catch (CheckpointFormatException) { return false; }
    }
}
