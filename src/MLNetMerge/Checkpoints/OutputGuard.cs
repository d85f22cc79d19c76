using System.Text.Json;

namespace MLNetMerge.Checkpoints;

/// <summary>
/// What an overwrite may replace. An output location is replaced only when it is a folder a previous MLNetMerge run wrote
/// (its <c>manifest.json</c>, or an import's <see cref="ImportRecord"/>, names one of <see cref="ReplaceableFormats"/>)
/// and it holds none of the run's inputs; a symbolic link is never replaced; a file,
/// a non-empty folder without such a manifest, or a folder holding the base, a model, the recipe, a configuration or the zoo is
/// refused with an <see cref="UnsafeOverwriteException"/> naming what was found there.
/// </summary>
internal static class OutputGuard
{
    /// <summary>Manifest format of a merge output (<c>Recipes.OutputFormat.FormatName</c>).</summary>
    public const string MergedModelFormat = "mlnetmerge.merged-model";

    /// <summary>Manifest format of an ONNX export folder.</summary>
    public const string OnnxExportFormat = "mlnetmerge.onnx-export";

    /// <summary>Format of an <c>import</c> output, named in its <see cref="ImportRecord"/> (the folder is a Hugging Face
    /// model folder, so it carries no <c>manifest.json</c>).</summary>
    public const string OnnxImportFormat = "mlnetmerge.onnx-import";

    /// <summary>The record an <c>import</c> output carries: source, and each tensor's initializer and orientation.</summary>
    public const string ImportRecord = "onnx_import.json";

    /// <summary>The manifest formats of folders an overwrite may replace.</summary>
    public static readonly IReadOnlyList<string> ReplaceableFormats = [MergedModelFormat, OnnxExportFormat, OnnxImportFormat];

    /// <summary>Refuses to replace <paramref name="final"/> unless it is absent or a previous MLNetMerge output holding
    /// none of <paramref name="inputs"/>.</summary>
    /// <param name="final">The full output path.</param>
    /// <param name="inputs">Files and folders the run reads (relative paths are taken from the current directory).</param>
    /// <exception cref="UnsafeOverwriteException">The location is not replaceable; the message says what it holds.</exception>
    public static void CheckReplaceable(string final, IEnumerable<string> inputs)
    {
        CheckNotALink(final);
        if (File.Exists(final))
            throw new UnsafeOverwriteException(final, "is a file, not a previous MLNetMerge output; --force replaces only a folder an earlier run wrote (manifest.json with format '" + MergedModelFormat + "'): choose another output.");
        if (!Directory.Exists(final)) return;
        CheckHoldsNoInput(final, inputs);
        if (!Directory.EnumerateFileSystemEntries(final).Any()) return; // an empty folder: nothing to lose
        string manifest = Path.Combine(final, "manifest.json");
        var (format, promised) = ReadManifest(manifest);
        if (format is null && ReadManifest(Path.Combine(final, ImportRecord)) is (OnnxImportFormat, var importPromised))
            (format, promised) = (OnnxImportFormat, importPromised);
        if (format is not null && ReplaceableFormats.Contains(format))
        {
            var extras = OutputContents.Extras(final);
            if (extras is null || (promised && !File.Exists(Path.Combine(final, OutputContents.RecordName))))
                throw new UnsafeOverwriteException(final, $"its record of what earlier runs wrote ({OutputContents.RecordName}) is {(extras is null ? "damaged" : "missing")}, " +
                    "so what else it holds cannot be told apart: --force replaces only what earlier runs wrote; move the folder away or delete it yourself.");
            if (MountPointUnder(final) is { } mount)
                throw new UnsafeOverwriteException(final, $"holds a mount point ({mount}); replacing the folder would delete what is mounted there: unmount it first.");
            if (extras.Count == 0) return;
            throw new UnsafeOverwriteException(final, $"holds {(extras.Count == 1 ? "an entry" : $"{extras.Count} entries")} no run wrote ({string.Join(", ", extras.Take(5))}{(extras.Count > 5 ? ", …" : "")}); " +
                "--force replaces only what earlier runs wrote: move them away first, or choose another output.");
        }
        string found = format is null
            ? File.Exists(manifest) ? "a manifest.json that is not an MLNetMerge manifest" : "no manifest.json"
            : $"a manifest.json of format '{format}'";
        throw new UnsafeOverwriteException(final,
            $"is not a previous MLNetMerge output ({found}; it holds {Describe(final)}); --force replaces only a folder an earlier run wrote (manifest.json with format '{MergedModelFormat}'): choose another output, or move the folder away yourself.");
    }

