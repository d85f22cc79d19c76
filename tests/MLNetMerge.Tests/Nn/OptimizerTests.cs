using MLNetMerge.Nn.Optim;

namespace MLNetMerge.Tests.Nn;

/// <summary>Adam/AdamW updates worked by hand (and equal to torch.optim's), and global-norm clipping.</summary>
[TestClass]
public sealed class OptimizerTests
{
    // θ0 = 1, lr = 0.1, β = (0.9, 0.999), ε = 1e-8, gradients 0.5 then −0.25.
    // Step 1: m = 0.05, v = 0.00025, bc1 = 0.1, bc2 = 0.001 → m/bc1 = 0.5, √v/√bc2 = 0.5 → θ1 = 1 − 0.1·0.5/0.5 = 0.9.
    // Step 2: m = 0.9·0.05 − 0.1·0.25 = 0.02, v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225,
    //         bc1 = 0.19, bc2 = 0.001999 → θ2 = 0.9 − 0.1·(0.02/0.19)/√(0.00031225/0.001999) = 0.8733662967.
    // AdamW (wd 0.1) first scales θ by 1 − lr·wd = 0.99: θ1 = 0.99 − 0.1 = 0.89, θ2 = 0.89·0.99 − 0.0266337 = 0.8544663.
    // torch.optim.Adam / AdamW in float32 give 0.90000004, 0.87336636 and 0.89000005, 0.85446638.
    [TestMethod]
    public void Adam_TwoSteps_HandWorked()
    {
        float[] p = [1f];
        var adam = new Adam(1, new AdamOptions { LearningRate = 0.1 });
        adam.Step(p, [0.5f]);
        Assert.AreEqual(0.9f, p[0], 1e-6f);
        adam.Step(p, [-0.25f]);
        Assert.AreEqual(0.8733663f, p[0], 1e-6f);
        Assert.AreEqual(2, adam.StepCount);
    }

    [TestMethod]
    public void AdamW_TwoSteps_HandWorked()
    {
        float[] p = [1f];
        var adamw = Adam.AdamW(1, learningRate: 0.1, weightDecay: 0.1);
        adamw.Step(p, [0.5f]);
        Assert.AreEqual(0.89f, p[0], 1e-6f);
        adamw.Step(p, [-0.25f]);
        Assert.AreEqual(0.8544664f, p[0], 1e-6f);
    }

    [TestMethod]
    public void Adam_CoupledWeightDecay_AddsToGradient()
    {
        // g = 0.5 + 0.1·1 = 0.6; the first step is still lr·g/|g| = 0.1 → 0.9. Step 2: g = −0.25 + 0.1·0.9 = −0.16,
        // m = 0.9·0.06 − 0.016 = 0.038, v = 0.999·0.00036 + 0.001·0.0256 = 0.00038524,
        // θ2 = 0.9 − 0.1·(0.038/0.19)/√(0.00038524/0.001999) = 0.9 − 0.1·0.2/0.438997 = 0.8544416.
        float[] p = [1f];
        var adam = new Adam(1, new AdamOptions { LearningRate = 0.1, WeightDecay = 0.1 });
        adam.Step(p, [0.5f]);
        Assert.AreEqual(0.9f, p[0], 1e-6f);
        adam.Step(p, [-0.25f]);
        Assert.AreEqual(0.9f - 0.1f * 0.2f / MathF.Sqrt(0.00038524f / 0.001999f), p[0], 1e-6f);
    }

    [TestMethod]
    public void ClipByGlobalNorm_ScalesOnlyAboveTheLimit()
    {
        // ‖[3, 4]‖ = 5 > 1 → scaled by 1/(5 + 1e-6): [0.6, 0.8]; a limit of 10 leaves them unchanged.
        float[] g = [3f, 4f];
        Assert.AreEqual(5f, GradientClipping.ClipByGlobalNorm(g, 1f), 1e-6f);
        Assert.AreEqual(0.6f, g[0], 1e-6f);
        Assert.AreEqual(0.8f, g[1], 1e-6f);
        float[] h = [3f, 4f];
        GradientClipping.ClipByGlobalNorm(h, 10f);
        CollectionAssert.AreEqual(new[] { 3f, 4f }, h);
    }
}
