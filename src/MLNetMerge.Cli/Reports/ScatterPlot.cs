using System.Xml;

namespace MLNetMerge.Cli.Reports;

/// <summary>
/// A square scatter plot of 2-D points coloured by class (t-SNE panels): one linear scale for both axes, so distances
/// keep their proportions; no tick labels (t-SNE coordinates have no units); a class legend below.
/// </summary>
internal sealed class ScatterPlot
{
    /// <summary>Panel title.</summary>
    public required string Title { get; init; }

    /// <summary>x coordinates (N).</summary>
    public required IReadOnlyList<double> X { get; init; }

    /// <summary>y coordinates (N).</summary>
    public required IReadOnlyList<double> Y { get; init; }

    /// <summary>Class index per point (N); colours come from <see cref="Palette"/>.</summary>
    public required IReadOnlyList<int> Labels { get; init; }

    /// <summary>Class names by index (shown in the legend and hover titles); missing names show the index.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];

    /// <summary>Side of the square plot area in px.</summary>
    public double Size { get; init; } = 420;

    /// <summary>The shared scale for both axes: the larger of the two data spans mapped onto the square, centred.</summary>
    public static (LinearScale X, LinearScale Y) Scales(IReadOnlyList<double> x, IReadOnlyList<double> y, double left, double top, double size)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        double x0 = x.Count > 0 ? x.Min() : 0, x1 = x.Count > 0 ? x.Max() : 1, y0 = y.Count > 0 ? y.Min() : 0, y1 = y.Count > 0 ? y.Max() : 1;
        double half = Math.Max(Math.Max(x1 - x0, y1 - y0), 1e-12) / 2 * 1.04;
        double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
        return (new LinearScale(cx - half, cx + half, left, left + size), new LinearScale(cy - half, cy + half, top + size, top));
    }

    /// <summary>Writes the panel as one <c>&lt;svg&gt;</c> element.</summary>
    public void Write(XmlWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (X.Count != Y.Count || X.Count != Labels.Count) throw new ArgumentException($"scatter '{Title}': {X.Count} x, {Y.Count} y and {Labels.Count} labels.");
        const double pad = 10, top = 26;
        int classes = Labels.Count == 0 ? 0 : Labels.Max() + 1;
        var legend = Enumerable.Range(0, classes).Select(Name).ToList();
        int rows = SvgCanvas.LegendRows(legend, Size);
        double width = Size + 2 * pad, height = top + Size + 12 + rows * 16 + 8;
        var (sx, sy) = Scales(X, Y, pad, top, Size);
        using var svg = new SvgCanvas(writer, width, height, Title);
        svg.Heading(pad, 16, Title);
        svg.Rect(pad, top, Size, Size, "#fafafa", stroke: "#ccc");
        for (int i = 0; i < X.Count; i++)
            svg.Circle(sx.Map(X[i]), sy.Map(Y[i]), 2.6, Palette.Color(Labels[i]), opacity: 0.8, stroke: Palette.Outline(Labels[i]));
        svg.Legend(pad, top + Size + 22, legend, Size);
    }

    private string Name(int c) => c < ClassNames.Count ? ClassNames[c] : c.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
