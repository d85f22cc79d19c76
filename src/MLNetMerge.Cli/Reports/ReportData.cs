using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MLNetMerge.Cli.Reports;

/// <summary>One family of a report (e.g. <c>vision</c>, <c>text</c>): its tasks, protocols and rows. Several
/// <c>report.json</c> entries of the same family (the demo writes one per recipe) are folded into one.</summary>
internal sealed class ReportFamily(string name)
{
    public string Name { get; } = name;
    public List<string> Tasks { get; } = [];
    public List<string> Protocols { get; } = [];
    public List<ReportRow> Methods { get; } = [];
    public ReportRow? Individual { get; set; }
    public ReportRow? Base { get; set; }

    /// <summary>Aligned-transform accuracies of an align run (<c>transforms</c>: transform/solver → task or average → accuracy).</summary>
    public List<(string Transform, Dictionary<string, double> Accuracy)> Transforms { get; } = [];

    /// <summary>Base, individual, then the methods (the seeds' table order).</summary>
    public IEnumerable<ReportRow> AllRows => new[] { Base, Individual }.OfType<ReportRow>().Concat(Methods);
}

/// <summary>A few-shot result: protocol family (<c>knn</c>, <c>ftc</c>, …), shots k, mean accuracy and its std.</summary>
internal readonly record struct FewShotPoint(string Protocol, int Shots, double Accuracy, double Std);

/// <summary>One per-task diagnostics row of <c>mlnetmerge diagnose</c>.</summary>
internal readonly record struct DiagnosticsRow(string Task, double SignConflictShare, double L2Distance, double Cosine);

/// <summary>One row of a report (a method, <c>individual</c> or <c>base</c>), read tolerantly: missing keys read as null/empty.</summary>
internal sealed class ReportRow(string name, JsonElement json, ReportFamily family)
{
    private static readonly Regex ShotsName = new(@"^(?<name>[A-Za-z][A-Za-z_\-]*?)[_\-]?k?(?<k>\d+)$", RegexOptions.CultureInvariant);

    /// <summary>The row's label: the method's key in report.json, or "recipe (method)" where recipes of one family ran the same method.</summary>
    public string Name { get; internal set; } = name;

    /// <summary>The method's key in report.json.</summary>
    public string Method { get; } = name;

    /// <summary>The file name (without extension) of the recipe whose entry holds the row, when the entry says.</summary>
    public string? Recipe { get; init; }

    public JsonElement Json { get; } = json;

    public JsonElement? Metrics(string task, string protocol) =>
        Get(Json, "tasks") is { } t && Get(t, task) is { } tt && Get(tt, protocol) is { } m && m.ValueKind == JsonValueKind.Object ? m : null;

    public double? Accuracy(string task, string protocol) => Metrics(task, protocol) is { } m ? Number(m, "Accuracy") ?? Number(m, "MicroAccuracy") : null;

    public double? Std(string task, string protocol) => Metrics(task, protocol) is { } m ? Number(m, "AccuracyStd") : null;

    /// <summary>The saved <c>average_std</c>: the std over draws of the task-averaged accuracy (several-draw protocols,
    /// alignment rows over seeds), or null.</summary>
    public double? AverageStd(string protocol) => Get(Json, "average_std") is { } a ? Number(a, protocol) : null;

    /// <summary>The saved <c>average</c>, else the mean over the tasks that have a value.</summary>
    public double? Average(string protocol)
    {
        if (Get(Json, "average") is { } a && Number(a, protocol) is { } v) return v;
        var values = family.Tasks.Select(t => Accuracy(t, protocol)).Where(x => x.HasValue).Select(x => x!.Value).ToList();
        return values.Count > 0 ? values.Average() : null;
    }

    /// <summary>The saved <c>normalized</c>, else the mean over tasks of this row's accuracy over the individual's under
    /// the same protocol, or under <c>current</c> when the individual models have none (alignment rows' <c>aligned</c>).</summary>
    public double? Normalized(string protocol)
    {
        if (Get(Json, "normalized") is { } a && Number(a, protocol) is { } v) return v;
        if (family.Individual is null) return null;
        string reference = family.Tasks.Any(t => family.Individual.Accuracy(t, protocol) is not null) ? protocol : "current";
        var ratios = family.Tasks.Select(t => (Accuracy(t, protocol), family.Individual.Accuracy(t, reference)))
            .Where(p => p.Item1.HasValue && p.Item2 is > 0).Select(p => p.Item1!.Value / p.Item2!.Value).ToList();
        return ratios.Count > 0 ? ratios.Average() : null;
    }

