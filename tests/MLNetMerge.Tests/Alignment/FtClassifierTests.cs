using MLNetMerge.Alignment;
using MLNetMerge.Evaluation;
using static MLNetMerge.Tests.Nn.FiniteDifference;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests.Alignment;

/// <summary>FT-Classifier's loss and gradient (hand-worked and finite differences), its training, and the Eval protocol.</summary>
[TestClass]
public sealed class FtClassifierTests
{
    /// <summary>
    /// K = 2, E = 2, one example. Student: z = (1, 2), W = [[1, 0], [0, 0]], b = (0, 0) → s = W z + b = (1, 0),
    /// q = softmax(s) = (σ(1), 1 − σ(1)) = (0.7310586, 0.2689414). Teacher logits t = (0, 0) → p = (0.5, 0.5).
    /// KL(p‖q) = 0.5 ln(0.5/0.7310586) + 0.5 ln(0.5/0.2689414) = 0.5(−0.3798854) + 0.5(0.6201145) = 0.1201145.
    /// ∂L/∂s = q − p = (0.2310586, −0.2310586); ∂L/∂W = (q − p) zᵀ = [[0.2310586, 0.4621172], [−0.2310586, −0.4621172]];
    /// ∂L/∂b = (0.2310586, −0.2310586).
    /// </summary>
    [TestMethod]
    public void LossAndGradient_HandWorkedTwoClassCase()
    {
        float[] z = [1, 2], t = [0, 0], w = [1, 0, 0, 0], b = [0, 0];
        var dW = new float[4];
        var dB = new float[2];
        double loss = FtClassifierTraining.LossAndGradient<float>(dW, dB, z, t, w, b, 1, 2, 2);
        Assert.AreEqual(0.1201145, loss, 1e-6);
        float[] expectedW = [0.2310586f, 0.4621172f, -0.2310586f, -0.4621172f];
        for (int i = 0; i < 4; i++) Assert.AreEqual(expectedW[i], dW[i], 1e-6f, $"dW[{i}]");
        Assert.AreEqual(0.2310586f, dB[0], 1e-6f);
        Assert.AreEqual(-0.2310586f, dB[1], 1e-6f);
    }

    [TestMethod]
    public void LossAndGradient_MatchFiniteDifferences()
    {
        const int B = 3, E = 4, K = 3;
        var rng = new Random(5);
        double[] z = Random(rng, B * E, 2), t = Random(rng, B * K, 3), w = Random(rng, K * E), b = Random(rng, K);
        var dW = new double[K * E];
        var dB = new double[K];
        FtClassifierTraining.LossAndGradient<double>(dW, dB, z, t, w, b, B, E, K);
        double F() => FtClassifierTraining.LossAndGradient<double>(new double[K * E], new double[K], z, t, w, b, B, E, K);
        Check("FT-Classifier dW", w, dW, F);
        Check("FT-Classifier db", b, dB, F);
    }

    [TestMethod]
    public void Training_LowersTheKlAndKeepsTheHeadShape()
    {
        const int N = 20, E = 4, K = 3;
        var rng = new Random(2);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var init = new TaskHead(R(K * E), R(K), K, E);
        float[] z = R(N * E), teacher = R(N * K).Select(x => 3 * x).ToArray();
        double Kl(TaskHead h) => FtClassifierTraining.LossAndGradient<float>(new float[K * E], new float[K], z, teacher, h.Weight, h.Bias, N, E, K);
        var trained = FtClassifierTraining.Train(init, z, teacher, N, new FtClassifierSettings(Epochs: 50, LearningRate: 1e-2, Batch: 4), orderKey: 0);
        Assert.AreEqual(K, trained.ClassCount);
        Assert.AreEqual(E, trained.InputSize);
        Assert.IsTrue(Kl(trained) < 0.8 * Kl(init), $"KL {Kl(init):F4} → {Kl(trained):F4}");
        CollectionAssert.AreNotEqual(init.Weight, trained.Weight);
        CollectionAssert.AreEqual(init.Weight, new TaskHead(init.Weight, init.Bias, K, E).Weight, "the initial head is not modified");
    }

    [TestMethod]
    public void Estimator_NeverUsesLabelsInTheLoss()
    {
        using var zoo = new TinyAlignmentZoo();
        var est = EngineRuns.Stage(new FtClassifierOptions { ShotsPerClass = 0, Epochs = 3 });
        var labeled = (FtClassifierModel)est.Fit(zoo.Merged, zoo.Inputs);
        var unlabeled = (FtClassifierModel)est.Fit(zoo.Merged, new MergeInputs(zoo.Family, zoo.Data.ToDictionary(kv => kv.Key, kv => kv.Value.WithoutLabels())));
        foreach (var task in new[] { "a", "b" })
        {
            CollectionAssert.AreEqual(labeled.HeadOf(task).Weight, unlabeled.HeadOf(task).Weight, task);
            var ft = HeadAlignedModel.FineTunedHead(zoo.Merged, task, TinyAlignmentZoo.Width);
            CollectionAssert.AreNotEqual(ft.Weight, labeled.HeadOf(task).Weight, "the head trained");
            Assert.AreEqual(ft.Weight.Length, labeled.HeadOf(task).Weight.Length, "same structure as the fine-tuned head");
        }
    }

    [TestMethod]
    public void EvalProtocol_IsNamedByShotsAndNeedsTeachers()
    {
        var p = new FtClassifierEvalProtocol(10, 5, new Dictionary<string, float[]>());
        Assert.AreEqual("ftc10", p.Name);
        Assert.IsTrue(p.UsesLabeledData);
        var data = new MLNetMerge.Data.TaskDataset("x", new float[4], [2], [0, 1], ["p", "q"]);
        var head = new TaskHead(new float[4], new float[2], 2, 2);
        Assert.ThrowsExactly<AlignmentDataException>(() => p.Evaluate(new float[4], data, head, new float[4], data));
    }
}
