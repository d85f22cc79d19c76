using MLNetMerge.Data;
using System.Text;
using System.Text.Json;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;

namespace MLNetMerge.Cli.Reports;

/// <summary>
/// The entry point other commands call: <see cref="Write"/> renders <c>report.html</c> beside a <c>report.json</c>
/// (<c>evaluate</c>, <c>demo</c>, <c>report</c>, align runs), and helpers that put the diagnostics and the t-SNE figure
/// into a report entry before it is saved.
/// </summary>
internal static class HtmlReport
{
    /// <summary>Reads <paramref name="reportJsonPath"/> and writes its page beside it (<see cref="PagePath"/>; UTF-8, atomically).</summary>
    /// <returns>The path of the HTML file.</returns>
    /// <exception cref="FileNotFoundException">The JSON file does not exist.</exception>
    /// <exception cref="RecipeException">The file is missing, not JSON, or not a report of this schema and version.</exception>
    public static string Write(string reportJsonPath)
    {
        ArgumentNullException.ThrowIfNull(reportJsonPath);
        string full = Path.GetFullPath(reportJsonPath);
        // A folder that holds a report: its report.json (the folder a run wrote).
        if (Directory.Exists(full) && File.Exists(Path.Combine(full, "report.json"))) full = Path.Combine(full, "report.json");
        else if (Directory.Exists(full)) throw new RecipeException(full, "is a folder without a report.json; give the report.json written by evaluate, align, run or demo.");
        if (!File.Exists(full)) throw new RecipeException(full, "does not exist; expected a report.json written by evaluate, align, run or demo.");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(full)); }
        catch (JsonException e) { throw new RecipeException(full, "is not valid JSON: " + e.Message, e); }
        using var _ = doc;
        var entries = RunReport.Entries(doc, full);
        // Titled by what it reports (its families), not by where it lies: the same report.json renders the same page anywhere.
        var families = entries.Select(e => e.TryGetProperty("family", out var f) ? f.GetString() : null).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        string html = HtmlReportRenderer.Render(entries, families.Count == 0 ? "MLNetMerge report" : $"MLNetMerge report — {string.Join(", ", families)}");
        string target = PagePath(full);
        CheckOwn(target);
        AtomicFile.Write(target, s => s.Write(new UTF8Encoding(false).GetBytes(html))); // a temp of its own, never a fixed name a user's file may hold
        MLNetMerge.Checkpoints.OutputContents.NoteWritten(target);
        MLNetMerge.Checkpoints.TempFolders.NoteCommitted(target);
        return target;
    }

    /// <summary>The page of a report: the JSON file's name with <c>.html</c> (<c>report.json</c> → <c>report.html</c>; two
    /// reports in one folder under other names keep a page each).</summary>
    public static string PagePath(string reportJsonPath)
    {
        string full = Path.GetFullPath(reportJsonPath);
        // Only a .json ending is replaced: 'report.bak' gets 'report.bak.html', not report.json's page.
        return full.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? full[..^".json".Length] + ".html" : full + ".html";
    }

    /// <summary>Refuses to replace a <c>report.html</c> that MLNetMerge did not render (its page title says who did).</summary>
    /// <exception cref="UnsafeOverwriteException">The file exists and is not an MLNetMerge report page.</exception>
    public static void CheckOwn(string html)
    {
        if (Directory.Exists(html)) throw new UnsafeOverwriteException(html, "is a folder; the report page is written beside its JSON file, under the same name with .html.");
        if (!File.Exists(html)) return;
        using var reader = new StreamReader(html);
        var head = new char[4096];
        string start = new(head, 0, reader.ReadBlock(head, 0, head.Length));
        if (!start.Contains("<title>MLNetMerge report", StringComparison.Ordinal))
            throw new UnsafeOverwriteException(html, "exists and is not an MLNetMerge report page; it is replaced only when it is one: move it away or write the report elsewhere.");
    }

    /// <summary>The method row of a report entry built by <c>EvaluationReport.ToJson</c> (<c>entry[family][method]</c>).</summary>
    /// <exception cref="ArgumentException">The entry does not have that shape.</exception>
    public static Dictionary<string, object> MethodRow(Dictionary<string, object> entry, string method)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.TryGetValue("family", out var f) && f is string family && entry.TryGetValue(family, out var rows)
            && rows is Dictionary<string, object> map && map.TryGetValue(method, out var row) && row is Dictionary<string, object> r)
            return r;
        throw new ArgumentException($"the report entry has no row for method '{method}'.");
    }

    /// <summary>Diagnostics rows as the report stores them: <c>[{task, sign_conflict_share, l2_distance, cosine}]</c>.</summary>
    public static List<Dictionary<string, object>> DiagnosticsJson(IEnumerable<TaskDiagnostics> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return rows.Select(d => new Dictionary<string, object>
        {
            ["task"] = d.Task, ["sign_conflict_share"] = d.SignConflictShare, ["l2_distance"] = d.L2Distance, ["cosine"] = d.Cosine,
        }).ToList();
    }
}
