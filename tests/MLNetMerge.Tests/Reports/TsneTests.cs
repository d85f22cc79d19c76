using Microsoft.VisualStudio.TestTools.UnitTesting;
using MLNetMerge.Cli.Reports;

namespace MLNetMerge.Tests.Reports;

/// <summary>Exact t-SNE: perplexity calibration, the gradient against finite differences, cluster separation, determinism.</summary>
[TestClass]
public sealed class TsneTests
{
    private static float[] Gaussian(int n, int d, int seed, double scale = 1, Func<int, int, double>? center = null)
    {
        var rng = new Random(seed);
        var x = new float[n * d];                                            // (N, D)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++)
            {
                double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
                x[i * d + j] = (float)((center?.Invoke(i, j) ?? 0) + scale * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }
        return x;
    }

    [TestMethod]
    public void EveryConditionalDistributionHasThePerplexityAsked()
    {
        // H(P_i) in bits must equal log2(30) = 4.906891 for every point (search tolerance 1e-5 nats = 1.44e-5 bits).
        const int n = 150, d = 6;
        var x = Gaussian(n, d, seed: 3, scale: 2.5);
        var dist = new double[n * n];
        Tsne.SquaredDistances(x, n, d, dist);
        var p = new double[n * n];
        var betas = Tsne.ConditionalProbabilities(dist, n, 30, p);
        for (int i = 0; i < n; i++)
        {
            var row = p.AsSpan(i * n, n);
            Assert.AreEqual(0.0, row[i], "p_i|i must be 0");
            Assert.AreEqual(1.0, row.ToArray().Sum(), 1e-12);
            Assert.AreEqual(Math.Log2(30), Tsne.EntropyBits(row), 2e-5, $"row {i}");
            Assert.IsTrue(betas[i] > 0);
        }
        // A different perplexity gives a different (wider) distribution: 2^H = 60.
        Tsne.ConditionalProbabilities(dist, n, 60, p);
        Assert.AreEqual(Math.Log2(60), Tsne.EntropyBits(p.AsSpan(0, n)), 2e-5);
    }

    [TestMethod]
    public void HandWorkedPrecisionForTwoNeighbours()
    {
        // Squared distances d01 = 1, d02 = 2, d12 = 1 and perplexity 1.5 (N − 1 = 2 neighbours each).
        // Row 0, shifted by its minimum: d' = (0, 1), so p1 = 1/(1 + e^−β), p2 = e^−β/(1 + e^−β), and the β found must
        // give −p1 ln p1 − p2 ln p2 = ln 1.5 (p1 ≈ 0.8: binary entropy 0.405 nats).
        double[] dist = [0, 1, 2, 1, 0, 1, 2, 1, 0];
        var p = new double[9];
        var betas = Tsne.ConditionalProbabilities(dist, 3, 1.5, p, 1e-10);
        double b = betas[0], p1 = 1 / (1 + Math.Exp(-b)), p2 = 1 - p1;
        Assert.AreEqual(p1, p[1], 1e-12);
        Assert.AreEqual(p2, p[2], 1e-12);
        Assert.AreEqual(Math.Log(1.5), -(p1 * Math.Log(p1) + p2 * Math.Log(p2)), 1e-9);
        // Row 1 has equal distances to 0 and 2: its distribution is uniform (entropy ln 2 for any β) and can never reach
        // ln 1.5 exactly; the search ends with p = (0.5, 0.5) whatever β it stops at.
        Assert.AreEqual(0.5, p[3], 1e-12);
        Assert.AreEqual(0.5, p[5], 1e-12);
    }

    [TestMethod]
    public void GradientMatchesFiniteDifferencesOfTheKlDivergence()
    {
        // ∂KL/∂y_i from Gradient (exaggeration 1) against central differences of KlDivergence, h = 2⁻¹⁰.
        const int n = 9, d = 4;
        var x = Gaussian(n, d, seed: 5);
        var dist = new double[n * n];
        Tsne.SquaredDistances(x, n, d, dist);
        var cond = new double[n * n];
        Tsne.ConditionalProbabilities(dist, n, 3, cond);
        var p = new float[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                p[i * n + j] = i == j ? 0 : (float)((cond[i * n + j] + cond[j * n + i]) / (2.0 * n));
        var y = Gaussian(n, 2, seed: 6);                                      // (N, 2) interleaved
        float[] yx = new float[n], yy = new float[n], gx = new float[n], gy = new float[n], num = new float[n * n], w = new float[n];
        for (int i = 0; i < n; i++) { yx[i] = y[2 * i]; yy[i] = y[2 * i + 1]; }
        Tsne.Gradient(gx, gy, num, w, p, yx, yy, n, 1f);
        const float h = 1f / 1024;
        double maxGrad = gx.Concat(gy).Max(v => Math.Abs(v));
        for (int k = 0; k < 2 * n; k++)
        {
            var plus = (float[])y.Clone(); plus[k] += h;
            var minus = (float[])y.Clone(); minus[k] -= h;
            double fd = (Tsne.KlDivergence(p, plus, n) - Tsne.KlDivergence(p, minus, n)) / (plus[k] - minus[k]);
            double analytic = k % 2 == 0 ? gx[k / 2] : gy[k / 2];
            Assert.AreEqual(fd, analytic, 2e-3 * maxGrad + 1e-6, $"coordinate {k}");
        }
        Assert.IsTrue(maxGrad > 1e-3, "the check needs a non-trivial gradient");
    }

    [TestMethod]
    public void TwoSeparatedClustersStaySeparated()
    {
        // Two Gaussian clouds in 10-D (σ = 1), centres 12 apart on the first axis; 60 points each, perplexity 30.
        const int n = 120, d = 10;
        var x = Gaussian(n, d, seed: 11, center: (i, j) => j == 0 ? (i < 60 ? -6 : 6) : 0);
        var result = Tsne.Embed(x, n, d, new TsneOptions { Seed = 1 });
        var y = result.Embedding;
        double Dist(int a, int b) => Math.Sqrt(Math.Pow(y[2 * a] - y[2 * b], 2) + Math.Pow(y[2 * a + 1] - y[2 * b + 1], 2));
        double Radius(int from, int to)
        {
            double cx = 0, cy = 0;
            for (int i = from; i < to; i++) { cx += y[2 * i]; cy += y[2 * i + 1]; }
            cx /= to - from; cy /= to - from;
            double r = 0;
            for (int i = from; i < to; i++) r = Math.Max(r, Math.Sqrt(Math.Pow(y[2 * i] - cx, 2) + Math.Pow(y[2 * i + 1] - cy, 2)));
            return r;
        }
        double minBetween = double.MaxValue;
        for (int a = 0; a < 60; a++)
            for (int b = 60; b < n; b++) minBetween = Math.Min(minBetween, Dist(a, b));
        double maxRadius = Math.Max(Radius(0, 60), Radius(60, n));
        Console.WriteLine($"min distance between clusters {minBetween:F3}, largest cluster radius {maxRadius:F3}, ratio {minBetween / maxRadius:F3}, KL {result.KlDivergence:F4}");
        // Measured: min distance 30.6, largest radius 3.08 (ratio 9.9); the test asks for a margin of 3 radii.
        Assert.IsTrue(minBetween > 3 * maxRadius, $"min inter-cluster distance {minBetween:F3} vs largest radius {maxRadius:F3}");
    }

    [TestMethod]
    public void DescentLowersTheKlDivergenceAndIsSeeded()
    {
        const int n = 80, d = 5;
        var x = Gaussian(n, d, seed: 21, center: (i, j) => j == (i % 4) ? 4 : 0); // four loose groups
        var opts = new TsneOptions { Perplexity = 10, Seed = 4 };
        var a = Tsne.Embed(x, n, d, opts);
        var b = Tsne.Embed(x, n, d, opts);
        CollectionAssert.AreEqual(a.Embedding, b.Embedding, "same seed, same coordinates");
        var c = Tsne.Embed(x, n, d, opts with { Seed = 5 });
        CollectionAssert.AreNotEqual(a.Embedding, c.Embedding);
        var early = Tsne.Embed(x, n, d, opts with { Iterations = 1 });     // ≈ the random start
        Console.WriteLine($"KL after 1 iteration {early.KlDivergence:F4}, after 1000 {a.KlDivergence:F4}");
        Assert.IsTrue(a.KlDivergence < 0.5 * early.KlDivergence, $"KL {a.KlDivergence} after 1000 iterations vs {early.KlDivergence} at the start");
    }

    [TestMethod]
    public void RefusesBadSizes()
    {
        Assert.ThrowsExactly<ArgumentException>(() => Tsne.Embed(new float[20], 10, 2, new TsneOptions { Perplexity = 9 }));
        Assert.ThrowsExactly<ArgumentException>(() => Tsne.Embed(new float[21], 10, 2));
        Assert.ThrowsExactly<ArgumentException>(() => Tsne.Embed(new float[2 * (Tsne.MaxPoints + 1)], Tsne.MaxPoints + 1, 2));
    }
}
