namespace MLNetMerge.Cli.Reports;

/// <summary>
/// Colours for series and classes: the Tableau 10 palette followed by its lighter companions (20 in all). Past 20 the
/// colours repeat, so the series of each further round carry a mark: a dark outline on the second round and a dashed
/// dark outline on the third (bars, points, legend swatches), a dashed and then a dotted stroke for lines — 60 series
/// are told apart before styles repeat.
/// </summary>
internal static class Palette
{
    private static readonly string[] Colors =
    [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
        "#a0cbe8", "#ffbe7d", "#ff9d9a", "#86bcb6", "#8cd17d", "#f1ce63", "#d4a6c8", "#fabfd2", "#d7b5a6", "#79706e",
    ];

    /// <summary>Colour number <paramref name="index"/> (cycled).</summary>
    public static string Color(int index) => Colors[((index % Colors.Length) + Colors.Length) % Colors.Length];

    /// <summary>Outline of a filled mark for series <paramref name="index"/>: none in the first round of colours, dark after.</summary>
    public static string? Outline(int index) => Round(index) == 0 ? null : "#222";

    /// <summary>Dash pattern of that outline: dashed in the third round.</summary>
    public static string? OutlineDash(int index) => Round(index) == 2 ? "3 2" : null;

    /// <summary>Dash pattern of the line of series <paramref name="index"/>: solid, then dashed, then dotted.</summary>
    public static string? LineDash(int index) => Round(index) switch { 0 => null, 1 => "7 3", _ => "2 3" };

    private static int Round(int index) => (Math.Abs(index) / Colors.Length) % 3;

    /// <summary>A white-to-blue ramp for heatmaps: <paramref name="t"/> in [0, 1] → <c>rgb(255−208t, 255−134t, 255−88t)</c>.</summary>
    public static string Ramp(double t)
    {
        t = Math.Clamp(double.IsFinite(t) ? t : 0, 0, 1);
        int r = (int)Math.Round(255 - 208 * t), g = (int)Math.Round(255 - 134 * t), b = (int)Math.Round(255 - 88 * t);
        return $"rgb({r},{g},{b})";
    }
}
