using System.Text.Json;

namespace MLNetMerge.Checkpoints;

/// <summary>
/// What an overwrite may replace. An output location is replaced only when it is a folder a previous MLNetMerge run wrote
/// (its <c>manifest.json</c> names one of <see cref="ReplaceableFormats"/>) and it holds none of the run's inputs; a file,
/// a non-empty folder without such a manifest, or a folder holding the base, a model, the recipe, a configuration or the zoo is
/// refused with an <see cref="UnsafeOverwriteException"/> naming what was found there.
/// </summary>
internal static class OutputGuard
{
    /// <summary>Manifest format of a merge output (<c>Recipes.OutputFormat.FormatName</c>).</summary>
    public const string MergedModelFormat = "mlnetmerge.merged-model";

    /// <summary>Manifest format of an ONNX export folder.</summary>
    public const string OnnxExportFormat = "mlnetmerge.onnx-export";

    /// <summary>The manifest formats of folders an overwrite may replace.</summary>
    public static readonly IReadOnlyList<string> ReplaceableFormats = [MergedModelFormat, OnnxExportFormat];

    /// <summary>Refuses to replace <paramref name="final"/> unless it is absent or a previous MLNetMerge output holding
    /// none of <paramref name="inputs"/>.</summary>
    /// <param name="final">The full output path.</param>
    /// <param name="inputs">Files and folders the run reads (relative paths are taken from the current directory).</param>
    /// <exception cref="UnsafeOverwriteException">The location is not replaceable; the message says what it holds.</exception>
    public static void CheckReplaceable(string final, IEnumerable<string> inputs)
    {
        if (File.Exists(final))
            throw new UnsafeOverwriteException(final, "is a file, not a previous MLNetMerge output; --force replaces only a folder an earlier run wrote (manifest.json with format '" + MergedModelFormat + "'): choose another output.");
        if (!Directory.Exists(final)) return;
        CheckHoldsNoInput(final, inputs);
        if (!Directory.EnumerateFileSystemEntries(final).Any()) return; // an empty folder: nothing to lose
        string manifest = Path.Combine(final, "manifest.json");
        string? format = ManifestFormat(manifest);
        if (format is not null && ReplaceableFormats.Contains(format)) return;
        string found = format is null
            ? File.Exists(manifest) ? "a manifest.json that is not an MLNetMerge manifest" : "no manifest.json"
            : $"a manifest.json of format '{format}'";
        throw new UnsafeOverwriteException(final,
            $"is not a previous MLNetMerge output ({found}; it holds {Describe(final)}); --force replaces only a folder an earlier run wrote (manifest.json with format '{MergedModelFormat}'): choose another output, or move the folder away yourself.");
    }

    /// <summary>Refuses an output location that is, or contains, one of <paramref name="inputs"/> (replacing it would delete the input).</summary>
    /// <exception cref="UnsafeOverwriteException">An input lies at or under <paramref name="final"/>.</exception>
    public static void CheckHoldsNoInput(string final, IEnumerable<string> inputs)
    {
        foreach (var input in inputs)
        {
            if (string.IsNullOrEmpty(input)) continue;
            string full = Path.GetFullPath(input).TrimEnd('/', '\\');
            if (!IsAtOrUnder(full, final)) continue;
            string where = full.Length == final.Length ? "is" : $"holds '{Path.GetRelativePath(final, full).Replace('\\', '/')}', which is";
            throw new UnsafeOverwriteException(final, $"{where} an input of this run ({input}); replacing the output would delete it: choose another output.");
        }
    }

    /// <summary>The <c>format</c> a JSON manifest names, or null when there is none (missing, unreadable, not JSON, no format).</summary>
    public static string? ManifestFormat(string manifest)
    {
        if (!File.Exists(manifest)) return null;
        try
        {
            var info = new FileInfo(manifest);
            if (info.Length > 16 << 20) return null; // a manifest is a few kilobytes
            using var doc = JsonDocument.Parse(File.ReadAllBytes(manifest));
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String
                ? f.GetString() : null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
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
