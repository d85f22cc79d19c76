using System.Globalization;
using System.Text.Json;
using System.Xml;
using static MLNetMerge.Cli.Reports.HtmlReportRenderer;

namespace MLNetMerge.Cli.Reports;

/// <summary>The figure sections of <see cref="HtmlReportRenderer"/>: sweeps, shots, diagnostics, confusion matrices, t-SNE.</summary>
internal static class HtmlReportFigures
{
    private static string Fmt(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>
    /// Validation accuracy over each method's sweep: x is <c>rank_ratio</c> when swept (CART's accuracy-versus-rank
    /// curve), else the parameter with the most distinct values; one line per combination of the other parameters.
    /// The selected point's test accuracy (first protocol) is drawn as its own marker.
    /// </summary>
    public static void Sweeps(XmlWriter w, ReportFamily f)
    {
        var swept = f.Methods.Where(m => m.Sweep().Count > 0).ToList();
        var rank = swept.Where(m => m.Sweep().Any(p => p.Parameters.ContainsKey("rank_ratio"))).ToList();
        if (rank.Count > 0)
        {
            El(w, "h4", "Accuracy versus rank ratio (CART: the curve the paper expects to be a bell)");
            Start(w, "div", "grid");
            foreach (var m in rank) SweepChart(w, f, m, "rank_ratio", 560);
            End(w);
        }
        var others = swept.Except(rank).ToList();
        if (others.Count == 0) return;
        El(w, "h4", "Other validation sweeps");
        Start(w, "div", "grid");
        foreach (var m in others)
        {
            var sweep = m.Sweep();
            string x = sweep.SelectMany(p => p.Parameters.Keys).Distinct().OrderByDescending(k => sweep.Select(p => p.Parameters.GetValueOrDefault(k)).Distinct().Count()).First();
            SweepChart(w, f, m, x, 370);
        }
        End(w);
    }

    private static void SweepChart(XmlWriter w, ReportFamily f, ReportRow m, string xName, double width)
    {
        var sweep = m.Sweep().Where(p => p.Parameters.ContainsKey(xName)).ToList();
        var series = sweep.GroupBy(p => string.Join(", ", p.Parameters.Where(kv => kv.Key != xName).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={Num(kv.Value)}")))
            .Select(g => new LineSeries(g.Key.Length > 0 ? $"validation, {g.Key}" : "validation", g.Select(p => new LinePoint(p.Parameters[xName], 100 * p.Validation)).ToList()))
            .ToList();
        string? protocol = f.Protocols.FirstOrDefault();
        if (protocol is not null && m.Hyperparameters.TryGetValue(xName, out double chosen) && m.Average(protocol) is { } test)
            series.Add(new LineSeries($"test ({protocol}), selected", [new LinePoint(chosen, 100 * test)]));
        new LineChart
        {
            Title = $"{m.Name}: accuracy versus {xName}", Series = series, XLabel = xName, YLabel = "mean accuracy %", Width = width,
            FormatY = v => v.ToString("0.#", CultureInfo.InvariantCulture), FormatX = Fmt,
        }.Write(w);
    }

    /// <summary>Mean accuracy over tasks versus shots k, one chart per few-shot protocol, one line per row (± the std over
    /// draws of that mean, <c>average_std</c>; older reports: the mean of the tasks' stds).</summary>
    public static void FewShot(XmlWriter w, ReportFamily f)
    {
        var byProtocol = f.AllRows.SelectMany(r => r.FewShot().Select(p => (Row: r.Name, Point: p))).GroupBy(x => x.Point.Protocol).ToList();
        Start(w, "div", "grid");
        foreach (var g in byProtocol)
        {
            var series = g.GroupBy(x => x.Row).Select(rg => new LineSeries(rg.Key,
                rg.Select(x => new LinePoint(x.Point.Shots, 100 * x.Point.Accuracy, 100 * x.Point.Std)).ToList(), rg.Key is "base" or "individual")).ToList();
            new LineChart
            {
                Title = $"{f.Name} — {g.Key}: mean accuracy versus shots per class", Series = series, XLabel = "shots per class k",
                YLabel = "mean accuracy %", Width = 560, FormatY = v => v.ToString("0.#", CultureInfo.InvariantCulture), FormatX = Fmt,
            }.Write(w);
        }
        End(w);
        var single = byProtocol.Where(g => g.Select(x => x.Point.Shots).Distinct().Count() == 1).Select(g => $"{g.Key} (k = {g.First().Point.Shots})").ToList();
        if (byProtocol.Count > 0)
            El(w, "p", "± : the standard deviation over the protocol's seeded draws of the task-averaged accuracy (each task's own spread is in the tables).", "note");
        if (single.Count > 0) El(w, "p", $"Only one shot count was evaluated for {string.Join(", ", single)}; more shot counts draw a curve.", "note");
    }

    /// <summary>Accuracy after each aligned transform (the seeds' Figure 4): bars of the task average, then per task.</summary>
    public static void Transforms(XmlWriter w, ReportFamily f)
    {
        var names = f.Transforms.Select(t => t.Transform).ToList();
        var keys = new[] { "average" }.Concat(f.Tasks).Where(k => f.Transforms.Any(t => t.Accuracy.ContainsKey(k))).ToList();
        new BarChart
        {
            Title = $"{f.Name} — test accuracy after each aligned transform (%)", Categories = names,
            Series = keys.Select(k => new ChartSeries(k, f.Transforms.Select(t => t.Accuracy.TryGetValue(k, out double v) ? (double?)(100 * v) : null).ToList())).ToList(),
            YLabel = "accuracy %", YMax = 100, Format = v => v.ToString("0.#", CultureInfo.InvariantCulture),
        }.Write(w);
    }

    /// <summary>The diagnostics of <c>mlnetmerge diagnose</c> (EMR Fig. 5): a mean table and per-task bars of each measure.</summary>
    public static void Diagnostics(XmlWriter w, ReportFamily f)
    {
        var methods = f.Methods.Where(m => m.Diagnostics().Count > 0).ToList();
        Start(w, "table");
        Start(w, "tr");
        El(w, "th", "method", "name");
        El(w, "th", "sign conflicts (mean)");
        El(w, "th", "L2 to fine-tuned (mean)");
        El(w, "th", "cosine(τ̂, τ) (mean)");
        End(w);
        foreach (var m in methods)
        {
            var d = m.Diagnostics();
            Start(w, "tr");
            El(w, "td", m.Name, "name");
            El(w, "td", (100 * d.Average(x => x.SignConflictShare)).ToString("F1", CultureInfo.InvariantCulture) + " %");
            El(w, "td", d.Average(x => x.L2Distance).ToString("F3", CultureInfo.InvariantCulture));
            El(w, "td", d.Average(x => x.Cosine).ToString("F3", CultureInfo.InvariantCulture));
            End(w);
        }
        End(w);
        var measures = new (string Title, Func<DiagnosticsRow, double> Value, string Label)[]
        {
            ("sign-conflict share of θ̂t − θ0 against τt (%)", d => 100 * d.SignConflictShare, "conflicts %"),
            ("L2 distance ‖θ̂t − θt‖₂ to the fine-tuned weights", d => d.L2Distance, "L2"),
            ("cosine similarity of θ̂t − θ0 and τt", d => d.Cosine, "cosine"),
        };
        foreach (var (title, value, label) in measures)
            new BarChart
            {
                Title = $"{f.Name} — {title}", Categories = f.Tasks,
                Series = methods.Select(m => new ChartSeries(m.Name, f.Tasks.Select(t => m.Diagnostics().Where(d => d.Task == t).Select(d => (double?)value(d)).FirstOrDefault()).ToList())).ToList(),
                YLabel = label, PlotHeight = 200, Format = v => v.ToString("0.##", CultureInfo.InvariantCulture),
            }.Write(w);
        El(w, "p", "θ̂t: the weights task t is served with (the merged ones, or its own for per-task methods); θ0: the base; τt = θt − θ0.", "note");
    }

    /// <summary>Confusion matrices of every row under one protocol (<c>current</c> when present), one collapsible block per task.</summary>
    public static void Confusions(XmlWriter w, ReportFamily f)
    {
        string protocol = f.Protocols.Contains("current") ? "current" : f.Protocols.First(p => f.AllRows.Any(r => f.Tasks.Any(t => r.Confusion(t, p) is not null)));
        bool drawn = f.AllRows.Any(r => f.Tasks.Any(t => r.Metrics(t, protocol) is { } m && ReportRow.Number(m, "Runs") is > 1));
        El(w, "p", $"Protocol {protocol}; rows are true classes, columns predicted; shade = share of the row."
            + (drawn ? " The protocol draws several times: each matrix is its first draw's, while a panel's title gives the mean accuracy over draws." : "")
            + " The first task is open; click a task to open it.", "note");
        for (int i = 0; i < f.Tasks.Count; i++)
        {
            string task = f.Tasks[i];
            Start(w, "details");
            if (i == 0) w.WriteAttributeString("open", "open");
            El(w, "summary", task);
            Start(w, "div", "grid");
            foreach (var r in f.AllRows)
                if (r.Confusion(task, protocol) is { } cm)
                    new Heatmap { Title = $"{r.Name} ({(r.Accuracy(task, protocol) is { } a ? Pct(a) + " %" : "–")})", Counts = cm, Cell = cm.Count <= 10 ? 14 : 8 }.Write(w);
            End(w);
            End(w);
        }
    }

    /// <summary>The saved t-SNE panels (<c>tsne</c>: task, method, classes, perplexity, panels of x, y, labels).</summary>
    public static void Tsnes(XmlWriter w, ReportFamily f)
    {
        foreach (var m in f.Methods)
        {
            if (m.Tsne is not { } t) continue;
            string task = Str(t, "task") ?? "?";
            var classes = ReportRow.Get(t, "classes") is { ValueKind: JsonValueKind.Array } c
                ? c.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString()! : v.ToString()).ToList() : [];
            El(w, "h4", $"task {task}: {m.Name} (merged) versus the fine-tuned model");
            Start(w, "div", "grid");
            if (ReportRow.Get(t, "panels") is { ValueKind: JsonValueKind.Array } panels)
                foreach (var p in panels.EnumerateArray())
                {
                    var xs = Numbers(p, "x"); var ys = Numbers(p, "y");
                    var labels = Numbers(p, "labels").Select(v => (int)v).ToList();
                    if (xs.Count != ys.Count || xs.Count != labels.Count || xs.Count == 0) continue;
                    new ScatterPlot { Title = $"{Str(p, "model") ?? "model"} — {task} ({xs.Count} test points)", X = xs, Y = ys, Labels = labels, ClassNames = classes, Size = 400 }.Write(w);
                }
            End(w);
            El(w, "p", $"Exact t-SNE of the encoder embeddings f(x) of the test split, computed separately per model " +
                $"(perplexity {Fmt(ReportRow.Number(t, "perplexity") ?? double.NaN)}, {Fmt(ReportRow.Number(t, "iterations") ?? double.NaN)} iterations, " +
                $"seed {Fmt(ReportRow.Number(t, "seed") ?? double.NaN)}, final KL {string.Join(" / ", Numbers(t, "kl_divergence").Select(v => v.ToString("F3", CultureInfo.InvariantCulture)))}); colour = true class.", "note");
        }
    }

    private static string? Str(JsonElement e, string key) => ReportRow.Get(e, key) is { ValueKind: JsonValueKind.String } s ? s.GetString() : null;

    private static List<double> Numbers(JsonElement e, string key) =>
        ReportRow.Get(e, key) is { ValueKind: JsonValueKind.Array } a
            ? a.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.Number).Select(v => v.GetDouble()).ToList() : [];
}
