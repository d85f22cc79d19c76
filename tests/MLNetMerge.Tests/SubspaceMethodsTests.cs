using MLNetMerge.Merging;
using MLNetMerge.Merging.Methods;
using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

/// <summary>Hand-worked cases of TSV-M, ISO-C, ISO-CTS and WUDI, their loud failure, and TSV-M's randomized SVD.</summary>
[TestClass]
public sealed class SubspaceMethodsTests
{
    private const string Matrix = "model.layers.0.attn.weight";
    private const string Bias = "model.layers.0.attn.bias";
    private const float H = 0.70710678f;         // 1/√2
    private const float C = 0.92387953f, S = 0.38268343f; // cos, sin 22.5°

    // τ1 = diag(3, 0.5): top triplet (3, e1, e1). τ2 = 2·a e2ᵀ + 0.25·a⊥ e1ᵀ with a = (1, 1)/√2, a⊥ = (1, −1)/√2: its
    // columns are orthogonal, so its triplets are (2, a, e2) and (0.25, a⊥, e1).
    private static TinyFamily TwoTasks() => new TinyFamily("t1", "t2")
        .WithTaskVectors(Matrix, [2, 2], [0.5f, -0.5f, 0.25f, 1f], [3f, 0f, 0f, 0.5f], [0.25f * H, 2 * H, -0.25f * H, 2 * H])
        .WithTaskVectors(Bias, [2], [0f, 1f], [1f, 2f], [3f, -2f]);

    [TestMethod]
    public void TsvMDecorrelatesTheKeptSingularVectors()
    {
        // r = 2, T = 2 → k = 1 per task: X = [e1, a] (U columns), s = (3, 2), Y = [e1ᵀ; e2ᵀ] = I.
        // polar(X) for X = [[1, h], [0, h]] is the rotation [[c, s], [−s, c]] (c, s = cos, sin 22.5°; GramSvdTests), so
        // the update is polar(X) diag(3, 2) = [[3c, 2s], [−3s, 2c]] = [[2.7716386, 0.7653669], [−1.1480503, 1.8477591]]
        // (λ = 1). The bias gets the mean τ: [2, 0].
        var m = Run(TwoTasks(), "tsv_m");
        AssertClose(Plus([0.5f, -0.5f, 0.25f, 1f], 3 * C, 2 * S, -3 * S, 2 * C), m.Tensors[Matrix], 2e-6, "matrix");
        AssertClose([2f, 1f], m.Tensors[Bias], 1e-6, "bias");
    }

    [TestMethod]
    public void TsvMKeepsNothingWhenTasksOutnumberTheRank()
    {
        // r = 2 < T = 3 → k = ⌊2/3⌋ = 0: no triplet per task, the matrix stays at θ0 (as the authors' code gives);
        // the bias still gets λ·mean τ = 0.5·[1, 1].
        var f = new TinyFamily("t1", "t2", "t3")
            .WithTaskVectors(Matrix, [2, 2], [1f, 2f, 3f, 4f], [1f, 0f, 0f, 1f], [2f, 1f, 0f, 0f], [0f, 0f, 5f, 1f])
            .WithTaskVectors(Bias, [2], [0f, 0f], [1f, 0f], [0f, 3f], [2f, 0f]);
        var m = Run(f, "tsv_m", P(("scale", 0.5)));
        AssertClose([1f, 2f, 3f, 4f], m.Tensors[Matrix], 0, "matrix");
        AssertClose([0.5f, 0.5f], m.Tensors[Bias], 1e-7, "bias");
    }

    [TestMethod]
    public void IsoCFlattensTheSpectrumOfTheSum()
    {
        // S = τ1 + τ2 = [[0, −1], [3, 0]] = 3·e2 e1ᵀ + 1·(−e1) e2ᵀ: σ = (3, 1), σ̄ = 2, U Vᵀ = e2 e1ᵀ − e1 e2ᵀ = [[0, −1], [1, 0]].
        // λ = 0.5: update = 0.5·2·[[0, −1], [1, 0]]; bias: 0.5·mean([1, 1], [3, −1]) = [1, 0].
        var f = new TinyFamily("t1", "t2")
            .WithTaskVectors(Matrix, [2, 2], [1f, 1f, 1f, 1f], [0f, -1f, 1f, 0f], [0f, 0f, 2f, 0f])
            .WithTaskVectors(Bias, [2], [0f, 0f], [1f, 1f], [3f, -1f]);
        var m = Run(f, "iso_c", P(("scale", 0.5)));
        AssertClose([1f, 0f, 2f, 1f], m.Tensors[Matrix], 1e-6, "matrix");
        AssertClose([1f, 0f], m.Tensors[Bias], 1e-7, "bias");
        // weight 0.5 on t2: S = [[0, −1], [2, 0]], σ = (2, 1), σ̄ = 1.5, same U Vᵀ → update 0.5·1.5·[[0, −1], [1, 0]].
        var w = Run(f, "iso_c", P(("scale", 0.5)), [null, P(("weight", 0.5))]);
        AssertClose([1f, 0.25f, 1.75f, 1f], w.Tensors[Matrix], 1e-6, "weighted");
    }

