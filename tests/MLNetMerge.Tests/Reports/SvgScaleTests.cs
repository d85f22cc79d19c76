using System.Text;
using System.Xml;
using System.Xml.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using MLNetMerge.Cli.Reports;

namespace MLNetMerge.Tests.Reports;

/// <summary>Scales map known values to known SVG coordinates; a bar chart puts its bars exactly there.</summary>
[TestClass]
public sealed class SvgScaleTests
{
    [TestMethod]
    public void LinearScaleMapsDomainOntoReversedRange()
    {
        // y axis: [0, 100] → [300, 40]; Map(v) = 300 + v/100 · (40 − 300) = 300 − 2.6 v.
        var y = new LinearScale(0, 100, 300, 40);
        Assert.AreEqual(300.0, y.Map(0), 1e-12);
        Assert.AreEqual(40.0, y.Map(100), 1e-12);
        Assert.AreEqual(235.0, y.Map(25), 1e-12);     // 300 − 65
        Assert.AreEqual(137.5, y.Map(62.5), 1e-12);   // 300 − 162.5
        Assert.AreEqual(326.0, y.Map(-10), 1e-12);    // extrapolates linearly
    }

    [TestMethod]
    public void DegenerateDomainIsWidenedAroundTheValue()
    {
        // [5, 5] → [2.5, 7.5] (±|5|/2); 5 lands mid-range: 0 + (5 − 2.5)/5 · 10 = 5.
        var s = new LinearScale(5, 5, 0, 10);
        Assert.AreEqual(2.5, s.DomainMin);
        Assert.AreEqual(7.5, s.DomainMax);
        Assert.AreEqual(5.0, s.Map(5), 1e-12);
        var z = new LinearScale(0, 0, 0, 10);         // 0 → [−0.5, 0.5]
        Assert.AreEqual(-0.5, z.DomainMin);
    }

    [TestMethod]
    public void TickStepsAreOneTwoFiveTimesAPowerOfTen()
    {
        // [0, 1]/5: raw 0.2 = 2 × 0.1, 2 ≥ √2 → 0.2.  [0, 100]/5: raw 20 → 20.  [0, 7]/5: raw 1.4 < √2 → 1.
        // [0, 0.73]/5: raw 0.146 = 1.46 × 0.1 ≥ √2 → 0.2.  [0, 40]/5: raw 8 ≥ √50 → 10.  [0, 4]/5: raw 0.8 = 8 × 0.1 → 1.
        Assert.AreEqual(0.2, LinearScale.TickStep(0, 1, 5), 1e-15);
        Assert.AreEqual(20.0, LinearScale.TickStep(0, 100, 5), 1e-12);
        Assert.AreEqual(1.0, LinearScale.TickStep(0, 7, 5), 1e-15);
        Assert.AreEqual(0.2, LinearScale.TickStep(0, 0.73, 5), 1e-15);
        Assert.AreEqual(10.0, LinearScale.TickStep(0, 40, 5), 1e-12);
        Assert.AreEqual(1.0, LinearScale.TickStep(0, 4, 5), 1e-15);
        CollectionAssert.AreEqual(new[] { 0, 0.2, 0.4, 0.6, 0.8, 1.0 }, new LinearScale(0, 1, 0, 1).Ticks(5).ToArray());
        // [33, 95]: raw 62/5 = 12.4 = 1.24 × 10 < √2 → step 10; multiples of 10 inside: 40 … 90.
        CollectionAssert.AreEqual(new[] { 40.0, 50, 60, 70, 80, 90 }, new LinearScale(33, 95, 0, 1).Ticks(5).ToArray());
    }

    [TestMethod]
    public void NiceWidensTheDomainToTickMultiples()
    {
        // [0.12, 0.87]: span 0.75, raw 0.15 → step 0.2; floor(0.6) · 0.2 = 0, ceil(4.35) · 0.2 = 1.0.
        var s = new LinearScale(0.12, 0.87, 200, 0).Nice();
        Assert.AreEqual(0.0, s.DomainMin, 1e-12);
        Assert.AreEqual(1.0, s.DomainMax, 1e-12);
        Assert.AreEqual(100.0, s.Map(0.5), 1e-9);
    }

    [TestMethod]
    public void BandScaleStepsBandwidthAndCentres()
    {
        // 4 bands on [0, 100], inner 0.2, outer 0.1: step = 100 / (4 − 0.2 + 0.2) = 25, bandwidth 20, first start 2.5.
        var b = new BandScale(4, 0, 100, 0.2, 0.1);
        Assert.AreEqual(25.0, b.Step, 1e-12);
        Assert.AreEqual(20.0, b.Bandwidth, 1e-12);
        Assert.AreEqual(2.5, b.Start(0), 1e-12);
        Assert.AreEqual(77.5, b.Start(3), 1e-12);
        Assert.AreEqual(37.5, b.Center(1), 1e-12);   // 2.5 + 25 + 10
        Assert.AreEqual(97.5, b.Start(3) + b.Bandwidth, 1e-12); // last band ends one outer padding (2.5) before 100
    }

