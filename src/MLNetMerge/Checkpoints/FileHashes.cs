using System.Security.Cryptography;

namespace MLNetMerge.Checkpoints;

/// <summary>
/// SHA-256 of input files for model cards, cached by (full path, size, last write time) in
/// <c>$XDG_CACHE_HOME/mlnetmerge/sha256.tsv</c> (or <c>~/.cache/...</c>) so repeated merges of the same inputs do not
/// re-read them. A changed file has a new size or time and is hashed again.
/// </summary>
internal static class FileHashes
{
    private static readonly object Gate = new();

    /// <summary>Lower-case hex SHA-256 of a file, or of every file of a directory checkpoint (name order, "name sha" lines hashed).</summary>
    public static string Sha256(string path)
    {
        if (Directory.Exists(path))
        {
            var lines = Directory.GetFiles(path).OrderBy(f => f, StringComparer.Ordinal).Select(f => $"{Path.GetFileName(f)} {Sha256(f)}\n");
            return Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Concat(lines))));
        }
        var info = new FileInfo(path);
        string key = $"{info.FullName}\t{info.Length}\t{info.LastWriteTimeUtc.Ticks}";
        string cache = CachePath();
        lock (Gate)
        {
            if (File.Exists(cache))
                foreach (var line in File.ReadLines(cache))
                    if (line.StartsWith(key + "\t", StringComparison.Ordinal)) return line[(key.Length + 1)..];
        }
        string hash;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
            hash = Convert.ToHexStringLower(SHA256.HashData(stream));
        lock (Gate)
        {
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(cache)!);
                File.AppendAllText(cache, $"{key}\t{hash}\n");
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return hash;
    }

    private static string CachePath()
    {
        string? root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(root)) root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "mlnetmerge", "sha256.tsv");
    }
}
