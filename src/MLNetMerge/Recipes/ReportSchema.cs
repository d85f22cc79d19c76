using System.Text.Json;

namespace MLNetMerge.Recipes;

/// <summary>
/// The types of a <c>report.json</c>'s fields (docs/report-schema.md), checked when a report is read back: a field may
/// be absent (reports of this version written before it existed lack it), but a field that is present has the
/// documented type, and a confusion matrix is square. A hand-edited file that breaks this fails with one line naming
/// the file, the field's path and what was expected, instead of a page drawn from half the data.
/// </summary>
internal static class ReportSchema
{
    /// <summary>Each metric's range: shares in [0, 1], spreads and losses from 0, Matthews' R_K in [−1, 1]; log-loss
    /// reduction has no lower bound.</summary>
    private static readonly (string Name, double Min, double Max)[] NumberMetrics =
    [
        ("Accuracy", 0, 1), ("AccuracyStd", 0, 1), ("MicroAccuracy", 0, 1), ("MacroAccuracy", 0, 1), ("LogLoss", 0, double.PositiveInfinity),
        ("LogLossReduction", double.NegativeInfinity, 1), ("TopKAccuracy", 0, 1), ("ExpectedCalibrationError", 0, 1),
        ("MatthewsCorrelation", -1, 1), ("F1Score", 0, 1),
    ];

    private static readonly string[] RowStrings = ["data", "stage"];
    private static readonly string[] RowNumbers = ["ece", "coefficient_sparsity"];
    private static readonly string[] DiagnosticsNumbers = ["sign_conflict_share", "l2_distance", "cosine"];
    private static readonly string[] IntegerMetrics = ["Runs", "TopKPredictionCount"];
    private static readonly string[] TsneStrings = ["task", "method"];
    private static readonly string[] TsneIntegers = ["iterations", "seed"];
    private static readonly string[] PanelSeries = ["x", "y", "labels"];

    /// <summary>Checks every entry of the <c>recipes</c> list.</summary>
    /// <exception cref="RecipeException">A field has another type than the schema's (named by its path).</exception>
    public static void Check(JsonElement recipes, string file)
    {
        var check = new Checker(file);
        int i = 0;
        foreach (var entry in recipes.EnumerateArray()) check.Entry(entry, $"recipes[{i++}]");
    }

    private sealed class Checker(string file)
    {
        public void Entry(JsonElement e, string at)
        {
            Kind(e, at, JsonValueKind.Object, "an object (one recipe's evaluation)");
            string family = Required(e, at, "family", JsonValueKind.String, "a string (the family's name)").GetString()!;
            Strings(Required(e, at, "tasks", JsonValueKind.Array, "a list of task names"), $"{at}.tasks");
            Strings(Required(e, at, "protocols", JsonValueKind.Array, "a list of protocol names"), $"{at}.protocols");
            Optional(e, at, "recipe", x => Kind(x.Value, x.At, JsonValueKind.String, "a string"));
            Optional(e, at, "rows", x => Strings(x.Value, x.At));
            Optional(e, at, "align", x => Align(x.Value, x.At));
            Optional(e, at, "transforms", x => Map(x.Value, x.At, t => NumberMap(t.Value, t.At)));
            var rows = Required(e, at, family, JsonValueKind.Object, $"an object of rows keyed by row name (the key is the entry's family, '{family}')");
            Map(rows, $"{at}.{family}", r => Row(r.Value, r.At));
        }

        private void Align(JsonElement a, string at)
        {
            Kind(a, at, JsonValueKind.Object, "an object (the align: section as run)");
            Optional(a, at, "data", d =>
            {
                Kind(d.Value, d.At, JsonValueKind.Object, "an object");
                Optional(d.Value, d.At, "zoo", z => { if (z.Value.ValueKind != JsonValueKind.Null) Kind(z.Value, z.At, JsonValueKind.String, "a string or null"); });
                Optional(d.Value, d.At, "split", s => Kind(s.Value, s.At, JsonValueKind.String, "a string"));
                Optional(d.Value, d.At, "samples", s => Integer(s.Value, s.At));
            });
            Optional(a, at, "seeds", s => Integer(s.Value, s.At));
            Optional(a, at, "stages", s => Each(s.Value, s.At, st =>
            {
                Kind(st.Value, st.At, JsonValueKind.Object, "an object { method, consumes }");
                Optional(st.Value, st.At, "method", m => Kind(m.Value, m.At, JsonValueKind.String, "a string"));
                Optional(st.Value, st.At, "consumes", m => Kind(m.Value, m.At, JsonValueKind.String, "a string"));
            }));
        }

