using MLNetMerge.Alignment;
using MLNetMerge.Nn;

namespace MLNetMerge.Tests.Alignment;

/// <summary>AdaMerging's coefficient gradients against central finite differences of the summed entropy loss.</summary>
[TestClass]
internal sealed class CoefficientGradientTests
{
    public TestContext TestContext { get; set; } = null!;

    private static (EntropyCoefficientLearner Learner, float[][] Batches, int[] Sizes) Setup(AlignmentFixture fx, CoefficientScope granularity, bool clamp)
    {
        var merged = EngineRuns.Merge(fx.Family, new TaskArithmeticOptions());
        var ws = EncoderWorkspace.Open("test", merged, fx.Inputs);
        var (theta0, vectors) = CoefficientMergeRun.PlainTaskVectors(ws);
        var merge = new DifferentiableMerge(ws.Model.Parameters, theta0, vectors, clamp, 0.3f);
        var learner = new EntropyCoefficientLearner(ws.Model, merge, granularity, ws.Heads, 1e-3);
        // Spread the coefficients so that no two are equal and all stay inside (0, 1) (the clamp is inactive there).
        for (int i = 0; i < learner.Coefficients.Length; i++) learner.Coefficients[i] = 0.2f + 0.6f * ((i * 7919) % 97) / 97f;
        var batches = ws.Data.Select(d => d.Features.AsSpan(0, 8 * d.FeatureLength).ToArray()).ToArray();
        return (learner, batches, batches.Select(_ => 8).ToArray());
    }

    private double[] CentralDifferences(EntropyCoefficientLearner learner, float[][] batches, int[] sizes, float h)
    {
        var fd = new double[learner.Coefficients.Length];
        for (int i = 0; i < fd.Length; i++)
        {
            float keep = learner.Coefficients[i];
            learner.Coefficients[i] = keep + h;
            double up = learner.Loss(batches, sizes);
            learner.Coefficients[i] = keep - h;
            double down = learner.Loss(batches, sizes);
            learner.Coefficients[i] = keep;
            fd[i] = (up - down) / (2 * h);
        }
        return fd;
    }

    [TestMethod]
    [DataRow(CoefficientScope.Task)]
    [DataRow(CoefficientScope.Layer)]
    public void CoefficientGradients_MatchCentralDifferencesOfTheEntropy(CoefficientScope granularity)
    {
        using var fx = AlignmentFixture.TinyVit(["a", "b", "c"], tauScale: 0.5f);
        var (learner, batches, sizes) = Setup(fx, granularity, clamp: true);
        double loss = learner.ComputeGradients(batches, sizes);
        var analytic = learner.Gradients.Select(g => (double)g).ToArray();
        var fd = CentralDifferences(learner, batches, sizes, 3e-3f);
        double num = 0, den = 0, worst = 0;
        for (int i = 0; i < fd.Length; i++)
        {
            num += (analytic[i] - fd[i]) * (analytic[i] - fd[i]);
            den += fd[i] * fd[i];
            worst = Math.Max(worst, Math.Abs(analytic[i] - fd[i]));
        }
        double rel = Math.Sqrt(num / den);
        TestContext.WriteLine($"{granularity}: loss {loss:F5}, {fd.Length} coefficients, ‖g‖ = {Math.Sqrt(den):E3}, ‖g − fd‖/‖fd‖ = {rel:E2}, worst |g − fd| = {worst:E2}");
        // 3 tasks; layer-wise, one coefficient per task and tensor of the tiny ViT (38 tensors).
        Assert.AreEqual(granularity == CoefficientScope.Task ? 3 : 3 * fx.Family.MergedTensors.Count, fd.Length);
        Assert.IsTrue(Math.Sqrt(den) > 1e-3, "the fixture gives non-trivial gradients");
        Assert.IsTrue(rel < 5e-3, $"relative error {rel:E3}");
        Assert.IsTrue(worst < 5e-3 * Math.Max(1, fd.Max(Math.Abs)), $"worst error {worst:E3}");
    }

    [TestMethod]
    public void TaskWiseGradient_IsTheSumOfTheLayerWiseGradients()
    {
        // With every tensor's λt equal to the task's one λt, ∂L/∂λt = Σ_l ∂L/∂λt^l (chain rule through the shared value).
        using var fx = AlignmentFixture.TinyVit(["a", "b"], tauScale: 0.5f);
        var (task, batches, sizes) = Setup(fx, CoefficientScope.Task, clamp: false);
        var (layer, _, _) = Setup(fx, CoefficientScope.Layer, clamp: false);
        int l = layer.Coefficients.Length / 2;
        for (int t = 0; t < 2; t++) Array.Fill(layer.Coefficients, task.Coefficients[t], t * l, l);
        task.ComputeGradients(batches, sizes);
        layer.ComputeGradients(batches, sizes);
        for (int t = 0; t < 2; t++)
        {
            double sum = layer.Gradients.Skip(t * l).Take(l).Sum(g => (double)g);
            Assert.AreEqual(sum, task.Gradients[t], 1e-4 * Math.Max(1, Math.Abs(sum)));
        }
    }

    [TestMethod]
    public void ClampedCoefficient_HasNoGradient()
    {
        using var fx = AlignmentFixture.TinyVit(["a", "b"], tauScale: 0.5f);
        var (learner, batches, sizes) = Setup(fx, CoefficientScope.Task, clamp: true);
        learner.Coefficients[0] = 1.5f;   // clamp(1.5) = 1: flat
        learner.ComputeGradients(batches, sizes);
        Assert.AreEqual(0f, learner.Gradients[0]);
        Assert.AreNotEqual(0f, learner.Gradients[1]);
    }
}