    /// <summary>Refuses, before any work, an output folder the run could not write: one that is or holds an input, a link,
    /// an existing path without <paramref name="overwrite"/>, or with it anything but a previous MLNetMerge output.</summary>
    /// <param name="final">The full output path.</param>
    /// <param name="overwrite">Whether an earlier output may be replaced (<c>--force</c>).</param>
    /// <param name="inputs">Files and folders the run reads.</param>
    /// <exception cref="OutputExistsException">The path exists and <paramref name="overwrite"/> is false.</exception>
    /// <exception cref="UnsafeOverwriteException">The path is or holds an input, is a link, or is not a previous MLNetMerge output.</exception>
    public static void CheckWritable(string final, bool overwrite, IReadOnlyList<string> inputs)
    {
        CheckHoldsNoInput(final, inputs);
        CheckNotALink(final);
        CheckCanCreate(final);
        if (!Directory.Exists(final) && !File.Exists(final)) return;
        if (!overwrite) throw new OutputExistsException(final);
        CheckReplaceable(final, inputs);
    }

    /// <summary>A mount point at or under <paramref name="folder"/> (Linux, from <c>/proc/self/mountinfo</c>), or null.</summary>
    public static string? MountPointUnder(string folder)
    {
        const string table = "/proc/self/mountinfo";
        if (!OperatingSystem.IsLinux() || !File.Exists(table)) return null;
        string real = RealPath(folder);
        foreach (var line in File.ReadLines(table))
        {
            var fields = line.Split(' ');
            if (fields.Length < 5) continue;
            string point = System.Text.RegularExpressions.Regex.Replace(fields[4], @"\\([0-7]{3})", m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString());
            if (IsAtOrUnder(point, real) && point.Length >= real.Length) return point;
        }
        return null;
    }

    /// <summary>The full path of an output folder, without a trailing separator.</summary>
    /// <exception cref="UnsafeOverwriteException">The path is the root of the file system.</exception>
    public static string OutputFolder(string path)
    {
        string full = Path.GetFullPath(path);
        if (full.Length <= (Path.GetPathRoot(full)?.Length ?? 0))
            throw new UnsafeOverwriteException(full, "is the root of the file system; an output is a folder of its own: choose one below it.");
        return full.TrimEnd('/', '\\');
    }