    /// <summary>The confusion matrix [true][predicted] of a task and protocol, or null.</summary>
    public List<IReadOnlyList<double>>? Confusion(string task, string protocol)
    {
        if (Metrics(task, protocol) is not { } m || Get(m, "ConfusionMatrix") is not { ValueKind: JsonValueKind.Array } cm) return null;
        var rows = new List<IReadOnlyList<double>>();
        foreach (var r in cm.EnumerateArray())
        {
            if (r.ValueKind != JsonValueKind.Array) return null;
            rows.Add(r.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0).ToList());
        }
        return rows.Count > 0 ? rows : null;
    }

    public IReadOnlyDictionary<string, double> Hyperparameters => NumberMap(Get(Json, "hyperparameters"));

    public string? Data => Get(Json, "data") is { ValueKind: JsonValueKind.String } d ? d.GetString() : null;

    /// <summary>Whether the row's method used unlabeled test inputs (<c>"transductive": true</c>).</summary>
    public bool Transductive => Get(Json, "transductive") is { ValueKind: JsonValueKind.True };

    /// <summary>Sweep points: parameters and validation accuracy.</summary>
    public List<(IReadOnlyDictionary<string, double> Parameters, double Validation)> Sweep()
    {
        var points = new List<(IReadOnlyDictionary<string, double>, double)>();
        if (Get(Json, "sweep") is not { ValueKind: JsonValueKind.Array } s) return points;
        foreach (var p in s.EnumerateArray())
            if (Number(p, "validation_accuracy") is { } v) points.Add((NumberMap(Get(p, "parameters")), v));
        return points;
    }

    /// <summary>The weight diagnostics rows (<c>diagnostics</c>: a list of objects with task and the three measures).</summary>
    public List<DiagnosticsRow> Diagnostics()
    {
        var rows = new List<DiagnosticsRow>();
        if (Get(Json, "diagnostics") is not { ValueKind: JsonValueKind.Array } d) return rows;
        foreach (var r in d.EnumerateArray())
            if (Get(r, "task") is { ValueKind: JsonValueKind.String } t)
                rows.Add(new DiagnosticsRow(t.GetString()!, Number(r, "sign_conflict_share") ?? double.NaN, Number(r, "l2_distance") ?? double.NaN, Number(r, "cosine") ?? double.NaN));
        return rows;
    }

    public JsonElement? Tsne => Get(Json, "tsne") is { ValueKind: JsonValueKind.Object } t ? t : null;

    /// <summary>
    /// Few-shot results: every protocol whose name ends in a shot count (<c>knn5</c>, <c>ftc10</c>, <c>ft_classifier_k20</c>)
    /// averaged over tasks.
    /// </summary>
    public List<FewShotPoint> FewShot()
    {
        var points = new List<FewShotPoint>();
        foreach (var protocol in family.Protocols.Concat(ProtocolsOfRow()).Distinct(StringComparer.Ordinal))
        {
            var m = ShotsName.Match(protocol);
            if (!m.Success || Average(protocol) is not { } avg) continue;
            // The spread of the plotted average over draws; reports written before it was saved give the mean of the
            // tasks' own stds instead (wider: the tasks' draws partly cancel in the average).
            var stds = family.Tasks.Select(t => Std(t, protocol)).Where(s => s.HasValue).Select(s => s!.Value).ToList();
            double std = AverageStd(protocol) ?? (stds.Count > 0 ? stds.Average() : 0);
            points.Add(new FewShotPoint(m.Groups["name"].Value, int.Parse(m.Groups["k"].Value, CultureInfo.InvariantCulture), avg, std));
        }
        return points;
    }

    private IEnumerable<string> ProtocolsOfRow()
    {
        if (Get(Json, "average") is { ValueKind: JsonValueKind.Object } a)
            foreach (var p in a.EnumerateObject()) yield return p.Name;
    }

    internal static JsonElement? Get(JsonElement e, string key) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    internal static double? Number(JsonElement e, string key) =>
        Get(e, key) is { ValueKind: JsonValueKind.Number } v && v.TryGetDouble(out double d) ? d : null;

    private static Dictionary<string, double> NumberMap(JsonElement? e)
    {
        var map = new Dictionary<string, double>(StringComparer.Ordinal);
        if (e is { ValueKind: JsonValueKind.Object } o)
            foreach (var p in o.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.Number) map[p.Name] = p.Value.GetDouble();
        return map;
    }
}

