using System.Globalization;
using System.Xml;

namespace MLNetMerge.Cli.Reports;

/// <summary>One point of a line series: x, y and an optional ± error on y.</summary>
/// <param name="X">x value.</param>
/// <param name="Y">y value.</param>
/// <param name="Error">Half-width of the error bar (0: none).</param>
internal readonly record struct LinePoint(double X, double Y, double Error = 0);

/// <summary>A named line: points in increasing x.</summary>
/// <param name="Name">Legend name.</param>
/// <param name="Points">Points (sorted by x when drawn).</param>
/// <param name="Dashed">Draw the line dashed (bounds, references).</param>
internal sealed record LineSeries(string Name, IReadOnlyList<LinePoint> Points, bool Dashed = false);

/// <summary>
/// Lines with markers over a numeric x axis (accuracy versus rank ratio, accuracy versus shots): both axes linear,
/// made nice unless fixed (x logarithmic when its positive values span two decades or more); markers carry hover titles with their values; error bars when a point has an error.
/// Tick marks on x are the data's own x values when there are at most 12 of them (a label that would overlap the
/// previous one is left out).
/// </summary>
internal sealed class LineChart
{
    /// <summary>Chart title.</summary>
    public required string Title { get; init; }

    /// <summary>The lines.</summary>
    public required IReadOnlyList<LineSeries> Series { get; init; }

    /// <summary>x axis label.</summary>
    public string XLabel { get; init; } = "";

    /// <summary>y axis label.</summary>
    public string YLabel { get; init; } = "";

    /// <summary>How y values are shown.</summary>
    public Func<double, string> FormatY { get; init; } = v => v.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>How x values are shown.</summary>
    public Func<double, string> FormatX { get; init; } = v => v.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>Width in px.</summary>
    public double Width { get; init; } = 540;

    /// <summary>Height of the plot area in px.</summary>
    public double PlotHeight { get; init; } = 240;

    /// <summary>Writes the chart as one <c>&lt;svg&gt;</c> element.</summary>
    public void Write(XmlWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        const double left = 60, right = 18, top = 24;
        double plotWidth = Width - left - right;
        int legendRows = SvgCanvas.LegendRows(Series.Select(s => s.Name), plotWidth);
        double legendTop = top + 8, plotTop = legendTop + legendRows * 16 + 8, plotBottom = plotTop + PlotHeight;
        double height = plotBottom + 44;
        var all = Series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        using var svg = new SvgCanvas(writer, Width, height, Title);
        svg.Heading(left, 16, Title);
        svg.Legend(left, legendTop + 10, Series.Select(s => s.Name).ToList(), plotWidth, Dash);
        if (all.Count == 0) return;
        var xs = all.Select(p => p.X).Distinct().OrderBy(v => v).ToList();
        // Positive x spanning two decades or more (a learning-rate sweep 1e-5…1e-2) is placed on a log axis, where a
        // linear one would stack the small values at its left end; the ticks keep the data's own values.
        bool logX = xs.Count > 1 && xs[0] > 0 && xs[^1] / xs[0] >= 100;
        Func<double, double> at = logX ? Math.Log10 : v => v;
        var format = logX ? v => v.ToString("G3", CultureInfo.InvariantCulture) : FormatX;
        double pad = xs.Count > 1 ? 0.04 * (at(xs[^1]) - at(xs[0])) : 0;
        var scale = new LinearScale(at(xs[0]) - pad, at(xs[^1]) + pad, left, left + plotWidth);
        double X(double v) => scale.Map(at(v));
        var y = new LinearScale(all.Min(p => p.Y - p.Error), all.Max(p => p.Y + p.Error), plotBottom, plotTop).Nice();
        svg.AxisLeft(y, left, left + plotWidth, FormatY);
        if (xs.Count <= 12)
        {
            double lastLabelEnd = double.NegativeInfinity;
            foreach (var v in xs)
            {
                svg.Line(X(v), plotBottom, X(v), plotBottom + 4, "#666");
                string label = format(v);
                double half = 3.3 * label.Length;                          // ≈ half the label's width at 11 px
                if (X(v) - half < lastLabelEnd + 4) continue;            // too close to the previous label: tick only
                svg.Text(X(v), plotBottom + 16, label, "middle", 11, fill: "#444");
                lastLabelEnd = X(v) + half;
            }
            svg.Line(left, plotBottom, left + plotWidth, plotBottom, "#666");
        }
        else if (logX)
        {
            for (int d = (int)Math.Ceiling(Math.Log10(xs[0])); d <= (int)Math.Floor(Math.Log10(xs[^1])); d++)
            {
                double v = Math.Pow(10, d);
                svg.Line(X(v), plotBottom, X(v), plotBottom + 4, "#666");
                svg.Text(X(v), plotBottom + 16, format(v), "middle", 11, fill: "#444");
            }
            svg.Line(left, plotBottom, left + plotWidth, plotBottom, "#666");
        }
        else svg.AxisBottom(scale, plotBottom, FormatX);
        if (XLabel.Length > 0) svg.Text(left + plotWidth / 2, plotBottom + 34, XLabel, "middle", 11);
        if (YLabel.Length > 0) svg.Text(14, (plotTop + plotBottom) / 2, YLabel, "middle", 11, rotate: -90);
        for (int s = 0; s < Series.Count; s++)
        {
            string color = Palette.Color(s);
            var pts = Series[s].Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).OrderBy(p => p.X).ToList();
            if (pts.Count > 1) svg.Polyline(pts.Select(p => (X(p.X), y.Map(p.Y))).ToList(), color, 2, Dash(s));
            foreach (var p in pts)
            {
                if (p.Error > 0) svg.Line(X(p.X), y.Map(p.Y - p.Error), X(p.X), y.Map(p.Y + p.Error), color, 1.5);
                string tip = $"{Series[s].Name}: {format(p.X)} → {FormatY(p.Y)}" + (p.Error > 0 ? $" ± {FormatY(p.Error)}" : "");
                svg.Circle(X(p.X), y.Map(p.Y), 3.5, color, tip, stroke: Palette.Outline(s));
            }
        }
    }

    /// <summary>Series <paramref name="s"/>'s stroke: dashed for bounds and references, else <see cref="Palette.LineDash"/>.</summary>
    private string? Dash(int s) => Series[s].Dashed ? "6 4" : Palette.LineDash(s);
}