        private void Row(JsonElement r, string at)
        {
            Kind(r, at, JsonValueKind.Object, "an object (one model's row)");
            Optional(r, at, "tasks", t => Map(t.Value, t.At, task => Map(task.Value, task.At, p => Metrics(p.Value, p.At))));
            Optional(r, at, "average", x => Map(x.Value, x.At, v => Number(v.Value, v.At, 0, 1)));
            Optional(r, at, "average_std", x => Map(x.Value, x.At, v => Number(v.Value, v.At, 0, 1)));
            Optional(r, at, "normalized", x => Map(x.Value, x.At, v => Number(v.Value, v.At, 0, double.PositiveInfinity)));
            Optional(r, at, "hyperparameters", x => NumberMap(x.Value, x.At));
            Optional(r, at, "sweep", s => Each(s.Value, s.At, p =>
            {
                Kind(p.Value, p.At, JsonValueKind.Object, "an object { parameters, validation_accuracy }");
                Optional(p.Value, p.At, "parameters", x => NumberMap(x.Value, x.At));
                Optional(p.Value, p.At, "validation_accuracy", x => Number(x.Value, x.At, 0, 1));
            }));
            foreach (string key in RowStrings)
                Optional(r, at, key, x => Kind(x.Value, x.At, JsonValueKind.String, "a string"));
            Optional(r, at, "parameters", x => Map(x.Value, x.At, v => Kind(v.Value, v.At, JsonValueKind.String, "a string")));
            Optional(r, at, "transductive", x =>
            {
                if (x.Value.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) Fail(x.At, "true or false", x.Value);
            });
            Optional(r, at, "seeds", x => Integer(x.Value, x.At));
            foreach (string key in RowNumbers)
                Optional(r, at, key, x => Number(x.Value, x.At, 0, 1));
            Optional(r, at, "diagnostics", d => Each(d.Value, d.At, row =>
            {
                Kind(row.Value, row.At, JsonValueKind.Object, "an object { task, sign_conflict_share, l2_distance, cosine }");
                Optional(row.Value, row.At, "task", x => Kind(x.Value, x.At, JsonValueKind.String, "a string"));
                foreach (string key in DiagnosticsNumbers)
                    Optional(row.Value, row.At, key, x => Number(x.Value, x.At));
            }));
            Optional(r, at, "tsne", t => Tsne(t.Value, t.At));
        }

        private void Metrics(JsonElement m, string at)
        {
            Kind(m, at, JsonValueKind.Object, "an object of metrics");
            foreach (var (key, min, max) in NumberMetrics) Optional(m, at, key, x => Number(x.Value, x.At, min, max));
            foreach (string key in IntegerMetrics) Optional(m, at, key, x => Integer(x.Value, x.At));
            int? classes = null;
            Optional(m, at, "ConfusionMatrix", c =>
            {
                Kind(c.Value, c.At, JsonValueKind.Array, "a list of rows [true class][predicted class]");
                int k = c.Value.GetArrayLength();
                Each(c.Value, c.At, row =>
                {
                    Kind(row.Value, row.At, JsonValueKind.Array, $"a row of {k} counts");
                    if (row.Value.GetArrayLength() != k)
                        throw new RecipeException(file, $"{row.At}: expected a row of {k} counts (the matrix is {k} × {k}), found {row.Value.GetArrayLength()}.");
                    Each(row.Value, row.At, v => Integer(v.Value, v.At));
                });
                classes = k;
            });
            Optional(m, at, "PerClassLogLoss", p =>
            {
                Each(p.Value, p.At, v => Number(v.Value, v.At));
                if (classes is { } k && p.Value.GetArrayLength() != k)
                    throw new RecipeException(file, $"{p.At}: expected {k} values (one per class of the confusion matrix), found {p.Value.GetArrayLength()}.");
            });
        }

