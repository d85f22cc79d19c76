namespace MLNetMerge.Tests.Nn;

/// <summary>Central finite differences in float64 against analytic gradients.</summary>
internal static class FiniteDifference
{
    public const double Step = 1e-5;

    public static double[] Random(Random rng, int n, double scale = 1.0)
    {
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = (rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    /// <summary>Σ r ⊙ y: a scalar objective whose output gradient is r.</summary>
    public static double Dot(ReadOnlySpan<double> r, ReadOnlySpan<double> y)
    {
        double s = 0;
        for (int i = 0; i < r.Length; i++) s += r[i] * y[i];
        return s;
    }

    /// <summary>Checks every element of <paramref name="analytic"/> against (f(x+h) − f(x−h))/2h; returns the max relative error.</summary>
    public static double Check(string what, double[] x, double[] analytic, Func<double> objective, double tolerance = 1e-6)
    {
        Assert.AreEqual(x.Length, analytic.Length, what);
        double maxAbs = 0, scale = 1e-3;
        foreach (var g in analytic) scale = Math.Max(scale, Math.Abs(g));
        for (int i = 0; i < x.Length; i++)
        {
            double keep = x[i];
            x[i] = keep + Step; double up = objective();
            x[i] = keep - Step; double down = objective();
            x[i] = keep;
            double numeric = (up - down) / (2 * Step);
            maxAbs = Math.Max(maxAbs, Math.Abs(numeric - analytic[i]));
        }
        double rel = maxAbs / scale;
        Assert.IsTrue(rel <= tolerance, $"{what}: finite-difference mismatch {rel:E3} (max |grad| {scale:E3})");
        return rel;
    }
}
