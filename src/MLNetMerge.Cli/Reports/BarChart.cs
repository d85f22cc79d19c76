using System.Xml;

namespace MLNetMerge.Cli.Reports;

/// <summary>One series of a chart: a name and one value per category (null = missing), with optional ± errors.</summary>
/// <param name="Name">Legend name.</param>
/// <param name="Values">One value per category; null draws nothing.</param>
/// <param name="Errors">Optional half-widths of error bars, one per category.</param>
internal sealed record ChartSeries(string Name, IReadOnlyList<double?> Values, IReadOnlyList<double?>? Errors = null);

/// <summary>
/// A grouped vertical bar chart: categories along x (a <see cref="BandScale"/>), one bar per series inside each
/// category's band (a nested band scale), values on a linear y axis from <see cref="YMin"/> (default 0) to
/// <see cref="YMax"/> (default: the largest value, made nice). Every bar carries a hover title with its value.
/// </summary>
internal sealed class BarChart
{
    /// <summary>Chart title.</summary>
    public required string Title { get; init; }

    /// <summary>Category labels along x.</summary>
    public required IReadOnlyList<string> Categories { get; init; }

    /// <summary>Series (one bar per category each).</summary>
    public required IReadOnlyList<ChartSeries> Series { get; init; }

    /// <summary>y axis label.</summary>
    public string YLabel { get; init; } = "";

    /// <summary>Lower end of the y axis.</summary>
    public double YMin { get; init; }

    /// <summary>Upper end of the y axis (null: from the data).</summary>
    public double? YMax { get; init; }

    /// <summary>Optional horizontal reference line (e.g. 100 % of the individual models).</summary>
    public double? ReferenceLine { get; init; }

    /// <summary>How tick labels and tooltips show a value.</summary>
    public Func<double, string> Format { get; init; } = v => v.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Width in px.</summary>
    public double Width { get; init; } = 1100;

    /// <summary>Height of the plot area in px.</summary>
    public double PlotHeight { get; init; } = 260;

    /// <summary>Writes the chart as one <c>&lt;svg&gt;</c> element.</summary>
    public void Write(XmlWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        const double left = 60, right = 16, top = 24;
        double plotWidth = Width - left - right;
        int legendRows = Series.Count > 1 ? SvgCanvas.LegendRows(Series.Select(s => s.Name), plotWidth) : 0;
        double legendTop = top + 8, plotTop = legendTop + legendRows * 16 + 6;
        int longest = Categories.Count == 0 ? 0 : Categories.Max(c => c.Length);
        bool slanted = Categories.Count * 7.0 * longest > plotWidth;
        double labelRoom = slanted ? 10 + 5.5 * Math.Min(longest, 28) : 22;
        double height = plotTop + PlotHeight + labelRoom + 20;
        double plotBottom = plotTop + PlotHeight;

        double max = YMax ?? Math.Max(ReferenceLine ?? double.MinValue, Series.SelectMany(s => s.Values.Select((v, i) => v + (s.Errors?[i] ?? 0))).Where(v => v.HasValue).Select(v => v!.Value).DefaultIfEmpty(1).Max());
        var y = new LinearScale(YMin, Math.Max(max, YMin + 1e-9), plotBottom, plotTop);
        if (YMax is null) y = y.Nice();
        using var svg = new SvgCanvas(writer, Width, height, Title);
        svg.Heading(left, 16, Title);
        if (legendRows > 0) svg.Legend(left, legendTop + 10, Series.Select(s => s.Name).ToList(), plotWidth);
        svg.AxisLeft(y, left, left + plotWidth, Format);
        if (YLabel.Length > 0) svg.Text(14, (plotTop + plotBottom) / 2, YLabel, "middle", 11, rotate: -90);
        if (Categories.Count == 0) return;
        var bands = new BandScale(Categories.Count, left, left + plotWidth, 0.2, 0.1);
        var inner = new BandScale(Math.Max(1, Series.Count), 0, bands.Bandwidth, 0.08, 0);
        double zero = y.Map(Math.Max(YMin, Math.Min(0, y.DomainMax)));
        for (int c = 0; c < Categories.Count; c++)
        {
            for (int s = 0; s < Series.Count; s++)
            {
                var v = c < Series[s].Values.Count ? Series[s].Values[c] : null;
                if (v is null || !double.IsFinite(v.Value)) continue;
                double x0 = bands.Start(c) + inner.Start(s);
                double top0 = y.Map(Math.Clamp(v.Value, y.DomainMin, y.DomainMax));
                var err = Series[s].Errors is { } e && c < e.Count ? e[c] : null;
                string tip = $"{Series[s].Name} · {Categories[c]}: {Format(v.Value)}" + (err is > 0 ? $" ± {Format(err.Value)}" : "");
                svg.Rect(x0, Math.Min(top0, zero), inner.Bandwidth, Math.Abs(zero - top0), Palette.Color(s), tip, Palette.Outline(s), Palette.OutlineDash(s));
                if (err is > 0)
                {
                    double cx = x0 + inner.Bandwidth / 2;
                    svg.Line(cx, y.Map(Math.Min(y.DomainMax, v.Value + err.Value)), cx, y.Map(Math.Max(y.DomainMin, v.Value - err.Value)), "#222", 1);
                }
            }
            double lx = bands.Center(c), ly = plotBottom + 14;
            if (slanted) svg.Text(lx, ly, Categories[c], "end", 11, rotate: -35);
            else svg.Text(lx, ly, Categories[c], "middle", 11);
        }
        if (ReferenceLine is { } r && r >= y.DomainMin && r <= y.DomainMax)
            svg.Line(left, y.Map(r), left + plotWidth, y.Map(r), "#333", 1, "5 3");
    }
}
