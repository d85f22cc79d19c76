using MLNetMerge.Nn.Losses;
using static MLNetMerge.Tests.Nn.FiniteDifference;

namespace MLNetMerge.Tests.Nn;

/// <summary>Finite-difference checks (float64) of every loss gradient, and hand-worked loss values.</summary>
[TestClass]
public sealed class LossGradientTests
{
    private const int N = 3, K = 4;

    [TestMethod]
    public void CrossEntropy_HardAndSoft_MatchFiniteDifferences()
    {
        var rng = new Random(11);
        double[] z = Random(rng, N * K, 3);
        int[] labels = [2, 0, 3];
        var lp = new double[N * K];
        double F() => CrossEntropy.Forward<double>(new double[N * K], z, labels, N, K);
        CrossEntropy.Forward<double>(lp, z, labels, N, K);
        var dz = new double[N * K];
        CrossEntropy.Backward<double>(dz, lp, labels, N, K, 1.0);
        Check("CE hard", z, dz, F);

        double[] t = Random(rng, N * K, 1).Select(Math.Abs).ToArray();
        for (int i = 0; i < N; i++) { double s = t.Skip(i * K).Take(K).Sum(); for (int j = 0; j < K; j++) t[i * K + j] /= s; }
        double G() => CrossEntropy.ForwardSoft<double>(new double[N * K], z, t, N, K);
        var dz2 = new double[N * K];
        CrossEntropy.BackwardSoft<double>(dz2, lp, t, N, K, 2.0);
        for (int i = 0; i < dz2.Length; i++) dz2[i] /= 2.0; // scale is applied linearly
        Check("CE soft", z, dz2, G);
    }

    [TestMethod]
    public void CrossEntropy_HandWorked()
    {
        // Logits [0, ln 3] → p = [1/4, 3/4]; label 1 → loss = −ln(3/4) = 0.2876820724517809.
        double loss = CrossEntropy.Forward<double>(new double[2], [0, Math.Log(3)], [1], 1, 2);
        Assert.AreEqual(0.2876820724517809, loss, 1e-15);
    }

    [TestMethod]
    public void KlDivergence_MatchesFiniteDifferences_ForBothLogitSets()
    {
        var rng = new Random(12);
        double[] a = Random(rng, N * K, 2), b = Random(rng, N * K, 2);
        double F() => KlDivergence.Forward<double>(new double[N * K], new double[N * K], a, b, N, K);
        double[] lp = new double[N * K], lq = new double[N * K], da = new double[N * K], db = new double[N * K];
        KlDivergence.Forward<double>(lp, lq, a, b, N, K);
        KlDivergence.Backward<double>(da, db, lp, lq, N, K, 1.0);
        Check("dKL/da", a, da, F); Check("dKL/db", b, db, F);
        // KL(p‖p) = 0
        Assert.AreEqual(0.0, KlDivergence.Forward<double>(lp, lq, a, a, N, K), 1e-15);
    }

    [TestMethod]
    public void Entropy_MatchesFiniteDifferences_AndHandWorked()
    {
        var rng = new Random(13);
        double[] z = Random(rng, N * K, 2);
        double F() => Entropy.Forward<double>(new double[N * K], z, N, K);
        var lp = new double[N * K]; var dz = new double[N * K];
        Entropy.Forward<double>(lp, z, N, K);
        Entropy.Backward<double>(dz, lp, N, K, 1.0);
        Check("dH/dz", z, dz, F);
        // Equal logits over 4 classes: H = ln 4 = 1.3862943611198906.
        Assert.AreEqual(1.3862943611198906, Entropy.Forward<double>(new double[4], [5, 5, 5, 5], 1, 4), 1e-15);
    }

    [TestMethod]
    public void Mse_L1_MatchFiniteDifferences_AndHandWorked()
    {
        var rng = new Random(14);
        double[] x = Random(rng, 10), y = Random(rng, 10);
        double[] dx = new double[10], dy = new double[10];
        Regression.MseBackward<double>(dx, dy, x, y, 1.0);
        Check("MSE dx", x, dx, () => Regression.MseForward<double>(x, y));
        Check("MSE dy", y, dy, () => Regression.MseForward<double>(x, y));
        Array.Clear(dx); Array.Clear(dy);
        Regression.L1Backward<double>(dx, dy, x, y, 1.0);
        Check("L1 dx", x, dx, () => Regression.L1Forward<double>(x, y));
        Check("L1 dy", y, dy, () => Regression.L1Forward<double>(x, y));
        // x = [1, 2], y = [0, 4]: MSE = (1 + 4)/2 = 2.5, L1 = (1 + 2)/2 = 1.5.
        Assert.AreEqual(2.5, Regression.MseForward<double>([1, 2], [0, 4]), 1e-15);
        Assert.AreEqual(1.5, Regression.L1Forward<double>([1, 2], [0, 4]), 1e-15);
    }
}