    [TestMethod]
    public void IsoCtsAddsTaskSpecificDirectionsOutsideTheCommonSubspace()
    {
        // 3×3, T = 2, f = 0.34: k0 = ⌊1.02⌋ = 1, task part 2·round(2/2) = 2, so 1 common triplet and 1 per task.
        // τ1 = diag(4, 1, 0); τ2 = 2·a e3ᵀ, a = (0, 1, 1)/√2. S = τ1 + τ2 = 4 e1e1ᵀ ⊕ [[1, √2], [0, √2]] (σ 2.14, 0.66),
        // so the common triplet is (4, e1, e1). Projected out of e1: τ1 → (1, e2, e2), τ2 → (2, a, e3).
        // U = [e2, a, e1]: its first two columns are [[1, h], [0, h]] on (e2, e3), whose polar factor is the rotation
        // [[c, s], [−s, c]]; V rows [e2; e3; e1] are orthonormal already. polar(U) polar(V) = 1 ⊕ [[c, s], [−s, c]],
        // σ̄ = (1 + 2 + 4)/3 = 7/3 → update (λ = 1) = 7/3·(1 ⊕ [[c, s], [−s, c]]).
        var f = new TinyFamily("t1", "t2").WithTaskVectors(Matrix, [3, 3], new float[9],
            [4f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 0f], [0f, 0f, 0f, 0f, 0f, 2 * H, 0f, 0f, 2 * H]);
        var m = Run(f, "iso_cts", P(("common_space_fraction", 0.34)));
        float k = 7f / 3;
        AssertClose([k, 0f, 0f, 0f, k * C, k * S, 0f, -k * S, k * C], m.Tensors[Matrix], 3e-6);
    }

    [TestMethod]
    public void IsoCtsWithoutTaskPartIsIsoC()
    {
        // r = 2, T = 2, f = 0.5: k0 = 1, round(0.5) = 0 (halves to even) → k = 2, no task part: ISO-CTS = ISO-C.
        Assert.AreEqual(2, IsoCts.CommonSize(2, 2, 0.5));
        var a = Run(TwoTasks(), "iso_cts", P(("common_space_fraction", 0.5)));
        var b = Run(TwoTasks(), "iso_c");
        AssertClose(b.Tensors[Matrix], a.Tensors[Matrix], 1e-6);
    }

    [TestMethod]
    [DataRow(3, 2, 0.34, 1)]   // k0 = 1, 2/2 = 1 → task part 2
    [DataRow(64, 5, 0.0, 4)]   // k0 = 0, 64/5 = 12.8 → 13·5 = 65 > 64 → 60
    [DataRow(64, 8, 0.8, 48)]  // k0 = 51, 13/8 = 1.625 → 2·8 = 16
    [DataRow(768, 8, 0.8, 616)] // k0 = 614, 154/8 = 19.25 → 19·8 = 152
    [DataRow(6, 4, 0.5, 2)]    // k0 = 3, 3/4 = 0.75 → 4
    public void IsoCtsCommonSize(int r, int tasks, double f, int expected) => Assert.AreEqual(expected, IsoCts.CommonSize(r, tasks, f));

    // WUDI on a (1, 2) matrix: τ1 = [2, 0], τ2 = [1, 1], ‖τ1‖² = 4, ‖τ2‖² = 2.
    // G = τ1ᵀτ1/4 + τ2ᵀτ2/2 = [[1.5, 0.5], [0.5, 0.5]], B = τ1 τ1ᵀτ1/4 + τ2 τ2ᵀτ2/2 = [2, 0] + [1, 1] = [3, 1].
    // Start τ = Σ τt = [3, 1]: τG = [5, 2], gradient 2(τG − B) = [4, 2]. The minimiser τG = B is τ = [2, 0] = τ1 (both
    // terms vanish there: (τ1 − τ2)·τ2 = [1, −1]·[1, 1] = 0).
    private static TinyFamily WudiFamily() => new TinyFamily("t1", "t2")
        .WithTaskVectors(Matrix, [1, 2], [1f, -1f], [2f, 0f], [1f, 1f])
        .WithTaskVectors(Bias, [2], [0f, 0f], [2f, 0f], [0f, 4f]);

