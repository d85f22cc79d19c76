using MLNetMerge.Checkpoints;

namespace MLNetMerge.Cli.Commands;

/// <summary>Single output files of the commands (<c>embed -o</c>): written only when new, or with <c>--force</c> over an
/// existing file — never over a folder or over one of the command's own inputs.</summary>
internal static class OutputFiles
{
    /// <summary>Refuses <paramref name="path"/> when it is a folder, one of <paramref name="inputs"/>, or an existing file without <paramref name="force"/>.</summary>
    /// <exception cref="OutputExistsException">The file exists and <paramref name="force"/> is false.</exception>
    /// <exception cref="UnsafeOverwriteException">The path is a folder or an input.</exception>
    public static void CheckNewFile(string path, bool force, IEnumerable<string?> inputs)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new UnsafeOverwriteException(full, "is a folder; the output names the file to write.");
        foreach (var input in inputs)
            if (input is not null && OutputGuard.IsAtOrUnder(Path.GetFullPath(input), full))
                throw new UnsafeOverwriteException(full, $"is an input of this command ({input}); choose another output file.");
        if (File.Exists(full) && !force) throw new OutputExistsException(full);
    }
}
