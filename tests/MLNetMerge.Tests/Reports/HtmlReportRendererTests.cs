using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using MLNetMerge.Cli.Reports;

namespace MLNetMerge.Tests.Reports;

/// <summary>report.html: well-formed XHTML with the sections its data calls for, escaped names, no outside resources.</summary>
[TestClass]
public sealed class HtmlReportRendererTests
{
    private static readonly XNamespace X = HtmlReportRenderer.Xhtml;
    private static readonly XNamespace S = SvgCanvas.Namespace;

    private static Dictionary<string, object> Metrics(double acc, double std = 0) => new()
    {
        ["Accuracy"] = acc, ["AccuracyStd"] = std, ["ConfusionMatrix"] = new[] { new[] { 3, 1 }, new[] { 0, 4 } },
    };

    /// <summary>A report entry: tasks t1 and "a&amp;b", protocols current/knn1/knn5; accuracies chosen per row.</summary>
    private static Dictionary<string, object> Entry(string family, string method, bool full)
    {
        Dictionary<string, object> Row(double t1, double t2, bool withAverage) => new()
        {
            ["tasks"] = new Dictionary<string, object>
            {
                ["t1"] = new Dictionary<string, object> { ["current"] = Metrics(t1), ["knn1"] = Metrics(t1 - 0.1, 0.02), ["knn5"] = Metrics(t1, 0.01) },
                ["a&b"] = new Dictionary<string, object> { ["current"] = Metrics(t2), ["knn1"] = Metrics(t2 - 0.1, 0.02), ["knn5"] = Metrics(t2, 0.01) },
            },
            ["average"] = withAverage ? new Dictionary<string, object> { ["current"] = (t1 + t2) / 2 } : new Dictionary<string, object>(),
        };
        var merged = Row(0.6, 0.5, full);
        if (full)
        {
            merged["hyperparameters"] = new Dictionary<string, object> { ["rank_ratio"] = 0.3, ["scale"] = 1.0 };
            merged["sweep"] = new[] { 0.1, 0.3, 0.6 }.Select(r => new Dictionary<string, object>
            {
                ["parameters"] = new Dictionary<string, object> { ["rank_ratio"] = r, ["scale"] = 1.0 }, ["validation_accuracy"] = 0.5 + r / 10,
            }).ToList();
            merged["diagnostics"] = new[] { "t1", "a&b" }.Select((t, i) => new Dictionary<string, object>
            {
                ["task"] = t, ["sign_conflict_share"] = 0.1 * (i + 1), ["l2_distance"] = 2.0, ["cosine"] = 0.5,
            }).ToList();
            merged["tsne"] = new Dictionary<string, object>
            {
                ["task"] = "t1", ["method"] = method, ["classes"] = new[] { "<cat>", "dog" }, ["perplexity"] = 30, ["iterations"] = 1000, ["seed"] = 0,
                ["kl_divergence"] = new[] { 0.5, 0.4 },
                ["panels"] = new[] { "merged", "fine-tuned" }.Select(m => new Dictionary<string, object>
                {
                    ["model"] = m, ["x"] = new[] { 0.0, 1, 2, 3 }, ["y"] = new[] { 0.0, 1, 0, 1 }, ["labels"] = new[] { 0, 0, 1, 1 },
                }).ToList(),
            };
        }
        return new Dictionary<string, object>
        {
            ["family"] = family,
            ["tasks"] = new[] { "t1", "a&b" },
            ["protocols"] = new[] { "current", "knn1", "knn5" },
            [family] = new Dictionary<string, object> { [method] = merged, ["individual"] = Row(0.8, 0.75, full), ["base"] = Row(0.3, 0.2, full) },
        };
    }