    [TestMethod]
    public void WudiStartsAtTheSumAndStepsAgainstTheGradient()
    {
        // 0 steps: θ0 + Σ τ = [1, −1] + [3, 1]; the bias gets the mean τ [1, 2] (no λ).
        var zero = Run(WudiFamily(), "wudi", P(("iterations", 0)));
        AssertClose([4f, 0f], zero.Tensors[Matrix], 1e-6, "0 steps");
        AssertClose([1f, 2f], zero.Tensors[Bias], 1e-7, "bias");
        // 1 Adam step: m̂ = g, v̂ = g², so the step is lr·g/(|g| + 1e-8) = 0.1·[1, 1] (to 1e-8): τ = [2.9, 0.9].
        var one = Run(WudiFamily(), "wudi", P(("iterations", 1), ("learning_rate", 0.1)));
        AssertClose([3.9f, -0.1f], one.Tensors[Matrix], 1e-6, "1 step");
    }

    [TestMethod]
    public void WudiApproachesTheMinimiser()
    {
        // 3000 steps at lr 0.003 end within a few lr of τ = [2, 0] (Adam's steps stay ~lr near the minimum).
        var m = Run(WudiFamily(), "wudi", P(("iterations", 3000), ("learning_rate", 0.003)));
        AssertClose([3f, -1f], m.Tensors[Matrix], 0.02, "τ → τ1");
    }

    [TestMethod]
    public void WudiLeavesOrthogonalTaskVectorsAtTheirSum()
    {
        // τ1 = [1, 0], τ2 = [0, 1]: G = I, B = [1, 1] = Σ τ, so the gradient is exactly 0 and no step moves τ.
        var f = new TinyFamily("t1", "t2").WithTaskVectors(Matrix, [1, 2], [0f, 0f], [1f, 0f], [0f, 1f]);
        AssertClose([1f, 1f], Run(f, "wudi", P(("learning_rate", 0.1))).Tensors[Matrix], 0);
    }

    [TestMethod]
    [DataRow("tsv_m")]
    [DataRow("iso_c")]
    [DataRow("iso_cts")]
    [DataRow("wudi")]
    public void RefusesAFamilyWithoutMatrices(string method)
    {
        var f = new TinyFamily("t1", "t2").WithTaskVectors("w", [4], new float[4], [1f, 0f, 0f, 0f], [0f, 1f, 0f, 0f]);
        var e = Assert.ThrowsExactly<IncompatibleModelsException>(() => Run(f, method));
        StringAssert.Contains(e.Message, "2-D");
        StringAssert.Contains(e.Message, "w [4]");
        // Only an embedding is 2-D: it counts under all_2d, not under the block rule.
        var g = new TinyFamily("t1", "t2").WithTaskVectors("embed.weight", [2, 2], new float[4], [1f, 0f, 0f, 1f], [0f, 1f, 1f, 0f]);
        Run(g, method);
        Assert.ThrowsExactly<IncompatibleModelsException>(() => Run(g, method, P(("matrices", "blocks"))));
    }

    /// <summary>Two 160×160 task vectors with a decaying spectrum (σ_i ≈ e^{−i/30}) plus a little noise.</summary>
    private static TinyFamily LargeFamily()
    {
        const int n = 160;
        float[] Tau(ulong seed)
        {
            var a = Random(n * 120, seed);
            var b = Random(120 * n, seed + 1);
            var noise = Random(n * n, seed + 2, 1e-3f);
            var tau = new float[n * n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = noise[i * n + j];
                    for (int l = 0; l < 120; l++) s += Math.Exp(-l / 30.0) * a[i * 120 + l] * b[l * n + j] / 10;
                    tau[i * n + j] = (float)s;
                }
            return tau;
        }
        return new TinyFamily("t1", "t2").WithTaskVectors(Matrix, [n, n], new float[n * n], Tau(1), Tau(11));
    }

