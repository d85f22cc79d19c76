using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml;

namespace MLNetMerge.Cli.Reports;

/// <summary>
/// Renders a <c>report.json</c> (one entry, or the demo's list of entries; families grouped) as one self-contained
/// XHTML page: inline CSS, inline SVG charts drawn by this project, no scripts, fonts or links to anything outside.
/// The page is well-formed XML (written through <see cref="XmlWriter"/>, so every name from the report is escaped)
/// and valid HTML: non-void elements always get an end tag. Sections, each present only when the report holds its
/// data: results tables (the seeds' layout: tasks, Avg, normalised), per-task accuracy bars, normalised accuracy bars,
/// accuracy versus rank ratio and other validation sweeps, accuracy versus shots for few-shot protocols, aligned
/// transforms (align runs), weight diagnostics, confusion matrices, and t-SNE panels of merged versus fine-tuned embeddings.
/// </summary>
internal static class HtmlReportRenderer
{
    /// <summary>The XHTML namespace.</summary>
    public const string Xhtml = "http://www.w3.org/1999/xhtml";

    private const string Css =
        "body{font-family:DejaVu Sans,Liberation Sans,Arial,sans-serif;margin:24px;color:#222;max-width:1180px}" +
        "h1{font-size:22px}h2{font-size:19px;border-bottom:2px solid #4e79a7;padding-bottom:4px;margin-top:36px}" +
        "h3{font-size:16px;margin-top:26px}h4{font-size:14px;margin:14px 0 6px}" +
        "table{border-collapse:collapse;font-size:12px;margin:8px 0 16px;display:block;max-width:100%;overflow-x:auto}" +
        "th,td{border:1px solid #ddd;padding:3px 6px;text-align:right;white-space:nowrap}" +
        // Column heads (task names) wrap, so a long name does not push Avg and Norm out of view.
        "th{background:#f3f5f8;white-space:normal;max-width:10em;overflow-wrap:anywhere}" +
        "td.name,th.name{text-align:left}tr.bound td{color:#555;background:#fafafa}td.best{font-weight:bold;background:#eef6ee}" +
        ".grid{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}" +
        "p.note{color:#555;font-size:12px}nav a{margin-right:12px;font-size:13px}" +
        "details{margin:6px 0}summary{cursor:pointer;font-size:13px}svg.chart{display:block}";