/// <summary>Reads the entries of <c>report.json</c> (one per recipe) into families.</summary>
internal static class ReportData
{
    /// <summary>Known non-method keys inside a family object.</summary>
    private static readonly HashSet<string> Bounds = new(StringComparer.Ordinal) { "individual", "base" };

    public static List<ReportFamily> Read(IEnumerable<JsonElement> entries)
    {
        var families = new List<ReportFamily>();
        foreach (var entry in entries)
        {
            if (entry.ValueKind != JsonValueKind.Object) continue;
            string name = ReportRow.Get(entry, "family") is { ValueKind: JsonValueKind.String } f ? f.GetString()! : "results";
            var family = families.FirstOrDefault(x => x.Name == name);
            if (family is null) { family = new ReportFamily(name); families.Add(family); }
            AddStrings(family.Tasks, ReportRow.Get(entry, "tasks"));
            AddStrings(family.Protocols, ReportRow.Get(entry, "protocols"));
            if (ReportRow.Get(entry, "transforms") is { ValueKind: JsonValueKind.Object } transforms)
                foreach (var t in transforms.EnumerateObject())
                    if (t.Value.ValueKind == JsonValueKind.Object && family.Transforms.All(x => x.Transform != t.Name))
                        family.Transforms.Add((t.Name, t.Value.EnumerateObject().Where(v => v.Value.ValueKind == JsonValueKind.Number)
                            .ToDictionary(v => v.Name, v => v.Value.GetDouble(), StringComparer.Ordinal)));
            if (ReportRow.Get(entry, name) is not { ValueKind: JsonValueKind.Object } rows) continue;
            string? recipe = ReportRow.Get(entry, "recipe") is { ValueKind: JsonValueKind.String } rn ? rn.GetString() : null;
            foreach (var row in rows.EnumerateObject())
            {
                if (row.Value.ValueKind != JsonValueKind.Object) continue;
                var r = new ReportRow(row.Name, row.Value, family) { Recipe = recipe };
                if (row.Name == "individual") family.Individual ??= r;
                else if (row.Name == "base") family.Base ??= r;
                else if (!Bounds.Contains(row.Name)) family.Methods.Add(r);
                if (ReportRow.Get(row.Value, "tasks") is { ValueKind: JsonValueKind.Object } tasks)
                    foreach (var t in tasks.EnumerateObject())
                    {
                        if (!family.Tasks.Contains(t.Name)) family.Tasks.Add(t.Name);
                        if (t.Value.ValueKind == JsonValueKind.Object)
                            foreach (var p in t.Value.EnumerateObject())
                                if (!family.Protocols.Contains(p.Name)) family.Protocols.Add(p.Name);
                    }
            }
        }
        // A method that several recipes of a family ran (lines.yaml, lines_ties.yaml) is told apart by the recipe's name
        // wherever that differs from the method's.
        foreach (var family in families)
            foreach (var group in family.Methods.GroupBy(m => m.Name).Where(g => g.Count() > 1).ToList())
                foreach (var row in group.Where(r => r.Recipe is not null && r.Recipe != r.Method))
                    row.Name = $"{row.Recipe} ({row.Method})";
        return families;
    }

    private static void AddStrings(List<string> into, JsonElement? list)
    {
        if (list is not { ValueKind: JsonValueKind.Array } a) return;
        foreach (var v in a.EnumerateArray())
            if (v.ValueKind == JsonValueKind.String && !into.Contains(v.GetString()!)) into.Add(v.GetString()!);
    }
}
