namespace MLNetMerge.Cli.Reports;

/// <summary>
/// A linear map from data values to SVG coordinates: <c>Map(v) = r0 + (v − d0) / (d1 − d0) · (r1 − r0)</c>.
/// A reversed range (<c>r0 &gt; r1</c>) is how a y axis points up in SVG, whose y grows downwards.
/// </summary>
internal sealed class LinearScale
{
    /// <summary>Creates the scale; a degenerate domain (<c>d0 == d1</c>) is widened to <c>d0 ± 0.5</c> (or ±|d0|/2).</summary>
    /// <param name="domainMin">d0, mapped to <paramref name="rangeStart"/>.</param>
    /// <param name="domainMax">d1, mapped to <paramref name="rangeEnd"/>.</param>
    /// <param name="rangeStart">r0 in SVG units.</param>
    /// <param name="rangeEnd">r1 in SVG units.</param>
    public LinearScale(double domainMin, double domainMax, double rangeStart, double rangeEnd)
    {
        if (!double.IsFinite(domainMin) || !double.IsFinite(domainMax)) throw new ArgumentException($"domain [{domainMin}, {domainMax}] is not finite.");
        if (domainMin == domainMax)
        {
            double half = domainMin == 0 ? 0.5 : Math.Abs(domainMin) / 2;
            domainMin -= half;
            domainMax += half;
        }
        DomainMin = domainMin;
        DomainMax = domainMax;
        RangeStart = rangeStart;
        RangeEnd = rangeEnd;
    }

    /// <summary>d0.</summary>
    public double DomainMin { get; }

    /// <summary>d1.</summary>
    public double DomainMax { get; }

    /// <summary>r0.</summary>
    public double RangeStart { get; }

    /// <summary>r1.</summary>
    public double RangeEnd { get; }

    /// <summary><c>r0 + (v − d0) / (d1 − d0) · (r1 − r0)</c>.</summary>
    public double Map(double value) => RangeStart + (value - DomainMin) / (DomainMax - DomainMin) * (RangeEnd - RangeStart);

    /// <summary>
    /// The tick step for about <paramref name="count"/> intervals: <c>10^⌊log10(span/count)⌋</c> times 1, 2, 5 or 10,
    /// whichever brings span/step closest to <paramref name="count"/> from above (d3's rule: ×10 when the raw step's
    /// ratio to the power is ≥ √50, ×5 when ≥ √10, ×2 when ≥ √2).
    /// </summary>
    public static double TickStep(double min, double max, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        double span = Math.Abs(max - min);
        if (span == 0 || !double.IsFinite(span)) return 1;
        double raw = span / count;
        double power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double ratio = raw / power;
        double factor = ratio >= Math.Sqrt(50) ? 10 : ratio >= Math.Sqrt(10) ? 5 : ratio >= Math.Sqrt(2) ? 2 : 1;
        return factor * power;
    }

    /// <summary>The multiples of <see cref="TickStep"/> inside the domain, in increasing order.</summary>
    public IReadOnlyList<double> Ticks(int count = 5)
    {
        double lo = Math.Min(DomainMin, DomainMax), hi = Math.Max(DomainMin, DomainMax);
        double step = TickStep(lo, hi, count);
        var ticks = new List<double>();
        long first = (long)Math.Ceiling(lo / step - 1e-9), last = (long)Math.Floor(hi / step + 1e-9);
        for (long i = first; i <= last; i++) ticks.Add(Math.Round(i * step, 12));
        return ticks;
    }

    /// <summary>A copy whose domain is widened outwards to multiples of the tick step (a "nice" axis).</summary>
    public LinearScale Nice(int count = 5)
    {
        double lo = Math.Min(DomainMin, DomainMax), hi = Math.Max(DomainMin, DomainMax);
        double step = TickStep(lo, hi, count);
        double nlo = Math.Floor(lo / step + 1e-9) * step, nhi = Math.Ceiling(hi / step - 1e-9) * step;
        return DomainMin <= DomainMax ? new LinearScale(nlo, nhi, RangeStart, RangeEnd) : new LinearScale(nhi, nlo, RangeStart, RangeEnd);
    }
}

/// <summary>
/// Equal bands for categories along an axis (bar charts): with n categories, inner padding p (share of a step left
/// empty between bands) and outer padding o (in steps, at each end), <c>step = (r1 − r0) / (n − p + 2o)</c>,
/// <c>bandwidth = step · (1 − p)</c> and band i starts at <c>r0 + o·step + i·step</c>.
/// </summary>
internal sealed class BandScale
{
    /// <summary>Creates the scale.</summary>
    /// <param name="count">Number of categories n (≥ 1).</param>
    /// <param name="rangeStart">r0.</param>
    /// <param name="rangeEnd">r1 (&gt; r0).</param>
    /// <param name="paddingInner">p in [0, 1).</param>
    /// <param name="paddingOuter">o ≥ 0.</param>
    public BandScale(int count, double rangeStart, double rangeEnd, double paddingInner = 0.2, double paddingOuter = 0.1)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), "a band scale needs at least one category.");
        if (paddingInner is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(paddingInner));
        ArgumentOutOfRangeException.ThrowIfNegative(paddingOuter);
        Count = count;
        RangeStart = rangeStart;
        Step = (rangeEnd - rangeStart) / (count - paddingInner + 2 * paddingOuter);
        Bandwidth = Step * (1 - paddingInner);
        Offset = rangeStart + paddingOuter * Step;
    }

    /// <summary>n.</summary>
    public int Count { get; }

    /// <summary>r0.</summary>
    public double RangeStart { get; }

    /// <summary>Distance between the starts of neighbouring bands.</summary>
    public double Step { get; }

    /// <summary>Width of one band.</summary>
    public double Bandwidth { get; }

    /// <summary>Start of band 0.</summary>
    public double Offset { get; }

    /// <summary>Start of band <paramref name="index"/>.</summary>
    public double Start(int index) => Offset + index * Step;

    /// <summary>Centre of band <paramref name="index"/>.</summary>
    public double Center(int index) => Start(index) + Bandwidth / 2;
}
