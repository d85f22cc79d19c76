using System.Text.Json;
using System.Text.Json.Nodes;

namespace MLNetMerge.Checkpoints;

/// <summary>
/// The record of what MLNetMerge wrote into an output folder, <c>.mlnetmerge-contents.json</c> (format
/// <c>mlnetmerge.contents</c>): every file and folder it held when it was committed (relative, <c>/</c>-separated, folders
/// ending in <c>/</c>), plus what MLNetMerge wrote into it afterwards — a run's reports, an output committed inside it
/// (its export folder, <c>nested</c>: that output's own record says what it holds). An overwrite replaces the folder
/// only when everything in it is so recorded (or named <c>.mlnetmerge-…</c>): a file a user added — a copy of an earlier
/// output, a page named <c>report.html</c> — is never deleted with it. Outputs whose manifest says they carry a record
/// (<see cref="ManifestKey"/>) are refused when it is missing or damaged; older outputs carry none and are not checked.
/// </summary>
internal static class OutputContents
{
    /// <summary>The record's file name.</summary>
    public const string RecordName = ".mlnetmerge-contents.json";

    /// <summary>The manifest field (manifest.json, onnx_import.json) by which an output says it carries the record.</summary>
    public const string ManifestKey = "contents";

    private const string Format = "mlnetmerge.contents";

    /// <summary>Writes the record of <paramref name="folder"/>'s entries into it (called just before the folder is committed).</summary>
    public static void Write(string folder) => Save(folder, [.. Entries(folder)], []);

    /// <summary>
    /// Adds <paramref name="path"/> (a file or an output folder MLNetMerge just wrote) to the record of the nearest folder
    /// above it that has one, if any; a folder is recorded as nested (its own record covers its contents).
    /// </summary>
    public static void NoteWritten(string path)
    {
        string full = Path.GetFullPath(path).TrimEnd('/', '\\');
        for (string? dir = Path.GetDirectoryName(full); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (Read(dir) is not { } record) continue;
            string relative = Path.GetRelativePath(dir, full).Replace('\\', '/');
            bool folder = Directory.Exists(full);
            var entries = new SortedSet<string>(record.Entries, StringComparer.Ordinal) { folder ? relative + "/" : relative };
            var nested = new SortedSet<string>(record.Nested, StringComparer.Ordinal);
            if (folder) nested.Add(relative + "/");
            Save(dir, [.. entries], [.. nested]);
            return;
        }
    }

    /// <summary>The entries of <paramref name="folder"/> that no run wrote: neither in its record (nor, under an output
    /// recorded as nested, in that output's record) nor named <c>.mlnetmerge-…</c>. Empty when the folder has no record;
    /// null when its record is damaged (unreadable, another format, a link).</summary>
    public static IReadOnlyList<string>? Extras(string folder)
    {
        string path = Path.Combine(folder, RecordName);
        if (!File.Exists(path) && !Directory.Exists(path) && new FileInfo(path).LinkTarget is null) return [];
        if (Read(folder) is not { } record) return null;
        var recorded = new HashSet<string>(record.Entries, StringComparer.Ordinal);
        var extras = new List<string>();
        string? inside = null;
        foreach (var e in Entries(folder))
        {
            if (inside is not null && e.StartsWith(inside, StringComparison.Ordinal)) continue;
            inside = null;
            if (record.Nested.Contains(e))
            {
                inside = e;
                var nested = Extras(Path.Combine(folder, e));
                if (nested is null) extras.Add(e + RecordName + " (damaged)");
                else extras.AddRange(nested.Select(x => e + x));
                continue;
            }
            if (recorded.Contains(e) || Path.GetFileName(e.TrimEnd('/')).StartsWith(".mlnetmerge-", StringComparison.Ordinal)) continue;
            extras.Add(e);
        }
        return extras;
    }

    /// <summary>Whether a manifest (its root object) says the folder carries a record.</summary>
    public static bool Promised(JsonElement manifestRoot) =>
        manifestRoot.ValueKind == JsonValueKind.Object && manifestRoot.TryGetProperty(ManifestKey, out var c) && c.ValueKind == JsonValueKind.String;

    private sealed record Record(IReadOnlyList<string> Entries, IReadOnlySet<string> Nested);

    private static Record? Read(string folder)
    {
        string path = Path.Combine(folder, RecordName);
        if (!File.Exists(path) || new FileInfo(path).LinkTarget is not null) return null;
        try
        {
            if (JsonNode.Parse(File.ReadAllBytes(path)) is not JsonObject root || root["format"]?.GetValue<string>() != Format || root["entries"] is not JsonArray list)
                return null;
            var nested = root["nested"] is JsonArray n ? n.OfType<JsonValue>().Select(v => v.GetValue<string>()) : [];
            return new Record([.. list.OfType<JsonValue>().Select(v => v.GetValue<string>())], new HashSet<string>(nested, StringComparer.Ordinal));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or IOException) { return null; }
    }

    private static void Save(string folder, IReadOnlyList<string> entries, IReadOnlyList<string> nested)
    {
        var json = new JsonObject
        {
            ["format"] = Format,
            ["entries"] = new JsonArray([.. entries.Select(e => (JsonNode?)JsonValue.Create(e))]),
        };
        if (nested.Count > 0) json["nested"] = new JsonArray([.. nested.Select(e => (JsonNode?)JsonValue.Create(e))]);
        Data.AtomicFile.Write(Path.Combine(folder, RecordName), s => s.Write(System.Text.Encoding.UTF8.GetBytes(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n")));
    }

    /// <summary>Every entry under <paramref name="folder"/>, relative, sorted; links are entries, never followed.</summary>
    private static IEnumerable<string> Entries(string folder)
    {
        var result = new List<string>();
        void Walk(string dir, string prefix)
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(dir))
            {
                string name = prefix + Path.GetFileName(entry);
                var info = new FileInfo(entry);
                bool isDir = Directory.Exists(entry) && info.LinkTarget is null;
                result.Add(isDir ? name + "/" : name);
                if (isDir) Walk(entry, name + "/");
            }
        }
        Walk(folder, "");
        result.Sort(StringComparer.Ordinal);
        return result.Where(e => e != RecordName && e != TempFolders.MarkerName);
    }
}
