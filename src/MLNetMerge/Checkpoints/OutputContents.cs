using System.Text.Json;
using System.Text.Json.Nodes;

namespace MLNetMerge.Checkpoints;

/// <summary>
/// The record of what an output folder held when MLNetMerge committed it, <c>.mlnetmerge-contents.json</c> (format
/// <c>mlnetmerge.contents</c>: every file and folder, relative, <c>/</c>-separated, folders ending in <c>/</c>). An
/// overwrite replaces the folder only when everything in it is either recorded there or written into it later by
/// MLNetMerge itself (a run's <c>report.json</c> and <c>report.html</c>, files named <c>.mlnetmerge-…</c>, an output
/// committed inside it with a record of its own, such as a run's export folder): a file a user added is never deleted
/// with it. Folders written before the record existed carry none and are not checked.
/// </summary>
internal static class OutputContents
{
    /// <summary>The record's file name.</summary>
    public const string RecordName = ".mlnetmerge-contents.json";

    private const string Format = "mlnetmerge.contents";

    /// <summary>Names MLNetMerge writes into a committed output folder after the record (a run's reports).</summary>
    private static readonly HashSet<string> WrittenLater = new(StringComparer.Ordinal) { "report.json", "report.html" };

    /// <summary>Writes the record of <paramref name="folder"/>'s entries into it (called just before the folder is committed).</summary>
    public static void Write(string folder)
    {
        var entries = new JsonArray([.. Entries(folder).Select(e => (JsonNode?)JsonValue.Create(e))]);
        var json = new JsonObject { ["format"] = Format, ["entries"] = entries };
        File.WriteAllText(Path.Combine(folder, RecordName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>The entries of <paramref name="folder"/> that no run wrote: neither in its record nor written there later by
    /// MLNetMerge. Empty when the folder has no (readable) record.</summary>
    public static IReadOnlyList<string> Extras(string folder)
    {
        string record = Path.Combine(folder, RecordName);
        if (!File.Exists(record) || new FileInfo(record).LinkTarget is not null) return [];
        HashSet<string> recorded;
        try
        {
            if (JsonNode.Parse(File.ReadAllBytes(record)) is not JsonObject root || root["format"]?.GetValue<string>() != Format || root["entries"] is not JsonArray list)
                return [];
            recorded = new HashSet<string>(list.OfType<JsonValue>().Select(v => v.GetValue<string>()), StringComparer.Ordinal);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or IOException) { return []; }
        var extras = new List<string>();
        string? nested = null;
        foreach (var e in Entries(folder))
        {
            if (nested is not null && e.StartsWith(nested, StringComparison.Ordinal)) continue;
            if (recorded.Contains(e) || WrittenLater.Contains(e) || Path.GetFileName(e.TrimEnd('/')).StartsWith(".mlnetmerge-", StringComparison.Ordinal)) continue;
            if (e.EndsWith('/') && File.Exists(Path.Combine(folder, e, RecordName)))
            {
                // An output committed inside this one later (a run's export folder): its own record says what is its.
                nested = e;
                extras.AddRange(Extras(Path.Combine(folder, e)).Select(x => e + x));
                continue;
            }
            extras.Add(e);
        }
        return extras;
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
        return result.Where(e => e != RecordName);
    }
}
