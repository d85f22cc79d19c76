using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Tests;

[TestClass]
public sealed class GramSubspaceSvdTests
{
    private static float[] Gaussian(int length, ulong seed, float scale = 1f)
    {
        var x = new float[length];
        new SeededRandom(seed).FillGaussian(x, scale);
        return x;
    }

    /// <summary>A (m, n) = X diag(10·0.9^j) Yᵀ (rank 12) + 0.02·noise: a clear top and a flat noise tail.</summary>
    private static float[] LowRankPlusNoise(int m, int n, ulong seed)
    {
        const int rank = 12;
        var x = Gaussian(m * rank, seed, 1f / MathF.Sqrt(m));
        var yt = Gaussian(rank * n, seed + 1, 1f / MathF.Sqrt(n));
        var a = Gaussian(m * n, seed + 2, 0.02f);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < rank; j++) x[i * rank + j] *= 10f * MathF.Pow(0.9f, j);
        Gemm.Multiply(false, false, m, n, rank, 1f, x, rank, yt, n, 1f, a, n);
        return a;
    }

    /// <summary>Singular values of A (m, n), descending, from the float64 Gram matrix of its short side.</summary>
    private static double[] ExactSingularValues(float[] a, int m, int n)
    {
        int k = Math.Min(m, n);
        var g = new double[k * k];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                double s = 0;
                if (m <= n) for (int p = 0; p < n; p++) s += (double)a[i * n + p] * a[j * n + p];
                else for (int p = 0; p < m; p++) s += (double)a[p * n + i] * a[p * n + j];
                g[i * k + j] = s;
            }
        return TridiagonalEigenvalues.Compute(g, k).Select(l => Math.Sqrt(Math.Max(l, 0))).ToArray();
    }

    /// <summary>‖A − Â‖F for the factors' Â = U diag(S) Vᵀ, in float64.</summary>
    private static double Residual(float[] a, LowRankFactors f)
    {
        var approx = new float[a.Length];
        f.AddTo(approx);
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += ((double)a[i] - approx[i]) * ((double)a[i] - approx[i]);
        return Math.Sqrt(s);
    }

    [TestMethod]
    public void RayleighRitzEigensolverHandWorked3x3()
    {
        // [[2,0,0],[0,3,4],[0,4,9]]: the block [3 4; 4 9] has trace 12 and determinant 11, so λ = 6 ± √25 = 11, 1.
        // Eigenvalues (11, 2, 1); vectors (0, 1, 2)/√5, (1, 0, 0), (0, 2, −1)/√5 up to sign.
        double[] a = [2, 0, 0, 0, 3, 4, 0, 4, 9];
        var w = new double[3];
        var v = new double[9];
        DivideConquerEigen.Decompose(a, 3, w, v);
        CollectionAssert.AreEqual(new[] { 11.0, 2.0, 1.0 }, w.Select(x => Math.Round(x, 12)).ToArray());
        double s5 = 1 / Math.Sqrt(5);
        double[][] expected = [[0, s5, 2 * s5], [1, 0, 0], [0, 2 * s5, -s5]];
        for (int j = 0; j < 3; j++)
        {
            double sign = Math.Sign(Enumerable.Range(0, 3).Sum(i => v[j * 3 + i] * expected[j][i]));
            for (int i = 0; i < 3; i++) Assert.AreEqual(expected[j][i], sign * v[j * 3 + i], 1e-12, $"vector {j} entry {i}");
        }
    }

    [TestMethod]
    public void RayleighRitzEigensolverMatchesJacobiAndReconstructs()
    {
        // The solver of the Rayleigh–Ritz step (divide and conquer). Sizes through the Householder edge cases (1, 2, 3)
        // and ones where a column is already reduced (the block-diagonal case zeroes the couplings of the second block
        // to the first).
        foreach (int n in new[] { 1, 2, 3, 17, 130 })
        {
            var g = Gaussian(n * n, (ulong)n);
            var a = new double[n * n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) a[i * n + j] = g[i * n + j] + g[j * n + i];
            if (n == 17) for (int i = 0; i < 8; i++) for (int j = 8; j < n; j++) a[i * n + j] = a[j * n + i] = 0;
            var values = new double[n];
            var rows = new double[n * n];
            DivideConquerEigen.Decompose((double[])a.Clone(), n, values, rows);
            var jv = new double[n];
            var jr = new double[n * n];
            SymmetricEigen.DecomposeInPlace((double[])a.Clone(), n, jv, jr);
            double scale = Math.Abs(jv[0]) + Math.Abs(jv[^1]);
            for (int j = 0; j < n; j++)
            {
                Assert.AreEqual(jv[j], values[j], 1e-12 * scale, $"n={n}: eigenvalue {j}");
                if (j > 0) Assert.IsTrue(values[j - 1] >= values[j], "eigenvalues descend");
            }
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    double dot = 0, rec = 0;
                    for (int t = 0; t < n; t++)
                    {
                        dot += rows[i * n + t] * rows[j * n + t];
                        rec += rows[t * n + i] * values[t] * rows[t * n + j];
                    }
                    Assert.AreEqual(i == j ? 1.0 : 0.0, dot, 1e-12, $"n={n}: rows {i}, {j} orthonormal");
                    Assert.AreEqual(a[i * n + j], rec, 1e-12 * scale, $"n={n}: V diag(λ) Vᵀ at ({i},{j})");
                }
        }
    }

    [TestMethod]
    public void FullSketchIsTheExactTruncation()
    {
        // With r + p ≥ min(m, n) the subspace is the whole short side: the result is the exact rank-r truncation,
        // ‖A − Â_r‖F = √(Σ_{j>r} σ_j²) to float32 rounding, for wide and tall A.
        foreach (var (m, n) in new[] { (40, 70), (70, 40) })
        {
            var a = Gaussian(m * n, 5);
            var sigma = ExactSingularValues(a, m, n);
            int r = 6;
            double exact = Math.Sqrt(sigma.Skip(r).Sum(s => s * s));
            var f = GramSubspaceSvd.Compute(a, m, n, r, oversampling: 64, iterations: 2, seed: 3);
            Assert.AreEqual(exact, Residual(a, f), 1e-5 * exact, $"{m}x{n}");
            for (int j = 0; j < r; j++) Assert.AreEqual(sigma[j], f.S[j], 1e-4 * sigma[0], $"{m}x{n}: σ_{j}");
        }
    }

    [TestMethod]
    public void MeetsCartsResidualCriterionOnLowRankPlusNoise()
    {
        // CART's criterion (‖A − Â_r‖F − ‖A − A_r‖F) / ‖A − A_r‖F ≤ 1e-3 with the defaults (CART's: p = 96, q = 11, filter
        // degree 2) at r = ⌊0.12·min(m, n)⌋, the cut inside the flat noise tail, for wide and tall A and pure noise.
        foreach (var (m, n, noiseOnly) in new[] { (200, 500, false), (500, 200, false), (256, 256, true) })
        {
            var a = noiseOnly ? Gaussian(m * n, 11) : LowRankPlusNoise(m, n, 21);
            int r = (int)Math.Floor(0.12 * Math.Min(m, n));
            double exact = Math.Sqrt(ExactSingularValues(a, m, n).Skip(r).Sum(s => s * s));
            var f = GramSubspaceSvd.Compute(a, m, n, r, seed: 9);
            double excess = (Residual(a, f) - exact) / exact;
            Assert.IsTrue(excess < 1e-3, $"{m}x{n} noise-only={noiseOnly}: residual excess {excess:E2}");
            Assert.IsTrue(excess > -1e-5, $"{m}x{n}: below the optimum by {excess:E2}, which no rank-{r} matrix can be");
        }
    }

    [TestMethod]
    public void DeterministicOddAndThreadIndependent()
    {
        // Same seed → same bits; lowrank(−A) = −lowrank(A) exactly (G is the same, every later product flips sign), which
        // is what makes 2-model CART cancel to weight averaging; 1 and 2 GEMM threads give the same bits.
        foreach (var (m, n) in new[] { (120, 300), (300, 120) })
        {
            var a = LowRankPlusNoise(m, n, 31);
            var neg = a.Select(x => -x).ToArray();
            var f1 = GramSubspaceSvd.Compute(a, m, n, 14, seed: 4, maxThreads: 1);
            var f2 = GramSubspaceSvd.Compute(a, m, n, 14, seed: 4, maxThreads: 2);
            var fn = GramSubspaceSvd.Compute(neg, m, n, 14, seed: 4, maxThreads: 1);
            var p1 = new float[m * n];
            var p2 = new float[m * n];
            var pn = new float[m * n];
            f1.AddTo(p1);
            f2.AddTo(p2);
            fn.AddTo(pn);
            for (int i = 0; i < p1.Length; i++)
            {
                Assert.AreEqual(BitConverter.SingleToInt32Bits(p1[i]), BitConverter.SingleToInt32Bits(p2[i]), $"{m}x{n}: 1 vs 2 threads at {i}");
                Assert.AreEqual(BitConverter.SingleToInt32Bits(-p1[i]), BitConverter.SingleToInt32Bits(pn[i]), $"{m}x{n}: lowrank(−A) ≠ −lowrank(A) at {i}");
            }
        }
    }

    [TestMethod]
    public void ChebyshevFilterOfDegreeTwoConvergesFasterThanThePowerIteration()
    {
        // A = Σ σ_j u_j v_jᵀ with orthonormal u (m), v (n) and a slowly decaying spectrum σ_j = 0.995^j (λ_r / λ_{l+1} ≈ 1.27, as CART meets), so A_r is known
        // exactly. With the same q = 12 products by G, the degree-2 filter must bring Â_r at least twice as close to A_r
        // (e2 = ‖Â_r − A_r‖F / ‖A_r‖F) as degree 1 (the shifted power iteration), for wide and tall A.
        foreach (var (m, n) in new[] { (120, 300), (300, 120) })
        {
            int k = Math.Min(m, n), r = 14;
            var u = Gaussian(k * m, 41);
            var v = Gaussian(k * n, 42);
            RowOrthonormalizer.Orthonormalize(u, k, m);
            RowOrthonormalizer.Orthonormalize(v, k, n);
            var us = new float[m * k];      // (m, k) U diag(σ)
            for (int j = 0; j < k; j++)
                for (int i = 0; i < m; i++) us[i * k + j] = u[j * m + i] * MathF.Pow(0.995f, j);
            var a = new float[m * n];
            Gemm.Multiply(false, false, m, n, k, 1f, us, k, v, n, 0f, a, n);
            var exact = new float[m * n];   // A_r from the first r triplets
            Gemm.Multiply(false, false, m, n, r, 1f, us, k, v, n, 0f, exact, n);
            double E2(int degree)
            {
                var f = GramSubspaceSvd.Compute(a, m, n, r, oversampling: 24, iterations: 12, seed: 5, degree: degree);
                var approx = new float[m * n];
                f.AddTo(approx);
                double diff = 0, norm = 0;
                for (int i = 0; i < approx.Length; i++)
                {
                    diff += Math.Pow((double)approx[i] - exact[i], 2);
                    norm += (double)exact[i] * exact[i];
                }
                return Math.Sqrt(diff / norm);
            }
            double power = E2(1), chebyshev = E2(2);
            Assert.IsTrue(chebyshev < 0.5 * power, $"{m}x{n}: e2 with degree 2 {chebyshev:E2}, with degree 1 {power:E2}");
        }
    }
}
