using System.Globalization;
using System.Xml;

namespace MLNetMerge.Cli.Reports;

/// <summary>
/// Writes one inline <c>&lt;svg&gt;</c> element through an <see cref="XmlWriter"/> (so every label is escaped and the
/// document stays well-formed): rectangles, lines, polylines, circles, text and hover titles, with coordinates
/// rounded to 0.01 and written with the invariant culture. Dispose (or <see cref="End"/>) closes the element.
/// </summary>
internal sealed class SvgCanvas : IDisposable
{
    /// <summary>The SVG namespace.</summary>
    public const string Namespace = "http://www.w3.org/2000/svg";

    private readonly XmlWriter _w;
    private bool _ended;

    /// <summary>Opens <c>&lt;svg width height viewBox role="img"&gt;</c> with an accessible <c>&lt;title&gt;</c>.</summary>
    /// <param name="writer">Where the element goes.</param>
    /// <param name="width">Width in px.</param>
    /// <param name="height">Height in px.</param>
    /// <param name="title">Accessible title (also a hover tooltip).</param>
    public SvgCanvas(XmlWriter writer, double width, double height, string title)
    {
        _w = writer ?? throw new ArgumentNullException(nameof(writer));
        Width = width;
        Height = height;
        _w.WriteStartElement("svg", Namespace);
        _w.WriteAttributeString("width", Num(width));
        _w.WriteAttributeString("height", Num(height));
        _w.WriteAttributeString("viewBox", $"0 0 {Num(width)} {Num(height)}");
        _w.WriteAttributeString("role", "img");
        _w.WriteAttributeString("class", "chart");
        _w.WriteElementString("title", Namespace, title);
    }

    /// <summary>Width in px.</summary>
    public double Width { get; }

    /// <summary>Height in px.</summary>
    public double Height { get; }

    /// <summary>A number as SVG writes it: rounded to 0.01, invariant culture, no trailing zeros.</summary>
    public static string Num(double v) => (Math.Round(v, 2) + 0.0).ToString("0.##", CultureInfo.InvariantCulture); // + 0.0 turns −0 into 0

    /// <summary>A filled rectangle; negative sizes are normalised; <paramref name="tooltip"/> becomes a child <c>&lt;title&gt;</c>.</summary>
    public void Rect(double x, double y, double width, double height, string fill, string? tooltip = null, string? stroke = null, string? strokeDash = null)
    {
        if (width < 0) { x += width; width = -width; }
        if (height < 0) { y += height; height = -height; }
        _w.WriteStartElement("rect", Namespace);
        Attr("x", x); Attr("y", y); Attr("width", width); Attr("height", height);
        _w.WriteAttributeString("fill", fill);
        if (stroke is not null) _w.WriteAttributeString("stroke", stroke);
        if (stroke is not null && strokeDash is not null) _w.WriteAttributeString("stroke-dasharray", strokeDash);
        Tooltip(tooltip);
        _w.WriteEndElement();
    }

    /// <summary>A straight line.</summary>
    public void Line(double x1, double y1, double x2, double y2, string stroke, double strokeWidth = 1, string? dash = null)
    {
        _w.WriteStartElement("line", Namespace);
        Attr("x1", x1); Attr("y1", y1); Attr("x2", x2); Attr("y2", y2);
        _w.WriteAttributeString("stroke", stroke);
        Attr("stroke-width", strokeWidth);
        if (dash is not null) _w.WriteAttributeString("stroke-dasharray", dash);
        _w.WriteEndElement();
    }

    /// <summary>An open polyline through the points, unfilled.</summary>
    public void Polyline(IReadOnlyList<(double X, double Y)> points, string stroke, double strokeWidth = 2, string? dash = null)
    {
        ArgumentNullException.ThrowIfNull(points);
        _w.WriteStartElement("polyline", Namespace);
        _w.WriteAttributeString("points", string.Join(" ", points.Select(p => Num(p.X) + "," + Num(p.Y))));
        _w.WriteAttributeString("fill", "none");
        _w.WriteAttributeString("stroke", stroke);
        Attr("stroke-width", strokeWidth);
        if (dash is not null) _w.WriteAttributeString("stroke-dasharray", dash);
        _w.WriteEndElement();
    }

    /// <summary>A filled circle.</summary>
    public void Circle(double cx, double cy, double r, string fill, string? tooltip = null, double opacity = 1, string? stroke = null)
    {
        _w.WriteStartElement("circle", Namespace);
        Attr("cx", cx); Attr("cy", cy); Attr("r", r);
        _w.WriteAttributeString("fill", fill);
        if (opacity < 1) Attr("fill-opacity", opacity);
        if (stroke is not null) _w.WriteAttributeString("stroke", stroke);
        Tooltip(tooltip);
        _w.WriteEndElement();
    }

