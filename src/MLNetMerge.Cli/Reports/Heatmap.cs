using System.Globalization;
using System.Xml;

namespace MLNetMerge.Cli.Reports;

/// <summary>
/// A confusion matrix as a heatmap: rows are true classes, columns predicted ones; a cell's shade is its share of
/// the row (recall along the diagonal), <c>t = count / row total</c>, through <see cref="Palette.Ramp"/>; the count is
/// written in the cell when cells are large enough, and every cell has a hover title.
/// </summary>
internal sealed class Heatmap
{
    /// <summary>Title (e.g. the model's name and its accuracy).</summary>
    public required string Title { get; init; }

    /// <summary>Counts (K, K): [true][predicted].</summary>
    public required IReadOnlyList<IReadOnlyList<double>> Counts { get; init; }

    /// <summary>Side of one cell in px.</summary>
    public double Cell { get; init; } = 14;

    /// <summary>Writes the heatmap as one <c>&lt;svg&gt;</c> element.</summary>
    public void Write(XmlWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        int k = Counts.Count;
        const double left = 22, top = 36;
        double side = k * Cell, width = Math.Max(left + side + 6, 7 * Title.Length + 10), height = top + side + 8;
        using var svg = new SvgCanvas(writer, width, height, Title);
        svg.Heading(2, 13, Title, size: 11);
        svg.Text(left + side / 2, 29, "predicted", "middle", 9, fill: "#666");
        svg.Text(10, top + side / 2, "true", "middle", 9, rotate: -90, fill: "#666");
        for (int r = 0; r < k; r++)
        {
            var row = Counts[r];
            double total = row.Sum();
            for (int c = 0; c < row.Count && c < k; c++)
            {
                double share = total > 0 ? row[c] / total : 0;
                string count = row[c].ToString("0.##", CultureInfo.InvariantCulture);
                svg.Rect(left + c * Cell, top + r * Cell, Cell, Cell, Palette.Ramp(share),
                    $"true {r}, predicted {c}: {count} ({share.ToString("P0", CultureInfo.InvariantCulture)} of row)");
                if (Cell >= 14 && row[c] > 0)
                    svg.Text(left + c * Cell + Cell / 2, top + r * Cell + Cell * 0.68, count, "middle", Cell * 0.5, fill: share > 0.55 ? "#fff" : "#333");
            }
        }
    }
}
