using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Tests.Nn;

/// <summary>Hand-worked values of the activations, the erf they rest on, and layer norm.</summary>
[TestClass]
internal sealed class ActivationGoldenTests
{
    [TestMethod]
    public void Erf_MatchesTabulatedValues()
    {
        // Abramowitz & Stegun table 7.1: erf(0.5) = 0.5204998778130465, erf(1) = 0.8427007929497149,
        // erf(2) = 0.9953222650189527, erf(3.5) = 0.9999992569016276; erf is odd.
        Assert.AreEqual(0.5204998778130465, SpecialFunctions.Erf(0.5), 1e-15);
        Assert.AreEqual(0.8427007929497149, SpecialFunctions.Erf(1.0), 1e-15);
        Assert.AreEqual(0.9953222650189527, SpecialFunctions.Erf(2.0), 1e-15);
        Assert.AreEqual(0.9999992569016276, SpecialFunctions.Erf(3.5), 1e-15);
        Assert.AreEqual(-0.8427007929497149, SpecialFunctions.Erf(-1.0), 1e-15);
        // Continuity where the series hands over to the continued fraction (x = 3): erf(3) = 0.9999779095030014.
        Assert.AreEqual(0.9999779095030014, SpecialFunctions.Erf(2.9999999999), 1e-12);
        Assert.AreEqual(0.9999779095030014, SpecialFunctions.Erf(3.0), 1e-15);
    }

    [TestMethod]
    public void ErfFast_IsWithinItsPublishedBoundOfTheExactErf()
    {
        // Abramowitz & Stegun 7.1.26 bounds the absolute error by 1.5e-7; float rounding adds about 1e-7 near 1.
        double worst = 0;
        for (int i = -60000; i <= 60000; i++)
        {
            double x = i * 1e-4;
            worst = Math.Max(worst, Math.Abs(SpecialFunctions.ErfFast((float)x) - SpecialFunctions.Erf((float)x)));
        }
        Assert.IsTrue(worst <= 2.5e-7, $"max |ErfFast − erf| = {worst:E3}");
        Assert.AreEqual(0f, SpecialFunctions.ErfFast(0f), 1e-7f);
    }

    [TestMethod]
    [DataRow(ActivationKind.GeluErf)]
    [DataRow(ActivationKind.GeluTanh)]
    [DataRow(ActivationKind.QuickGelu)]
    [DataRow(ActivationKind.Tanh)]
    [DataRow(ActivationKind.Relu)]
    public void Float32Kernels_MatchFloat64_AcrossLengths(ActivationKind kind)
    {
        // Lengths around the SIMD widths and the 256-element chunk; values in [−6, 6].
        foreach (int n in new[] { 1, 3, 7, 8, 15, 17, 255, 256, 257, 513, 1000 })
        {
            var x64 = Enumerable.Range(0, n).Select(i => -6.0 + 12.0 * ((i * 0.618034) % 1.0)).ToArray();
            var dy64 = Enumerable.Range(0, n).Select(i => Math.Cos(i)).ToArray();
            float[] x = x64.Select(v => (float)v).ToArray(), dy = dy64.Select(v => (float)v).ToArray();
            x64 = x.Select(v => (double)v).ToArray(); dy64 = dy.Select(v => (double)v).ToArray();
            float[] y = new float[n], dx = Enumerable.Repeat(0.25f, n).ToArray();
            double[] y64 = new double[n], dx64 = Enumerable.Repeat(0.25, n).ToArray();
            Activation.Forward<float>(kind, y, x); Activation.Forward<double>(kind, y64, x64);
            Activation.Backward<float>(kind, dx, dy, x); Activation.Backward<double>(kind, dx64, dy64, x64);
            for (int i = 0; i < n; i++)
            {
                Assert.AreEqual(y64[i], y[i], 2e-6 * Math.Max(1, Math.Abs(y64[i])), $"{kind} forward n={n} x={x[i]}");
                Assert.AreEqual(dx64[i], dx[i], 2e-6 * Math.Max(1, Math.Abs(dx64[i])), $"{kind} backward n={n} x={x[i]}");
            }
        }
    }

    [TestMethod]
    public void Gelu_QuickGelu_HandWorked()
    {
        double[] x = [1.0, -1.0];
        var y = new double[2];
        // GELU erf: 1·Φ(1) = 0.5·(1 + erf(1/√2)) = 0.8413447460685429; GELU(−1) = −1·Φ(−1) = −0.15865525393145707.
        Activation.Forward<double>(ActivationKind.GeluErf, y, x);
        Assert.AreEqual(0.8413447460685429, y[0], 1e-14);
        Assert.AreEqual(-0.15865525393145707, y[1], 1e-14);
        // GELU tanh: u = √(2/π)·1.044715 = 0.8335594…, tanh u = 0.6823... → 0.5·(1 + 0.68238) = 0.8411919906082768.
        Activation.Forward<double>(ActivationKind.GeluTanh, y, x);
        Assert.AreEqual(0.8411919906082768, y[0], 1e-12);
        // QuickGELU: σ(1.702) = 1/(1 + e^−1.702) = 0.8457957659328212; x·σ(1.702x) at x = 1.
        Activation.Forward<double>(ActivationKind.QuickGelu, y, x);
        Assert.AreEqual(0.8457957659328212, y[0], 1e-12);
        Assert.AreEqual(-(1 - 0.8457957659328212), y[1], 1e-12);
    }

    [TestMethod]
    public void LayerNorm_HandWorked()
    {
        // x = [1, 2, 3]: μ = 2, σ² = 2/3, r = 1/√(2/3) = 1.224744871391589 (eps 0);
        // x̂ = [−1.2247, 0, 1.2247]; γ = [1, 2, 0.5], β = [0, 1, −1] → y = [−1.2247449, 1, −0.3876276].
        float[] x = [1, 2, 3], g = [1, 2, 0.5f], b = [0, 1, -1], y = new float[3], mean = new float[1], rstd = new float[1];
        LayerNorm.Forward<float>(y, mean, rstd, x, g, b, 1, 3, 0.0);
        Assert.AreEqual(2f, mean[0], 1e-6f);
        Assert.AreEqual(1.2247449f, rstd[0], 1e-6f);
        Assert.AreEqual(-1.2247449f, y[0], 1e-6f);
        Assert.AreEqual(1f, y[1], 1e-6f);
        Assert.AreEqual(-0.3876276f, y[2], 1e-6f);
    }

    [TestMethod]
    public void ParseHiddenAct_KnowsHuggingFaceNames()
    {
        Assert.AreEqual(ActivationKind.GeluErf, Activation.Parse("gelu"));
        Assert.AreEqual(ActivationKind.QuickGelu, Activation.Parse("quick_gelu"));
        Assert.AreEqual(ActivationKind.GeluTanh, Activation.Parse("gelu_pytorch_tanh"));
        Assert.ThrowsExactly<ArgumentException>(() => Activation.Parse("swish"));
    }
}