    /// <summary>
    /// A chart's title on one line inside the canvas: at <paramref name="size"/> when it fits the width from
    /// <paramref name="x"/>, else started at the left edge, then set smaller (down to 8 px), then cut with an ellipsis —
    /// the whole title stays in the canvas's accessible <c>&lt;title&gt;</c>. Widths are estimated at 0.62 em per
    /// character (bold sans-serif).
    /// </summary>
    public void Heading(double x, double y, string title, double size = 13)
    {
        ArgumentNullException.ThrowIfNull(title);
        const double em = 0.62, smallest = 8, edge = 4;
        double Width(double px) => title.Length * em * px;
        if (Width(size) > this.Width - x - edge) x = edge;
        double room = this.Width - x - edge;
        double fitted = Math.Max(smallest, Math.Min(size, room / Math.Max(1, title.Length * em)));
        string shown = title;
        if (Width(fitted) > room)
            shown = title[..Math.Max(1, (int)(room / (em * fitted)) - 1)] + "…";
        Text(x, y, shown, size: Math.Round(fitted, 1), bold: true);
    }

    /// <summary>A text label. <paramref name="anchor"/>: start, middle or end; <paramref name="rotate"/> in degrees about (x, y).</summary>
    public void Text(double x, double y, string text, string anchor = "start", double size = 12, double rotate = 0, string? fill = null, bool bold = false)
    {
        _w.WriteStartElement("text", Namespace);
        Attr("x", x); Attr("y", y);
        if (anchor != "start") _w.WriteAttributeString("text-anchor", anchor);
        Attr("font-size", size);
        if (bold) _w.WriteAttributeString("font-weight", "bold");
        if (fill is not null) _w.WriteAttributeString("fill", fill);
        if (rotate != 0) _w.WriteAttributeString("transform", $"rotate({Num(rotate)} {Num(x)} {Num(y)})");
        _w.WriteString(text);
        _w.WriteEndElement();
    }

    /// <summary>How many rows <see cref="Legend"/> takes for these names within <paramref name="maxWidth"/>.</summary>
    public static int LegendRows(IEnumerable<string> names, double maxWidth)
    {
        ArgumentNullException.ThrowIfNull(names);
        int rows = 0;
        double cx = 0;
        foreach (var name in names)
        {
            double w = LegendEntryWidth(name);
            if (rows == 0) rows = 1;
            else if (cx > 0 && cx + w > maxWidth) { rows++; cx = 0; }
            cx += w;
        }
        return rows;
    }

    private static double LegendEntryWidth(string name) => 16 + 6.5 * name.Length + 12;

    /// <summary>
    /// A horizontal legend of series <c>0 … n−1</c> (<see cref="Palette"/>'s styles) and their names starting at (x, y);
    /// wraps at <paramref name="maxWidth"/>. Swatches are squares, or short strokes dashed by <paramref name="lineDash"/>
    /// when it is given. Returns the y below it.
    /// </summary>
    public double Legend(double x, double y, IReadOnlyList<string> names, double maxWidth, Func<int, string?>? lineDash = null)
    {
        ArgumentNullException.ThrowIfNull(names);
        double cx = x;
        for (int i = 0; i < names.Count; i++)
        {
            double w = LegendEntryWidth(names[i]);
            if (cx > x && cx + w > x + maxWidth) { cx = x; y += 16; }
            if (lineDash is not null) Line(cx - 2, y - 4, cx + 12, y - 4, Palette.Color(i), 2.5, lineDash(i));
            else Rect(cx, y - 9, 10, 10, Palette.Color(i), stroke: Palette.Outline(i), strokeDash: Palette.OutlineDash(i));
            Text(cx + 14, y, names[i], size: 11);
            cx += w;
        }
        return y + 16;
    }

    /// <summary>A left axis for <paramref name="scale"/> at <paramref name="x"/>, with gridlines across to <paramref name="gridTo"/>.</summary>
    public void AxisLeft(LinearScale scale, double x, double gridTo, Func<double, string> format, int ticks = 5)
    {
        ArgumentNullException.ThrowIfNull(scale);
        ArgumentNullException.ThrowIfNull(format);
        foreach (var t in scale.Ticks(ticks))
        {
            double y = scale.Map(t);
            Line(x, y, gridTo, y, "#e3e3e3");
            Text(x - 5, y + 4, format(t), "end", 11, fill: "#444");
        }
        Line(x, scale.RangeStart, x, scale.RangeEnd, "#666");
    }

    /// <summary>A bottom axis for <paramref name="scale"/> at <paramref name="y"/>.</summary>
    public void AxisBottom(LinearScale scale, double y, Func<double, string> format, int ticks = 5)
    {
        ArgumentNullException.ThrowIfNull(scale);
        ArgumentNullException.ThrowIfNull(format);
        foreach (var t in scale.Ticks(ticks))
        {
            double x = scale.Map(t);
            Line(x, y, x, y + 4, "#666");
            Text(x, y + 16, format(t), "middle", 11, fill: "#444");
        }
        Line(scale.RangeStart, y, scale.RangeEnd, y, "#666");
    }

    /// <summary>Closes the <c>&lt;svg&gt;</c> element (once).</summary>
    public void End()
    {
        if (_ended) return;
        _ended = true;
        _w.WriteEndElement();
    }

    /// <inheritdoc />
    public void Dispose() => End();

    private void Attr(string name, double v) => _w.WriteAttributeString(name, Num(v));

    private void Tooltip(string? tooltip)
    {
        if (tooltip is not null) _w.WriteElementString("title", Namespace, tooltip);
    }
}
