using MLNetMerge.Alignment;
using MLNetMerge.Tensors.LinearAlgebra;
using static MLNetMerge.Tests.Nn.FiniteDifference;

namespace MLNetMerge.Tests.Alignment;

/// <summary>Closed forms recover known maps; the trained solver approaches them; gradients match finite differences.</summary>
[TestClass]
public sealed class AlignedTransformTests
{
    private const int E = 6, N = 40;

    /// <summary>A rotation: the product of Givens rotations in every (i, j) plane with angles 0.3 + 0.1(i + j).</summary>
    private static float[] Rotation(int e)
    {
        var q = new double[e * e];
        for (int i = 0; i < e; i++) q[i * e + i] = 1;
        for (int i = 0; i < e; i++)
            for (int j = i + 1; j < e; j++)
            {
                double a = 0.3 + 0.1 * (i + j), c = Math.Cos(a), s = Math.Sin(a);
                for (int r = 0; r < e; r++)
                {
                    double qi = q[r * e + i], qj = q[r * e + j];
                    q[r * e + i] = c * qi - s * qj;
                    q[r * e + j] = s * qi + c * qj;
                }
            }
        return q.Select(x => (float)x).ToArray();
    }

    private static float[] Features(int seed, int n, int e)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n * e).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
    }

    private static float[] Map(float[] w, float[]? b, float[] z, int n, int e) => new FeatureTransform(TransformKind.Affine, e, w, b, null).Apply(z, n);

    [TestMethod]
    public void Procrustes_RecoversAKnownRotationExactly()
    {
        var q = Rotation(E);
        var z = Features(1, N, E);
        var f = Map(q, null, z, N, E);
        var t = TransformFitting.ClosedForm(TransformKind.Orthogonal, z, f, N, E);
        for (int i = 0; i < E * E; i++) Assert.AreEqual(q[i], t.Weight![i], 1e-5f, $"Q[{i}]");
        Assert.IsNull(t.Bias);
        Assert.IsTrue(t.OrthogonalityDefect() < 1e-5, $"defect {t.OrthogonalityDefect():E2}");
    }

    [TestMethod]
    public void Euclidean_RecoversRotationAndTranslation()
    {
        var q = Rotation(E);
        float[] b = [0.5f, -1, 2, 0, 0.25f, -0.75f];
        var z = Features(2, N, E);
        var f = Map(q, b, z, N, E);
        var t = TransformFitting.ClosedForm(TransformKind.Euclidean, z, f, N, E);
        for (int i = 0; i < E * E; i++) Assert.AreEqual(q[i], t.Weight![i], 1e-5f, $"Q[{i}]");
        for (int i = 0; i < E; i++) Assert.AreEqual(b[i], t.Bias![i], 1e-5f, $"b[{i}]");
    }

    [TestMethod]
    public void LeastSquaresKinds_RecoverTheirMaps()
    {
        var rng = new Random(3);
        var w = Enumerable.Range(0, E * E).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] b = [1, 2, 3, -1, -2, -3];
        var z = Features(4, N, E);
        var affine = TransformFitting.ClosedForm(TransformKind.Affine, z, Map(w, b, z, N, E), N, E, ridge: 0);
        var linear = TransformFitting.ClosedForm(TransformKind.Linear, z, Map(w, null, z, N, E), N, E, ridge: 0);
        for (int i = 0; i < E * E; i++)
        {
            Assert.AreEqual(w[i], affine.Weight![i], 1e-3f, $"affine W[{i}]");
            Assert.AreEqual(w[i], linear.Weight![i], 1e-3f, $"linear W[{i}]");
        }
        for (int i = 0; i < E; i++) Assert.AreEqual(b[i], affine.Bias![i], 1e-3f, $"affine b[{i}]");
        float[] s = [0.5f, 2, -1, 1, 3, 0.25f];
        var zs = Features(5, N, E);
        var fs = new float[N * E];
        for (int r = 0; r < N; r++) for (int j = 0; j < E; j++) fs[r * E + j] = s[j] * zs[r * E + j];
        var scaling = TransformFitting.ClosedForm(TransformKind.Scaling, zs, fs, N, E, ridge: 0);
        for (int j = 0; j < E; j++) Assert.AreEqual(s[j], scaling.Scale![j], 1e-5f, $"s[{j}]");
    }

    [TestMethod]
    public void Invertible_RaisesSingularValuesOfARankDeficientSolution()
    {
        // z only spans 2 of 6 dimensions, so the ridge solution is (numerically) rank 2; the invertible kind floors σ.
        var z = new float[N * E];
        var rng = new Random(6);
        for (int r = 0; r < N; r++) { z[r * E] = (float)rng.NextDouble(); z[r * E + 1] = (float)rng.NextDouble(); }
        var t = TransformFitting.ClosedForm(TransformKind.Invertible, z, z, N, E);
        var u = new float[E * E]; var s = new float[E]; var vt = new float[E * E];
        JacobiSvd.Decompose(t.Weight!, E, E, u, s, vt);
        Assert.IsTrue(s[^1] >= 0.999e-3f * s[0], $"σ_min {s[^1]:E3} vs σ_max {s[0]:E3}");
    }

    [TestMethod]
    public void TrainedOrthogonal_ApproachesTheClosedForm()
    {
        var q = Rotation(E);
        var z = Features(7, N, E);
        var noise = new Random(8);
        var f = Map(q, null, z, N, E).Select(x => x + (float)(noise.NextDouble() - 0.5) * 0.02f).ToArray();
        var closed = TransformFitting.ClosedForm(TransformKind.Orthogonal, z, f, N, E);
        double first = double.NaN, last = double.NaN;
        var trained = TransformFitting.Trained(TransformKind.Orthogonal, z, f, N, E, new TransformTraining(Steps: 3000, LearningRate: 1e-2, Beta: 10),
            (step, loss) => { if (step == 1) first = loss; last = loss; });
        double maxDiff = 0;
        for (int i = 0; i < E * E; i++) maxDiff = Math.Max(maxDiff, Math.Abs(trained.Weight![i] - closed.Weight![i]));
        Assert.IsTrue(last < 0.01 * first, $"loss {first:E3} → {last:E3}");
        Assert.IsTrue(maxDiff < 0.01, $"max |W_trained − Q_closed| = {maxDiff:E3}");
        Assert.IsTrue(trained.OrthogonalityDefect() < 0.01, $"defect {trained.OrthogonalityDefect():E3}");
    }

    [TestMethod]
    public void PenalisedLoss_GradientsMatchFiniteDifferences()
    {
        const int n = 5, e = 3;
        var rng = new Random(9);
        double[] z = Random(rng, n * e, 2), f = Random(rng, n * e, 2);
        foreach (var (kind, size) in new[] { (TransformKind.Affine, e * e + e), (TransformKind.Orthogonal, e * e), (TransformKind.Scaling, e) })
        {
            double[] theta = Random(rng, size);
            var g = new double[size];
            TransformFitting.LossAndGradient<double>(kind, g, theta, z, f, n, e, beta: 0.7);
            Check($"{kind} transform", theta, g, () => TransformFitting.LossAndGradient<double>(kind, new double[size], theta, z, f, n, e, beta: 0.7));
        }
    }

    [TestMethod]
    public void Surgery_GradientsMatchFiniteDifferences()
    {
        const int n = 4, e = 5, r = 3;
        var rng = new Random(10);
        double[] z = Random(rng, n * e, 2), f = Random(rng, n * e, 2), down = Random(rng, r * e), up = Random(rng, e * r);
        var dDown = new double[r * e];
        var dUp = new double[e * r];
        SurgeryTraining.LossAndGradient<double>(dDown, dUp, z, f, down, up, n, e, r);
        double F() => SurgeryTraining.LossAndGradient<double>(new double[r * e], new double[e * r], z, f, down, up, n, e, r);
        Check("surgery A", down, dDown, F);
        Check("surgery B", up, dUp, F);
    }

    [TestMethod]
    public void Surgery_StartsAtTheIdentityAndLowersTheL1()
    {
        const int n = 30, e = 4;
        var z = Features(11, n, e);
        var f = z.Select((x, i) => x + (i % e == 0 ? Math.Max(x, 0) : 0)).ToArray(); // a ReLU-shaped shift the adapter can express
        double first = double.NaN, last = double.NaN;
        var (down, up) = SurgeryTraining.Train(z, f, n, e, new SurgerySettings(Rank: 4, Steps: 800, LearningRate: 1e-2, Batch: 30), streamKey: 1,
            (step, loss) => { if (step == 1) first = loss; last = loss; });
        Assert.IsTrue(last < 0.5 * first, $"L1 {first:F4} → {last:F4}");
        var y = SurgeryTraining.Apply(z, down, new float[e * 4], n, e, 4);
        CollectionAssert.AreEqual(z, y, "B = 0 is the identity");
    }
}