    [TestMethod]
    public void ScatterScalesKeepOneUnitPerAxis()
    {
        // x ∈ [0, 10], y ∈ [0, 4]: half-side = 10/2 · 1.04 = 5.2 for both; x centred on 5 → [−0.2, 10.2], y on 2 → [−3.2, 7.2].
        var (x, y) = ScatterPlot.Scales([0, 10], [0, 4], 10, 26, 400);
        Assert.AreEqual(210.0, x.Map(5), 1e-9);       // 10 + 200
        Assert.AreEqual(226.0, y.Map(2), 1e-9);       // 26 + 400 − 200
        Assert.AreEqual(26.0, y.Map(7.2), 1e-9);
        Assert.AreEqual(x.Map(1) - x.Map(0), y.Map(0) - y.Map(1), 1e-9); // same px per unit on both axes
    }

    [TestMethod]
    public void NumbersAndColoursAreWrittenExactly()
    {
        Assert.AreEqual("3.14", SvgCanvas.Num(3.14159));
        Assert.AreEqual("0", SvgCanvas.Num(-0.001));   // no "-0"
        Assert.AreEqual("137.5", SvgCanvas.Num(137.5));
        Assert.AreEqual("rgb(255,255,255)", Palette.Ramp(0));
        Assert.AreEqual("rgb(151,188,211)", Palette.Ramp(0.5)); // 255 − 104, 255 − 67, 255 − 44
        Assert.AreEqual("rgb(47,121,167)", Palette.Ramp(1));
        Assert.AreEqual(Palette.Color(0), Palette.Color(20));
    }

    [TestMethod]
    public void BarChartDrawsBarsAtTheScaledCoordinates()
    {
        // Width 400, one series (no legend): left 60, plot width 400 − 60 − 16 = 324, plot top 24 + 8 + 6 = 38,
        // plot bottom 38 + 200 = 238; y: [0, 100] → [238, 38] so 50 → 138 and 25 → 188.
        // Bands: 2 categories on [60, 384]: step 324 / 2 = 162, bandwidth 129.6, first start 60 + 16.2 = 76.2;
        // one series fills its band (inner step 129.6 / 0.92, bandwidth 129.6, offset 0).
        var chart = new BarChart
        {
            Title = "t", Categories = ["x", "y"], Series = [new ChartSeries("A", [50, 25])], YMax = 100, Width = 400, PlotHeight = 200,
        };
        var sb = new StringBuilder();
        using (var w = XmlWriter.Create(sb, new XmlWriterSettings { OmitXmlDeclaration = true })) chart.Write(w);
        var svg = XElement.Parse(sb.ToString());
        XNamespace ns = SvgCanvas.Namespace;
        var bars = svg.Elements(ns + "rect").Where(r => r.Element(ns + "title") is { } t && t.Value.StartsWith("A · ", StringComparison.Ordinal)).ToList();
        Assert.AreEqual(2, bars.Count);
        Assert.AreEqual("A · x: 50", bars[0].Element(ns + "title")!.Value);
        AssertRect(bars[0], "76.2", "138", "129.6", "100");
        AssertRect(bars[1], "238.2", "188", "129.6", "50");
    }

    [TestMethod]
    public void SeriesPastTheTwentyColoursStayDistinct_InBarsLinesAndLegends()
    {
        // 45 series: colours repeat every 20, so series 20–39 carry a dark outline and 40–44 a dashed one (bars and
        // legend squares), and lines go dashed then dotted; every series' style differs from every other's.
        var names = Enumerable.Range(0, 45).Select(i => $"s{i}").ToList();
        XNamespace ns = SvgCanvas.Namespace;
        XElement Render(Action<XmlWriter> write)
        {
            var sb = new StringBuilder();
            using (var w = XmlWriter.Create(sb, new XmlWriterSettings { OmitXmlDeclaration = true })) write(w);
            return XElement.Parse(sb.ToString());
        }
        static string Style(XElement e, string paint)
            => $"{(string?)e.Attribute(paint)}|{(string?)e.Attribute(paint == "fill" ? "stroke" : "x")}|{(string?)e.Attribute("stroke-dasharray")}";

        var bars = Render(new BarChart { Title = "t", Categories = ["x"], Series = names.Select(n => new ChartSeries(n, [1.0])).ToList() }.Write);
        var barStyles = names.Select(n => Style(bars.Elements(ns + "rect").Single(r => (string?)r.Element(ns + "title") == $"{n} · x: 1"), "fill")).ToList();
        Assert.AreEqual(45, barStyles.Distinct().Count());
        Assert.AreEqual("#4e79a7||", barStyles[0]);
        Assert.AreEqual("#4e79a7|#222|", barStyles[20]);
        Assert.AreEqual("#4e79a7|#222|3 2", barStyles[40]);
        // The legend's square for series i is drawn like its bars (squares are 10 × 10 and untitled).
        var swatches = bars.Elements(ns + "rect").Where(r => (string?)r.Attribute("width") == "10").Select(r => Style(r, "fill")).ToList();
        CollectionAssert.AreEqual(barStyles, swatches);

        var lines = Render(new LineChart { Title = "t", Series = names.Select(n => new LineSeries(n, [new(0, 1), new(1, 2)])).ToList() }.Write);
        var strokes = lines.Elements(ns + "polyline").Select(l => $"{(string?)l.Attribute("stroke")}|{(string?)l.Attribute("stroke-dasharray")}").ToList();
        Assert.AreEqual(45, strokes.Distinct().Count());
        CollectionAssert.AreEqual(new[] { "#4e79a7|", "#4e79a7|7 3", "#4e79a7|2 3" }, new[] { strokes[0], strokes[20], strokes[40] });
        var legendStrokes = lines.Elements(ns + "line").Where(l => (string?)l.Attribute("stroke-width") == "2.5")
            .Select(l => $"{(string?)l.Attribute("stroke")}|{(string?)l.Attribute("stroke-dasharray")}").ToList();
        CollectionAssert.AreEqual(strokes, legendStrokes);
    }