    private static (string Html, XDocument Doc) Render(object report)
    {
        using var json = JsonSerializer.SerializeToDocument(report);
        var entries = json.RootElement.ValueKind == JsonValueKind.Array ? json.RootElement.EnumerateArray().ToList() : [json.RootElement];
        string html = HtmlReportRenderer.Render(entries, "test & <report>");
        using var reader = XmlReader.Create(new StringReader(html), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore });
        return (html, XDocument.Load(reader)); // throws when the page is not well-formed XML
    }

    private static HashSet<string> Ids(XDocument doc) =>
        doc.Descendants().Select(e => (string?)e.Attribute("id")).OfType<string>().ToHashSet(StringComparer.Ordinal);

    [TestMethod]
    public void FullReportIsWellFormedXhtmlWithEverySection()
    {
        var (html, doc) = Render(new[] { Entry("vision", "cart", true) });
        Assert.AreEqual(X + "html", doc.Root!.Name);
        Assert.IsTrue(html.StartsWith("<!DOCTYPE html>", StringComparison.Ordinal));
        var ids = Ids(doc);
        foreach (var id in new[] { "f0", "f0-results", "f0-bars", "f0-norm", "f0-sweeps", "f0-shots", "f0-diag", "f0-confusion", "f0-tsne" })
            Assert.IsTrue(ids.Contains(id), $"section {id} is missing");
        // Results tables: one per protocol; the cart row of "current" holds 60.0, 50.0, Avg 55.0 and Norm mean(0.6/0.8, 0.5/0.75) = 70.8.
        var cartRow = doc.Descendants(X + "tr").First(tr => tr.Elements(X + "td").FirstOrDefault()?.Value == "cart");
        CollectionAssert.AreEqual(new[] { "cart", "rank_ratio=0.3, scale=1", "60.0", "50.0", "55.0", "70.8" }, cartRow.Elements(X + "td").Select(td => td.Value).ToArray());
        Assert.AreEqual(3, doc.Descendants(X + "table").Count(t => t.Parent?.Attribute("id")?.Value == "f0-results"));
        // Shots: knn1 and knn5 make one two-point line per row (base, individual, cart).
        var shots = doc.Descendants().First(e => (string?)e.Attribute("id") == "f0-shots");
        Assert.AreEqual(3, shots.Descendants(S + "polyline").Count());
        // t-SNE: two panels of 4 points each; confusion matrices: 3 rows × 2 tasks × 4 cells.
        var tsne = doc.Descendants().First(e => (string?)e.Attribute("id") == "f0-tsne");
        Assert.AreEqual(2, tsne.Descendants(S + "svg").Count());
        Assert.AreEqual(8, tsne.Descendants(S + "circle").Count());
        var confusion = doc.Descendants().First(e => (string?)e.Attribute("id") == "f0-confusion");
        Assert.AreEqual(2, confusion.Descendants(X + "details").Count());
        Assert.AreEqual(24, confusion.Descendants(S + "rect").Count());
    }

    [TestMethod]
    public void RecipesOfOneMethodAreToldApartByTheirNames()
    {
        // lines.yaml, lines_ties.yaml and lines_consensus.yaml all run the method lines: the first keeps the method's name
        // (its recipe's is the same), the others show their recipe's; a method run once keeps its name whatever its recipe.
        var entries = new[] { ("lines", "lines"), ("lines_ties", "lines"), ("lines_consensus", "lines"), ("ties_all", "ties") }.Select(x =>
        {
            var e = Entry("vision", x.Item2, false);
            e["recipe"] = x.Item1;
            return e;
        }).ToArray();
        var (_, doc) = Render(entries);
        var names = doc.Descendants(X + "table").First(t => t.Parent?.Attribute("id")?.Value == "f0-results")
            .Descendants(X + "tr").Select(tr => tr.Elements(X + "td").FirstOrDefault()?.Value).OfType<string>().ToList();
        foreach (var want in new[] { "lines", "lines_ties (lines)", "lines_consensus (lines)", "ties" })
            CollectionAssert.Contains(names, want, string.Join(" | ", names));
    }

    [TestMethod]
    public void NamesAreEscapedAndNothingOutsideIsLoaded()
    {
        const string evil = "<script>alert('x')</script>";
        var (html, doc) = Render(new[] { Entry("vision", evil, true) });
        Assert.IsFalse(html.Contains("<script", StringComparison.OrdinalIgnoreCase), "a method name became markup");
        Assert.IsTrue(html.Contains("&lt;script&gt;alert('x')&lt;/script&gt;", StringComparison.Ordinal));
        Assert.IsTrue(html.Contains("a&amp;b", StringComparison.Ordinal));
        Assert.IsTrue(html.Contains("&lt;cat&gt;", StringComparison.Ordinal));     // class names in the t-SNE legend
        Assert.IsTrue(doc.Descendants(X + "td").Any(td => td.Value == evil));       // shown as text, intact
        Assert.AreEqual("test & <report>", doc.Descendants(X + "title").Single().Value);
        // Self-contained: no scripts, stylesheets, images or links that leave the page.
        Assert.IsFalse(doc.Descendants().Any(e => e.Name.LocalName is "script" or "link" or "img" or "iframe" or "object"));
        Assert.IsFalse(doc.Descendants().Attributes().Any(a => a.Name.LocalName is "src" || (a.Name.LocalName == "href" && !a.Value.StartsWith('#'))));
        // HTML parsers only accept self-closing syntax on void and foreign (SVG) elements.
        var selfClosed = Regex.Matches(html, @"<([a-zA-Z]+)[^<>]*/>").Select(m => m.Groups[1].Value).Distinct().ToList();
        CollectionAssert.IsSubsetOf(selfClosed, new[] { "meta", "rect", "line", "polyline", "circle" }, string.Join(", ", selfClosed));
    }

    [TestMethod]
    public void MissingSectionsAreLeftOutAndAveragesRecomputed()
    {
        // A lean evaluate-style entry: no average, no normalized, no sweep, no diagnostics, no t-SNE.
        var (_, doc) = Render(Entry("vision", "ties", false));
        var ids = Ids(doc);
        foreach (var id in new[] { "f0-results", "f0-bars", "f0-norm", "f0-shots", "f0-confusion" }) Assert.IsTrue(ids.Contains(id), id);
        foreach (var id in new[] { "f0-sweeps", "f0-diag", "f0-tsne" }) Assert.IsFalse(ids.Contains(id), id);
        var row = doc.Descendants(X + "tr").First(tr => tr.Elements(X + "td").FirstOrDefault()?.Value == "ties");
        // Avg = (60 + 50) / 2 = 55.0; Norm = (0.6/0.8 + 0.5/0.75) / 2 = (0.75 + 0.6667) / 2 = 70.8 %.
        CollectionAssert.AreEqual(new[] { "55.0", "70.8" }, row.Elements(X + "td").Skip(4).Select(td => td.Value).ToArray());
        // Nothing at all still renders a page.
        XDocument.Load(XmlReader.Create(new StringReader(HtmlReportRenderer.Render([])), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore }));
    }

    [TestMethod]
    public void FamiliesAreGroupedAndEntriesOfOneFamilyFolded()
    {
        var (_, doc) = Render(new object[] { Entry("vision", "cart", true), Entry("text", "ties", false), Entry("vision", "ties", false) });
        var h2 = doc.Descendants(X + "h2").Select(h => h.Value).ToList();
        CollectionAssert.AreEqual(new[] { "Family: vision", "Family: text" }, h2);
        var vision = doc.Descendants().First(e => (string?)e.Attribute("id") == "f0-results");
        var firstTable = vision.Elements(X + "table").First();
        // base, individual (from the first entry), cart, ties.
        CollectionAssert.AreEqual(new[] { "base", "individual", "cart", "ties" },
            firstTable.Elements(X + "tr").Skip(1).Select(tr => tr.Elements(X + "td").First().Value).ToArray());
    }

    [TestMethod]
    public void AlignRunsShowTransductiveRowsAndTransforms()
    {
        // An align-style entry: a row with its own protocol "aligned", marked transductive, and root "transforms".
        var entry = Entry("vision", "task_arithmetic", false);
        ((Dictionary<string, object>)entry["vision"])["task_arithmetic+ft_classifier"] = new Dictionary<string, object>
        {
            ["tasks"] = new Dictionary<string, object>
            {
                ["t1"] = new Dictionary<string, object> { ["aligned"] = Metrics(0.72, 0.01) },
                ["a&b"] = new Dictionary<string, object> { ["aligned"] = Metrics(0.6, 0.03) },
            },
            ["transductive"] = true,
        };
        entry["transforms"] = new Dictionary<string, object>
        {
            ["orthogonal/closed"] = new Dictionary<string, object> { ["t1"] = 0.7, ["a&b"] = 0.6, ["average"] = 0.65 },
            ["affine/closed"] = new Dictionary<string, object> { ["t1"] = 0.72, ["a&b"] = 0.62, ["average"] = 0.67 },
        };
        var (_, doc) = Render(entry);
        Assert.IsTrue(Ids(doc).Contains("f0-transforms"));
        // The aligned table: the row is starred, its Avg (72 + 60) / 2 = 66.0 and, without a saved "normalized", Norm against
        // the individual models' Current Eval (they have no "aligned" results): (0.72/0.8 + 0.6/0.75) / 2 = (0.9 + 0.8) / 2 = 85.0 %.
        var row = doc.Descendants(X + "tr").Last(tr => tr.Elements(X + "td").FirstOrDefault()?.Value == "task_arithmetic+ft_classifier *"); // the "aligned" table comes last
        CollectionAssert.AreEqual(new[] { "72.0 ± 1.0", "60.0 ± 3.0", "66.0", "85.0" }, row.Elements(X + "td").Skip(2).Select(td => td.Value).ToArray());

        // With the saved std over seeds of the average (average_std), the Avg cell and the Avg bar carry it too (the page
        // dropped it while the console printed 45.7±0.7).
        var aligned = (Dictionary<string, object>)((Dictionary<string, object>)entry["vision"])["task_arithmetic+ft_classifier"];
        aligned["average_std"] = new Dictionary<string, object> { ["aligned"] = 0.007 };
        (_, doc) = Render(entry);
        row = doc.Descendants(X + "tr").Last(tr => tr.Elements(X + "td").FirstOrDefault()?.Value == "task_arithmetic+ft_classifier *");
        Assert.AreEqual("66.0 ± 0.7", row.Elements(X + "td").Skip(4).First().Value);
        var titles2 = doc.Descendants(S + "rect").Select(r => r.Element(S + "title")?.Value).OfType<string>().ToList();
        Assert.IsTrue(titles2.Any(t => t.Contains("Avg", StringComparison.Ordinal) && t.Contains("task_arithmetic+ft_classifier", StringComparison.Ordinal) && t.Contains("± 0.7", StringComparison.Ordinal)),
            string.Join("\n", titles2.Where(t => t.Contains("Avg", StringComparison.Ordinal))));
        var transforms = doc.Descendants().First(e => (string?)e.Attribute("id") == "f0-transforms");
        var titles = transforms.Descendants(S + "rect").Select(r => r.Element(S + "title")?.Value).OfType<string>().ToList();
        CollectionAssert.Contains(titles, "average · orthogonal/closed: 65");
        CollectionAssert.Contains(titles, "a&b · affine/closed: 62");
    }

    [TestMethod]
    public void WriteRendersBesideTheJson()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-report-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string json = Path.Combine(dir, "report.json");
            MLNetMerge.Recipes.RunReport.Write(json, [Entry("vision", "cart", true)]);
            string html = HtmlReport.Write(json);
            Assert.AreEqual(Path.Combine(dir, "report.html"), html);
            Assert.IsTrue(File.ReadAllText(html).Contains("Family: vision", StringComparison.Ordinal));
            Assert.ThrowsExactly<RecipeException>(() => HtmlReport.Write(Path.Combine(dir, "missing.json")));
            // A JSON file that is not a report (the old list layout, anything else) is refused with one line, not rendered empty.
            // Two reports of other names in one folder keep a page each (one report.html was shared; a command-line trial).
            string other = Path.Combine(dir, "r1.json");
            File.Copy(json, other);
            Assert.AreEqual(Path.Combine(dir, "r1.html"), HtmlReport.Write(other));
            Assert.IsTrue(File.Exists(Path.Combine(dir, "report.html")));
            // Only a .json ending is replaced: report.bak does not take report.json's page.
            Assert.AreEqual(Path.Combine(dir, "report.bak.html"), HtmlReport.PagePath(Path.Combine(dir, "report.bak")));
            Assert.AreEqual(Path.Combine(dir, "R3.html"), HtmlReport.PagePath(Path.Combine(dir, "R3.JSON")));
            File.WriteAllText(json, JsonSerializer.Serialize(new[] { Entry("vision", "cart", true) }));
            StringAssert.Contains(Assert.ThrowsExactly<RecipeException>(() => HtmlReport.Write(json)).Message, "is not an MLNetMerge report");
            File.WriteAllText(json, """{ "format": "mlnetmerge.report", "version": 99, "recipes": [] }""");
            StringAssert.Contains(Assert.ThrowsExactly<RecipeException>(() => HtmlReport.Write(json)).Message, "version 99");
        }
        finally { Directory.Delete(dir, true); }
    }
}