    /// <summary>Renders the entries of a report (see <c>Recipes.RunReport</c>).</summary>
    /// <param name="entries">The report's recipe entries.</param>
    /// <param name="title">Page title.</param>
    public static string Render(IReadOnlyList<JsonElement> entries, string title = "MLNetMerge report")
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(title);
        var families = ReportData.Read(entries);
        var sb = new StringBuilder();
        var settings = new XmlWriterSettings { OmitXmlDeclaration = true, Indent = false, NewLineChars = "\n" };
        using (var w = XmlWriter.Create(sb, settings))
        {
            w.WriteDocType("html", null, null, null);
            w.WriteStartElement("html", Xhtml);
            w.WriteAttributeString("lang", "en");
            Start(w, "head");
            w.WriteStartElement("meta"); w.WriteAttributeString("charset", "utf-8"); w.WriteEndElement();
            El(w, "title", title);
            El(w, "style", Css);
            End(w);
            Start(w, "body");
            El(w, "h1", title);
            El(w, "p", families.Count == 0
                ? "The report holds no results."
                : $"{families.Count} famil{(families.Count == 1 ? "y" : "ies")}: " + string.Join("; ", families.Select(f =>
                    $"{f.Name} ({f.Tasks.Count} tasks, {f.Methods.Count} method{(f.Methods.Count == 1 ? "" : "s")}, protocols {string.Join(", ", f.Protocols)})")), "note");
            Start(w, "nav");
            for (int i = 0; i < families.Count; i++) Link(w, $"#f{i}", families[i].Name);
            End(w);
            for (int i = 0; i < families.Count; i++) Family(w, families[i], $"f{i}");
            El(w, "p", "Accuracies are test accuracies; hyperparameters were selected on the labeled validation split. " +
                "Normalised accuracy is the mean over tasks of merged / individual. Drawn by MLNetMerge (inline SVG, no scripts).", "note");
            End(w);
            w.WriteEndElement();
        }
        const string written = "<!DOCTYPE html >";                     // XmlWriter's spelling; browsers accept both
        return sb.ToString().StartsWith(written, StringComparison.Ordinal) ? "<!DOCTYPE html>" + sb.ToString(written.Length, sb.Length - written.Length) : sb.ToString();
    }

    private static void Family(XmlWriter w, ReportFamily f, string id)
    {
        Start(w, "section", id: id);
        El(w, "h2", $"Family: {f.Name}");
        var sections = new List<(string Id, string Title, Action Body)>
        {
            ($"{id}-results", "Results", () => Results(w, f)),
            ($"{id}-bars", "Accuracy per task", () => TaskBars(w, f)),
            ($"{id}-norm", "Normalised accuracy", () => NormalizedBars(w, f)),
        };
        if (f.Methods.Any(m => m.Sweep().Count > 0)) sections.Add(($"{id}-sweeps", "Accuracy versus rank ratio and other sweeps", () => HtmlReportFigures.Sweeps(w, f)));
        if (f.AllRows.Any(r => r.FewShot().Count > 0)) sections.Add(($"{id}-shots", "Accuracy versus shots", () => HtmlReportFigures.FewShot(w, f)));
        if (f.Transforms.Count > 0) sections.Add(($"{id}-transforms", "Aligned transforms", () => HtmlReportFigures.Transforms(w, f)));
        if (f.Methods.Any(m => m.Diagnostics().Count > 0)) sections.Add(($"{id}-diag", "Weight diagnostics", () => HtmlReportFigures.Diagnostics(w, f)));
        if (f.AllRows.Any(r => f.Tasks.Any(t => f.Protocols.Any(p => r.Confusion(t, p) is not null)))) sections.Add(($"{id}-confusion", "Confusion matrices", () => HtmlReportFigures.Confusions(w, f)));
        if (f.Methods.Any(m => m.Tsne is not null)) sections.Add(($"{id}-tsne", "t-SNE of merged versus fine-tuned embeddings", () => HtmlReportFigures.Tsnes(w, f)));
        Start(w, "nav");
        foreach (var (sid, title, _) in sections) Link(w, "#" + sid, title);
        End(w);
        foreach (var (sid, title, body) in sections)
        {
            Start(w, "section", id: sid);
            El(w, "h3", title);
            body();
            End(w);
        }
        End(w);
    }

    /// <summary>The seeds' table per protocol: rows base, individual, methods; columns tasks, Avg, Norm.</summary>
    private static void Results(XmlWriter w, ReportFamily f)
    {
        foreach (var protocol in f.Protocols)
        {
            El(w, "h4", $"{protocol} — test accuracy %");
            Start(w, "table");
            Start(w, "tr");
            El(w, "th", "model", "name");
            El(w, "th", "selected", "name");
            foreach (var t in f.Tasks) El(w, "th", t);
            El(w, "th", "Avg");
            El(w, "th", "Norm");
            End(w);
            var rows = f.AllRows.ToList();
            var best = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var t in f.Tasks) best[t] = f.Methods.Select(m => m.Accuracy(t, protocol) ?? double.NaN).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max();
            best["Avg"] = f.Methods.Select(m => m.Average(protocol) ?? double.NaN).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max();
            best["Norm"] = f.Methods.Select(m => m.Normalized(protocol) ?? double.NaN).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max();
            foreach (var r in rows)
            {
                bool bound = r == f.Base || r == f.Individual, rank = !bound && f.Methods.Count > 1; // best of several methods in bold
                Start(w, "tr", bound ? "bound" : null);
                El(w, "td", r.Transductive ? r.Name + " *" : r.Name, "name");
                El(w, "td", r.Hyperparameters.Count > 0 ? string.Join(", ", r.Hyperparameters.Select(kv => $"{kv.Key}={Num(kv.Value)}")) : "", "name");
                foreach (var t in f.Tasks)
                {
                    var acc = r.Accuracy(t, protocol);
                    var std = r.Std(t, protocol);
                    Cell(w, acc is null ? "–" : Pct(acc.Value) + (std is > 0 ? $" ± {Pct(std.Value)}" : ""), rank && acc == best[t]);
                }
                var avg = r.Average(protocol);
                var norm = r.Normalized(protocol);
                var avgStd = r.AverageStd(protocol);
                Cell(w, avg is null ? "–" : Pct(avg.Value) + (avgStd is > 0 ? $" ± {Pct(avgStd.Value)}" : ""), rank && avg == best["Avg"]);
                Cell(w, norm is null ? "–" : Pct(norm.Value), rank && norm == best["Norm"]);
                End(w);
            }
            End(w);
        }
        if (f.Methods.Any(m => m.Transductive)) El(w, "p", "* transductive: the method used unlabeled test inputs.", "note");
        var data = f.Methods.Where(m => m.Data is not null).Select(m => $"{m.Name}: {m.Data}").ToList();
        if (data.Count > 0) El(w, "p", "Data used — " + string.Join("; ", data) + ".", "note");
    }

    private static void TaskBars(XmlWriter w, ReportFamily f)
    {
        var categories = f.Tasks.Append("Avg").ToList();
        foreach (var protocol in f.Protocols)
        {
            var series = f.AllRows.Where(r => f.Tasks.Any(t => r.Accuracy(t, protocol) is not null)).Select(r => new ChartSeries(r.Name,
                f.Tasks.Select(t => r.Accuracy(t, protocol) * 100).Append(r.Average(protocol) * 100).ToList(),
                f.Tasks.Select(t => r.Std(t, protocol) * 100).Append(r.AverageStd(protocol) * 100).ToList())).ToList();
            new BarChart
            {
                Title = $"{f.Name} — {protocol}: test accuracy per task (%)", Categories = categories, Series = series,
                YLabel = "accuracy %", YMax = 100, Format = v => v.ToString("0.#", CultureInfo.InvariantCulture),
            }.Write(w);
        }
    }

    private static void NormalizedBars(XmlWriter w, ReportFamily f)
    {
        var rows = f.AllRows.ToList();
        var series = f.Protocols.Select(p => new ChartSeries(p, rows.Select(r => r.Normalized(p) * 100).ToList())).ToList();
        new BarChart
        {
            Title = $"{f.Name} — normalised accuracy (% of the individual models), per protocol", Categories = rows.Select(r => r.Name).ToList(),
            Series = series, YLabel = "normalised %", ReferenceLine = 100, Format = v => v.ToString("0.#", CultureInfo.InvariantCulture),
        }.Write(w);
        El(w, "p", "Dashed line: the individual fine-tuned models (100 %).", "note");
    }

    /// <summary>A value as a percentage with one decimal.</summary>
    internal static string Pct(double v) => (100 * v).ToString("F1", CultureInfo.InvariantCulture);

    /// <summary>A parameter value, shortest form.</summary>
    internal static string Num(double v) => v.ToString("G4", CultureInfo.InvariantCulture);

    /// <summary>Opens an XHTML element with optional class and id.</summary>
    internal static void Start(XmlWriter w, string name, string? cls = null, string? id = null)
    {
        w.WriteStartElement(name, Xhtml);
        if (cls is not null) w.WriteAttributeString("class", cls);
        if (id is not null) w.WriteAttributeString("id", id);
    }

    /// <summary>Closes an XHTML element with an explicit end tag (HTML parsers do not accept <c>&lt;td/&gt;</c>).</summary>
    internal static void End(XmlWriter w) => w.WriteFullEndElement();

    /// <summary>An element holding escaped text.</summary>
    internal static void El(XmlWriter w, string name, string text, string? cls = null)
    {
        Start(w, name, cls);
        w.WriteString(text);
        End(w);
    }

    private static void Cell(XmlWriter w, string text, bool best) => El(w, "td", text, best ? "best" : null);

    private static void Link(XmlWriter w, string href, string text)
    {
        Start(w, "a");
        w.WriteAttributeString("href", href);
        w.WriteString(text);
        End(w);
    }
}