        private void Tsne(JsonElement t, string at)
        {
            Kind(t, at, JsonValueKind.Object, "an object");
            foreach (string key in TsneStrings) Optional(t, at, key, x => Kind(x.Value, x.At, JsonValueKind.String, "a string"));
            Optional(t, at, "classes", x => Strings(x.Value, x.At));
            Optional(t, at, "perplexity", x => Number(x.Value, x.At));
            foreach (string key in TsneIntegers) Optional(t, at, key, x => Integer(x.Value, x.At));
            Optional(t, at, "kl_divergence", x => Each(x.Value, x.At, v => Number(v.Value, v.At)));
            Optional(t, at, "panels", p => Each(p.Value, p.At, panel =>
            {
                Kind(panel.Value, panel.At, JsonValueKind.Object, "an object { model, x, y, labels }");
                Optional(panel.Value, panel.At, "model", x => Kind(x.Value, x.At, JsonValueKind.String, "a string"));
                int? n = null;
                foreach (string key in PanelSeries)
                    Optional(panel.Value, panel.At, key, x =>
                    {
                        Each(x.Value, x.At, v => { if (key == "labels") Integer(v.Value, v.At); else Number(v.Value, v.At); });
                        int count = x.Value.GetArrayLength();
                        if (n is { } expected && count != expected)
                            throw new RecipeException(file, $"{x.At}: expected {expected} values (one per point, as x), found {count}.");
                        n = count;
                    });
            }));
        }

        private void NumberMap(JsonElement e, string at) => Map(e, at, v => Number(v.Value, v.At));

        private void Strings(JsonElement e, string at) => Each(e, at, v => Kind(v.Value, v.At, JsonValueKind.String, "a string"));

        private void Map(JsonElement e, string at, Action<(JsonElement Value, string At)> each)
        {
            Kind(e, at, JsonValueKind.Object, "an object");
            foreach (var p in e.EnumerateObject()) each((p.Value, $"{at}.{p.Name}"));
        }

        private void Each(JsonElement e, string at, Action<(JsonElement Value, string At)> each)
        {
            Kind(e, at, JsonValueKind.Array, "a list");
            int i = 0;
            foreach (var v in e.EnumerateArray()) each((v, $"{at}[{i++}]"));
        }

        private static void Optional(JsonElement o, string at, string key, Action<(JsonElement Value, string At)> check)
        {
            if (o.TryGetProperty(key, out var v)) check((v, $"{at}.{key}"));
        }

        private JsonElement Required(JsonElement o, string at, string key, JsonValueKind kind, string expected)
        {
            if (!o.TryGetProperty(key, out var v)) throw new RecipeException(file, $"{at}.{key}: missing; expected {expected}.");
            Kind(v, $"{at}.{key}", kind, expected);
            return v;
        }

        private void Number(JsonElement v, string at) => Kind(v, at, JsonValueKind.Number, "a number");

        private void Number(JsonElement v, string at, double min, double max)
        {
            Number(v, at);
            double x = v.GetDouble();
            if (x < min || x > max)
                throw new RecipeException(file, $"{at}: expected a number {(double.IsPositiveInfinity(max) ? $"from {min} up" : double.IsNegativeInfinity(min) ? $"up to {max}" : $"from {min} to {max}")}, found {v.GetRawText()}.");
        }

        private void Integer(JsonElement v, string at)
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out _)) Fail(at, "an integer", v);
        }

        private void Kind(JsonElement v, string at, JsonValueKind kind, string expected)
        {
            if (v.ValueKind != kind) Fail(at, expected, v);
        }

        private void Fail(string at, string expected, JsonElement found) =>
            throw new RecipeException(file, $"{at}: expected {expected}, found {Describe(found)}.");

        private static string Describe(JsonElement v) => v.ValueKind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "a list",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => $"the number {v.GetRawText()}",
            JsonValueKind.True or JsonValueKind.False => v.GetRawText(),
            JsonValueKind.Null => "null",
            _ => v.ValueKind.ToString(),
        };
    }
}