    [TestMethod]
    public void TsvMRandomizedSvdIsSeededAndCloseToTheExactMerge()
    {
        // k = 80 of r = 160 per task with 64 extra sketch columns (l = 144 < 160): the randomized path. The same seed gives
        // the same bits; another seed gives other bits; both stay within 1e-3 (relative Frobenius) of the merge computed
        // with exact SVDs of each task vector (GramSvd, checked against one-sided Jacobi).
        const int n = 160, k = 80;
        var a = Run(LargeFamily(), "tsv_m", options: new MergeExecutionOptions { MaxThreads = 1, Seed = 1 }).Tensors[Matrix];
        var b = Run(LargeFamily(), "tsv_m", options: new MergeExecutionOptions { MaxThreads = 2, Seed = 1 }).Tensors[Matrix];
        var c = Run(LargeFamily(), "tsv_m", options: new MergeExecutionOptions { MaxThreads = 1, Seed = 2 }).Tensors[Matrix];
        CollectionAssert.AreEqual(a, b, "same seed, other thread count");
        CollectionAssert.AreNotEqual(a, c, "another seed");

        using var family = LargeFamily().Build();
        var taus = family.Tasks.Select(t => { var x = new float[n * n]; t.Reader.TryGetTensor(Matrix, out var i); t.Reader.ReadFloat32(i, x); return x; }).ToArray();
        var x = new float[n * 2 * k];
        var y = new float[2 * k * n];
        var s = new float[2 * k];
        for (int t = 0; t < 2; t++)
        {
            var f = GramSvd.Decompose(taus[t], n, n);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < k; j++) x[i * 2 * k + t * k + j] = f.U[i * n + j];
            Array.Copy(f.Vt, 0, y, t * k * n, k * n);
            for (int j = 0; j < k; j++) s[t * k + j] = (float)f.S[j];
        }
        var px = new float[n * 2 * k];
        var py = new float[2 * k * n];
        GramSvd.Polar(x, n, 2 * k, px);
        GramSvd.Polar(y, 2 * k, n, py);
        var exact = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < 2 * k; j++)
                for (int c2 = 0; c2 < n; c2++) exact[i * n + c2] += (double)px[i * 2 * k + j] * s[j] * py[j * n + c2];
        double norm = Math.Sqrt(exact.Sum(v => v * v));
        foreach (var (got, what) in new[] { (a, "seed 1"), (c, "seed 2") })
        {
            double err = Math.Sqrt(exact.Select((v, i) => (v - got[i]) * (v - got[i])).Sum());
            Assert.IsTrue(err <= 1e-3 * norm, $"{what}: ‖randomized − exact‖ / ‖exact‖ = {err / norm:G3}");
        }
    }

    [TestMethod]
    [DataRow(40, 16)] // X tall: polar(X) applied through (XᵀX)^(−1/2)
    [DataRow(16, 40)] // Y wide: polar(Y) applied through (Y Yᵀ)^(−1/2)
    public void TsvMFoldedPolarFactorGivesTheFormedProduct(int m, int n)
    {
        // T = 4, k = 4, Tk = 16 = min(m, n): the longer side's polar factor is not formed; the result must be the product of
        // both formed polar factors, polar(X) diag(s) polar(Y), from the same per-task triplets.
        const int tasks = 4, k = 4, w = tasks * k;
        var tau = Enumerable.Range(0, tasks).Select(t => { var a = new float[m * n]; new SeededRandom((ulong)(40 + t)).FillGaussian(a, 0.1f); return a; }).ToArray();
        var settings = new RandomizedSvdSettings(12, 5, 3);
        var x = new float[m * w];
        var y = new float[w * n];
        var s = new float[w];
        for (int t = 0; t < tasks; t++)
        {
            var f = MatrixMerge.TopTriplets(tau[t], m, n, k, settings, 1);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < k; j++) x[i * w + t * k + j] = f.U[i * k + j];
            Array.Copy(f.Vt, 0, y, t * k * n, k * n);
            Array.Copy(f.S, 0, s, t * k, k);
        }
        var px = new float[m * w];
        var py = new float[w * n];
        GramSvd.Polar(x, m, w, px);
        GramSvd.Polar(y, w, n, py);
        var output = Enumerable.Repeat(1f, m * n).ToArray();
        TaskSingularVectors.Merged(tau, m, n, settings, 0.5f, output, 2);
        var oneThread = Enumerable.Repeat(1f, m * n).ToArray();
        TaskSingularVectors.Merged(tau, m, n, settings, 0.5f, oneThread, 1);
        CollectionAssert.AreEqual(oneThread, output, "one thread and two give the same bits");
        double err = 0, norm = 0;
        for (int i = 0; i < m; i++)
            for (int c = 0; c < n; c++)
            {
                double e = 0;
                for (int j = 0; j < w; j++) e += (double)px[i * w + j] * s[j] * py[j * n + c];
                err += Math.Pow(1 + 0.5 * e - output[i * n + c], 2);
                norm += e * e * 0.25;
            }
        Assert.IsTrue(Math.Sqrt(err / norm) < 1e-5, $"relative distance {Math.Sqrt(err / norm):G3}");
    }
}