    /// <summary>
    /// Refuses an output that cannot be created where it is asked for, before any work: a file where a folder above it
    /// should be, or a folder that refuses new entries (read-only, immutable, out of space), found by creating and removing
    /// a short-lived folder of its own (<c>.mlnetmerge-probe-…</c>) in the nearest existing folder above the output.
    /// </summary>
    /// <exception cref="UnsafeOverwriteException">The output cannot be written there.</exception>
    public static void CheckCanCreate(string final)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(final));
        while (dir is not null && !Directory.Exists(dir))
        {
            if (File.Exists(dir)) throw new UnsafeOverwriteException(final, $"cannot be created: '{dir}' is a file, not a folder.");
            dir = Path.GetDirectoryName(dir);
        }
        if (dir is null) return;
        string probe = Path.Combine(dir, $".mlnetmerge-probe-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(probe);
            Directory.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UnsafeOverwriteException(final, $"cannot be written: '{dir}' accepts no new entry ({e.Message}).");
        }
    }

    /// <summary>Refuses an output location that is a symbolic link (to a folder, a file, or nothing): replacing the link
    /// would leave what it points to behind, and writing through it would write elsewhere.</summary>
    /// <exception cref="UnsafeOverwriteException">The location is a link.</exception>
    public static void CheckNotALink(string final)
    {
        if (new FileInfo(final).LinkTarget is { } target)
            throw new UnsafeOverwriteException(final, $"is a symbolic link (to {target}), not a folder an earlier run wrote: give the folder itself, or another output.");
    }

    /// <summary>Refuses an output location that is, or contains, one of <paramref name="inputs"/> (replacing it would delete the input).</summary>
    /// <exception cref="UnsafeOverwriteException">An input lies at or under <paramref name="final"/>.</exception>
    public static void CheckHoldsNoInput(string final, IEnumerable<string> inputs)
    {
        string realFinal = RealPath(final);
        foreach (var input in inputs)
        {
            if (string.IsNullOrEmpty(input)) continue;
            string full = Path.GetFullPath(input).TrimEnd('/', '\\');
            // Through links too: an input reached by a symbolic link into the output is still deleted with it.
            if (!IsAtOrUnder(full, final) && !IsAtOrUnder(RealPath(full), realFinal)) continue;
            if (!IsAtOrUnder(full, final)) full = final + RealPath(full)[realFinal.Length..];
            string where = full.Length == final.Length ? "is" : $"holds '{Path.GetRelativePath(final, full).Replace('\\', '/')}', which is";
            throw new UnsafeOverwriteException(final, $"{where} an input of this run ({input}); replacing the output would delete it: choose another output.");
        }
    }

    /// <summary>The <c>format</c> a JSON manifest names, or null when there is none (missing, unreadable, not JSON, no format).</summary>
    public static string? ManifestFormat(string manifest) => ReadManifest(manifest).Format;

    /// <summary>A JSON manifest's <c>format</c> and whether it says its folder carries a contents record; (null, false)
    /// when there is none (missing, too large, unreadable, not JSON).</summary>
    private static (string? Format, bool Contents) ReadManifest(string manifest)
    {
        if (!File.Exists(manifest)) return (null, false);
        try
        {
            var info = new FileInfo(manifest);
            if (info.Length > 16 << 20) return (null, false); // a manifest is a few kilobytes
            using var doc = JsonDocument.Parse(File.ReadAllBytes(manifest));
            var root = doc.RootElement;
            string? format = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
            return (format, OutputContents.Promised(root));
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return (null, false);
        }
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="folder"/> or lies under it (both full paths).</summary>
    public static bool IsAtOrUnder(string path, string folder)
    {
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        folder = folder.TrimEnd('/', '\\');
        if (path.Equals(folder, comparison)) return true;
        return path.StartsWith(folder, comparison) && path.Length > folder.Length && path[folder.Length] is '/' or '\\';
    }

    /// <summary>
    /// <paramref name="path"/> with every symbolic link along it resolved (the path <c>realpath</c> gives; parts that do
    /// not exist yet are kept as written). A link cycle or an unreadable link leaves the rest as written.
    /// </summary>
    public static string RealPath(string path)
    {
        string full = Path.GetFullPath(path);
        string root = Path.GetPathRoot(full) ?? "/";
        if (full.Length <= root.Length) return root;
        full = full.TrimEnd('/', '\\');
        string current = root;
        var parts = full[root.Length..].Split(['/', '\\'], StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < parts.Length; i++)
        {
            string next = Path.Combine(current, parts[i]);
            try
            {
                var info = new FileInfo(next);
                if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
                    next = RealPath(target.FullName);
            }
            catch (IOException) { return Path.Combine([next, .. parts[(i + 1)..]]); }
            catch (UnauthorizedAccessException) { return Path.Combine([next, .. parts[(i + 1)..]]); }
            current = next;
        }
        return current.Length > root.Length ? current.TrimEnd('/', '\\') : current;
    }

    /// <summary>"3 entries: a.csv, b/, notes.txt" — the first few entries of a folder, for messages.</summary>
    public static string Describe(string folder)
    {
        var entries = new DirectoryInfo(folder).EnumerateFileSystemInfos().Select(e => e is DirectoryInfo ? e.Name + "/" : e.Name)
            .Order(StringComparer.Ordinal).ToList();
        if (entries.Count == 0) return "nothing";
        string shown = string.Join(", ", entries.Take(4));
        return $"{entries.Count} entr{(entries.Count == 1 ? "y" : "ies")}: {shown}{(entries.Count > 4 ? ", …" : "")}";
    }
}
