namespace MLNetMerge.Nn.Layers;

/// <summary>Scalar special functions the engine needs and .NET does not provide, accurate to double precision.</summary>
internal static class SpecialFunctions
{
    private const double TwoOverSqrtPi = 1.1283791670955126; // 2/√π
    private const double InvSqrtPi = 0.5641895835477563;    // 1/√π

    /// <summary>
    /// Fast single-precision erf, Abramowitz &amp; Stegun 7.1.26: with <c>t = 1/(1 + 0.3275911·|x|)</c>,
    /// <c>erf(|x|) ≈ 1 − t(a1 + t(a2 + t(a3 + t(a4 + t·a5))))·e^(−x²)</c>, absolute error ≤ 1.5e-7 (about one float ulp
    /// near 1), odd in x. The float32 engine uses it; float64 (the finite-difference checks) uses <see cref="Erf"/>.
    /// </summary>
    public static float ErfFast(float x)
    {
        float ax = MathF.Abs(x);
        float t = 1f / (1f + 0.3275911f * ax);
        float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
        float r = 1f - poly * MathF.Exp(-ax * ax);
        return x < 0 ? -r : r;
    }

    /// <summary>erf in the engine's element type: <see cref="ErfFast"/> for float32, <see cref="Erf"/> for float64.</summary>
    public static T Erf<T>(T x) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        => typeof(T) == typeof(float) ? T.CreateTruncating(ErfFast(float.CreateTruncating(x))) : T.CreateTruncating(Erf(double.CreateTruncating(x)));

    /// <summary>
    /// The error function <c>erf(x) = 2/√π ∫₀ˣ e^(−t²) dt</c>.
    /// |x| &lt; 3: the all-positive series <c>erf(x) = 2/√π · e^(−x²) · Σₙ 2ⁿ x^(2n+1) / (1·3·…·(2n+1))</c>
    /// (no cancellation); |x| ≥ 3: <c>1 − erfc(x)</c> with erfc's continued fraction
    /// <c>erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))</c>, evaluated bottom-up.
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        double result;
        if (ax < 3.0)
        {
            double x2 = ax * ax, term = ax, sum = ax;
            for (int n = 0; n < 200; n++)
            {
                term *= 2.0 * x2 / (2 * n + 3);
                sum += term;
                if (term < 1e-17 * sum) break;
            }
            result = TwoOverSqrtPi * Math.Exp(-x2) * sum;
        }
        else if (ax < 6.5)
        {
            // 60 levels of the continued fraction are far beyond double precision at x ≥ 3.
            double f = ax;
            for (int k = 60; k >= 1; k--) f = ax + (k * 0.5) / f;
            result = 1.0 - Math.Exp(-ax * ax) * InvSqrtPi / f;
        }
        else result = 1.0;
        return x < 0 ? -result : result;
    }
}