    private static void AssertRect(XElement r, string x, string y, string width, string height)
    {
        Assert.AreEqual(x, (string?)r.Attribute("x"));
        Assert.AreEqual(y, (string?)r.Attribute("y"));
        Assert.AreEqual(width, (string?)r.Attribute("width"));
        Assert.AreEqual(height, (string?)r.Attribute("height"));
    }

    [TestMethod]
    public void ALineChartOverDecades_SpacesThemEvenly_AndLabelsTheValues()
    {
        // A learning-rate sweep 1e-5 … 1e-2: on a log axis the four markers are equally spaced; on a linear one the first
        // two would sit 0.9 px apart at the left.
        var chart = new LineChart
        {
            Title = "wudi: accuracy versus learning_rate",
            Series = [new LineSeries("wudi", [new(1e-5, 60), new(1e-4, 62), new(1e-3, 65), new(1e-2, 61)])],
        };
        var sb = new StringBuilder();
        using (var w = XmlWriter.Create(sb, new XmlWriterSettings { OmitXmlDeclaration = true })) chart.Write(w);
        var svg = XElement.Parse(sb.ToString());
        var cx = svg.Descendants().Where(e => e.Name.LocalName == "circle").Select(e => double.Parse(e.Attribute("cx")!.Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.HasCount(4, cx);
        Assert.AreEqual(cx[1] - cx[0], cx[2] - cx[1], 0.02);   // coordinates are written to 2 decimals
        Assert.AreEqual(cx[2] - cx[1], cx[3] - cx[2], 0.02);
        var labels = svg.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value).ToList();
        CollectionAssert.IsSubsetOf(new[] { "1E-05", "0.0001", "0.001", "0.01" }, labels);
    }

    [TestMethod]
    public void LongTitles_StayInsideTheChart()
    {
        static XElement Render(Action<XmlWriter> write)
        {
            var sb = new StringBuilder();
            using (var w = XmlWriter.Create(sb, new XmlWriterSettings { OmitXmlDeclaration = true })) write(w);
            return XElement.Parse(sb.ToString());
        }
        // A sweep chart is 370 px wide; "lines_consensus (lines): accuracy versus beta" ran past its right edge.
        string title = "vision — lines_consensus (lines_consensus): validation accuracy versus beta, the selected point ringed";
        var svg = Render(new LineChart { Title = title, Width = 370, Series = [new LineSeries("a", [new(0, 1), new(1, 2)])] }.Write);
        var heading = svg.Descendants().First(e => e.Name.LocalName == "text");
        double x = double.Parse(heading.Attribute("x")!.Value, System.Globalization.CultureInfo.InvariantCulture);
        double size = double.Parse(heading.Attribute("font-size")!.Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.IsLessThanOrEqualTo(370.0, x + heading.Value.Length * 0.62 * size + 4, $"{heading.Value} at {size} px from {x}");
        Assert.IsGreaterThanOrEqualTo(8.0, size);
        Assert.AreEqual(title, svg.Descendants().First(e => e.Name.LocalName == "title").Value, "the whole title stays readable");
        // A short title keeps its place and size.
        var shortOne = Render(new LineChart { Title = "ties: keep", Width = 370, Series = [new LineSeries("a", [new(0, 1), new(1, 2)])] }.Write)
            .Descendants().First(e => e.Name.LocalName == "text");
        Assert.AreEqual("13", shortOne.Attribute("font-size")!.Value);
        Assert.AreEqual("60", shortOne.Attribute("x")!.Value);
    }
}
