using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Tests;

[TestClass]
public sealed class LinearAlgebraTests
{
    private static float[] Gaussian(int length, ulong seed, float scale = 1f)
    {
        var x = new float[length];
        new SeededRandom(seed).FillGaussian(x, scale);
        return x;
    }

    /// <summary>C (m, n) = A (m, k) · B (k, n), float64 accumulation.</summary>
    private static double[] MatMul(float[] a, float[] b, int m, int k, int n)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double)a[i * k + p] * b[p * n + j];
                c[i * n + j] = s;
            }
        return c;
    }

    /// <summary>max |XᵀX − I| over the (cols, cols) Gram matrix of the columns of X (rows, cols).</summary>
    private static double OrthonormalityError(float[] x, int rows, int cols)
    {
        double worst = 0;
        for (int i = 0; i < cols; i++)
            for (int j = 0; j < cols; j++)
            {
                double s = 0;
                for (int r = 0; r < rows; r++) s += (double)x[r * cols + i] * x[r * cols + j];
                worst = Math.Max(worst, Math.Abs(s - (i == j ? 1 : 0)));
            }
        return worst;
    }

    /// <summary>Row i of X (rows, cols) projected on the rows of Q (rows, cols): Σ_t (x_i·q_t) q_t, in float64.</summary>
    private static double[] ProjectRow(float[] x, float[] q, int rows, int cols, int i)
    {
        var projection = new double[cols];
        for (int t = 0; t < rows; t++)
        {
            double dot = 0;
            for (int c = 0; c < cols; c++) dot += (double)x[i * cols + c] * q[t * cols + c];
            for (int j = 0; j < cols; j++) projection[j] += dot * q[t * cols + j];
        }
        return projection;
    }

    private static float[] Transpose(float[] x, int rows, int cols)
    {
        var t = new float[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j];
        return t;
    }

    // ---------- QR ----------

    [TestMethod]
    public void QrHandWorked2x2()
    {
        // A = [3 1; 4 2]. Column 1 (3, 4) has norm 5: q1 = (0.6, 0.8), r11 = 5.
        // r12 = q1·(1, 2) = 0.6 + 1.6 = 2.2; (1, 2) − 2.2·q1 = (−0.32, 0.24), norm 0.4: q2 = (−0.8, 0.6), r22 = 0.4.
        float[] a = [3, 1, 4, 2];
        var q = new float[4];
        var r = new float[4];
        HouseholderQr.Factor(a, 2, 2, q, r);
        float[] qExpected = [0.6f, -0.8f, 0.8f, 0.6f], rExpected = [5f, 2.2f, 0f, 0.4f];
        for (int i = 0; i < 4; i++)
        {
            Assert.AreEqual(qExpected[i], q[i], 1e-6f, $"Q[{i}]");
            Assert.AreEqual(rExpected[i], r[i], 1e-6f, $"R[{i}]");
        }
    }

    [TestMethod]
    public void QrOrthonormalTriangularAndReconstructs()
    {
        foreach (var (m, n) in new[] { (50, 20), (7, 7), (300, 64) })
        {
            var a = Gaussian(m * n, (ulong)(m * 100 + n));
            var q = new float[m * n];
            var r = new float[n * n];
            HouseholderQr.Factor(a, m, n, q, r);
            Assert.IsTrue(OrthonormalityError(q, m, n) < 2e-6, $"QᵀQ ≠ I for {m}x{n}");
            for (int i = 0; i < n; i++)
            {
                Assert.IsTrue(r[i * n + i] >= 0, "R diagonal must be non-negative");
                for (int j = 0; j < i; j++) Assert.AreEqual(0f, r[i * n + j], $"R[{i},{j}] below the diagonal");
            }
            var qr = MatMul(q, r, m, n, n);
            for (int i = 0; i < m * n; i++) Assert.AreEqual(a[i], qr[i], 1e-5, $"A − QR at {i} for {m}x{n}");
        }
    }

    [TestMethod]
    public void QrRankDeficientStillOrthonormal()
    {
        // Column 2 = 2 · column 0, column 3 = 0.
        int m = 6, n = 4;
        var a = Gaussian(m * n, 77);
        for (int i = 0; i < m; i++) { a[i * n + 2] = 2 * a[i * n]; a[i * n + 3] = 0; }
        var q = new float[m * n];
        var r = new float[n * n];
        HouseholderQr.Factor(a, m, n, q, r);
        Assert.IsTrue(OrthonormalityError(q, m, n) < 1e-6);
        var qr = MatMul(q, r, m, n, n);
        for (int i = 0; i < m * n; i++) Assert.AreEqual(a[i], qr[i], 1e-5);
        Assert.AreEqual(0f, r[3 * n + 3], 1e-6f);
    }

    // ---------- Cholesky ----------

    [TestMethod]
    public void CholeskyHandWorked2x2()
    {
        // A = [4 2; 2 3]: L11 = √4 = 2, L21 = 2/2 = 1, L22 = √(3 − 1²) = √2.
        // A⁻¹ = (1/8)[3 −2; −2 4] (det 12 − 4 = 8).
        // b1 = (2, 1): x1 = (1/8)(6 − 2, −4 + 4) = (0.5, 0).  b2 = (0, 8): x2 = (1/8)(−16, 32) = (−2, 4).
        float[] a = [4, 2, 2, 3];
        var l = new float[4];
        Cholesky.Factor(a, 2, l);
        Assert.AreEqual(2f, l[0], 1e-7f);
        Assert.AreEqual(0f, l[1]);
        Assert.AreEqual(1f, l[2], 1e-7f);
        Assert.AreEqual(MathF.Sqrt(2f), l[3], 1e-7f);
        float[] b = [2, 0, 1, 8]; // (2, 2): columns are b1, b2
        var x = new float[4];
        Cholesky.Solve(a, 2, b, 2, x);
        float[] expected = [0.5f, -2f, 0f, 4f];
        for (int i = 0; i < 4; i++) Assert.AreEqual(expected[i], x[i], 1e-6f, $"X[{i}]");
    }

    [TestMethod]
    public void CholeskySolveResidualIsSmall()
    {
        // A = G Gᵀ + n·I is SPD; solve three right-hand sides at once.
        int n = 40, nrhs = 3;
        var g = Gaussian(n * n, 5);
        var a = new float[n * n];
        var gg = MatMul(g, Transpose(g, n, n), n, n, n);
        for (int i = 0; i < n * n; i++) a[i] = (float)gg[i] + (i % (n + 1) == 0 ? n : 0);
        var b = Gaussian(n * nrhs, 6);
        var x = new float[n * nrhs];
        Cholesky.Solve(a, n, b, nrhs, x);
        var ax = MatMul(a, x, n, n, nrhs);
        for (int i = 0; i < n * nrhs; i++) Assert.AreEqual(b[i], ax[i], 1e-4, $"residual at {i}");
    }

    [TestMethod]
    public void CholeskyRejectsIndefinite()
    {
        // [1 2; 2 1] has eigenvalues 3 and −1: pivot 1 = 1 − 2² = −3.
        var ex = Assert.ThrowsExactly<ArgumentException>(() => Cholesky.Factor([1f, 2f, 2f, 1f], 2, new float[4]));
        StringAssert.Contains(ex.Message, "not positive definite");
        Assert.ThrowsExactly<ArgumentException>(() => Cholesky.Solve([0f, 0f, 0f, 1f], 2, [1f, 1f], 1, new float[2]));
    }

    // ---------- Symmetric eigen ----------

    [TestMethod]
    public void EigenHandWorked2x2()
    {
        // [2 1; 1 2]: λ = 2 ± 1 → (3, 1), vectors (1, 1)/√2 and (1, −1)/√2 (up to sign).
        var w = new float[2];
        var v = new float[4];
        SymmetricEigen.Decompose([2f, 1f, 1f, 2f], 2, w, v);
        Assert.AreEqual(3f, w[0], 1e-6f);
        Assert.AreEqual(1f, w[1], 1e-6f);
        float h = 1f / MathF.Sqrt(2f);
        Assert.AreEqual(h, Math.Abs(v[0]), 1e-6f);
        Assert.AreEqual(v[0], v[2], 1e-6f);     // column 0 ∝ (1, 1)
        Assert.AreEqual(-v[1], v[3], 1e-6f);    // column 1 ∝ (1, −1)
    }

    [TestMethod]
    public void EigenHandWorked3x3()
    {
        // [[2,0,0],[0,3,4],[0,4,9]]: the block [3 4; 4 9] has trace 12, det 27 − 16 = 11, so λ = 6 ± √(36 − 11) = 11, 1.
        // Eigenvalues (11, 2, 1); vectors (0, 1, 2)/√5 (since [3 4; 4 9](1, 2) = (11, 22)), (1, 0, 0), (0, 2, −1)/√5.
        var w = new float[3];
        var v = new float[9];
        SymmetricEigen.Decompose([2, 0, 0, 0, 3, 4, 0, 4, 9], 3, w, v);
        Assert.AreEqual(11f, w[0], 1e-5f);
        Assert.AreEqual(2f, w[1], 1e-5f);
        Assert.AreEqual(1f, w[2], 1e-5f);
        float s5 = 1f / MathF.Sqrt(5f);
        float[][] expected = [[0, s5, 2 * s5], [1, 0, 0], [0, 2 * s5, -s5]];
        for (int j = 0; j < 3; j++)
        {
            float sign = Math.Sign(v[0 * 3 + j] + v[1 * 3 + j] + v[2 * 3 + j]) * Math.Sign(expected[j].Sum());
            for (int i = 0; i < 3; i++) Assert.AreEqual(expected[j][i], sign * v[i * 3 + j], 1e-6f, $"vector {j} entry {i}");
        }
    }

    [TestMethod]
    public void EigenReconstructsRandomSymmetric()
    {
        int n = 30;
        var g = Gaussian(n * n, 9);
        var a = new float[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) a[i * n + j] = g[i * n + j] + g[j * n + i];
        var w = new float[n];
        var v = new float[n * n];
        SymmetricEigen.Decompose(a, n, w, v);
        for (int j = 1; j < n; j++) Assert.IsTrue(w[j - 1] >= w[j], "eigenvalues must descend");
        Assert.IsTrue(OrthonormalityError(v, n, n) < 1e-6);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int t = 0; t < n; t++) s += (double)v[i * n + t] * w[t] * v[j * n + t];
                Assert.AreEqual(a[i * n + j], s, 2e-5, $"V diag(w) Vᵀ at ({i},{j})");
            }
        // The tridiagonal-QL eigenvalue path agrees with Jacobi.
        var ad = a.Select(x => (double)x).ToArray();
        var ql = TridiagonalEigenvalues.Compute(ad, n);
        for (int j = 0; j < n; j++) Assert.AreEqual(w[j], ql[j], 1e-5, $"eigenvalue {j}");
    }

    // ---------- SVD ----------

    [TestMethod]
    public void SvdRankOneHandWorked()
    {
        // A = u vᵀ with u = (1, 2, 2) (‖u‖ = 3), v = (3, 4) (‖v‖ = 5): A = [[3,4],[6,8],[6,8]], σ = (15, 0),
        // U[:,0] = ±(1, 2, 2)/3, Vᵀ[0] = ±(3, 4)/5 with the same sign; U still has orthonormal columns.
        float[] a = [3, 4, 6, 8, 6, 8];
        var u = new float[6];
        var s = new float[2];
        var vt = new float[4];
        JacobiSvd.Decompose(a, 3, 2, u, s, vt);
        Assert.AreEqual(15f, s[0], 1e-5f);
        Assert.AreEqual(0f, s[1], 1e-5f);
        float sign = Math.Sign(u[0]);
        Assert.AreEqual(1f / 3, sign * u[0], 1e-6f);
        Assert.AreEqual(2f / 3, sign * u[2], 1e-6f);
        Assert.AreEqual(2f / 3, sign * u[4], 1e-6f);
        Assert.AreEqual(0.6f, sign * vt[0], 1e-6f);
        Assert.AreEqual(0.8f, sign * vt[1], 1e-6f);
        Assert.IsTrue(OrthonormalityError(u, 3, 2) < 1e-6);
        Assert.IsTrue(OrthonormalityError(Transpose(vt, 2, 2), 2, 2) < 1e-6);
    }

    [TestMethod]
    public void SvdDiagonalHandWorked()
    {
        // diag(1, −3, 2): σ = (3, 2, 1); the −3 goes into the sign of a singular vector pair.
        float[] a = [1, 0, 0, 0, -3, 0, 0, 0, 2];
        var u = new float[9];
        var s = new float[3];
        var vt = new float[9];
        JacobiSvd.Decompose(a, 3, 3, u, s, vt);
        CollectionAssert.AreEqual(new float[] { 3, 2, 1 }, s);
        // U[:,0] ⊗ Vᵀ[0] must be −e1 e1ᵀ: U[1,0]·Vᵀ[0,1] = −1.
        Assert.AreEqual(-1f, u[1 * 3 + 0] * vt[0 * 3 + 1], 1e-6f);
        Assert.AreEqual(1f, u[2 * 3 + 1] * vt[1 * 3 + 2], 1e-6f);
        Assert.AreEqual(1f, u[0 * 3 + 2] * vt[2 * 3 + 0], 1e-6f);
    }

    [TestMethod]
    public void SvdReconstructsTallAndWide()
    {
        foreach (var (m, n) in new[] { (40, 12), (5, 17), (33, 33) })
        {
            int k = Math.Min(m, n);
            var a = Gaussian(m * n, (ulong)(m * 7 + n));
            var u = new float[m * k];
            var s = new float[k];
            var vt = new float[k * n];
            JacobiSvd.Decompose(a, m, n, u, s, vt);
            for (int j = 1; j < k; j++) Assert.IsTrue(s[j - 1] >= s[j]);
            Assert.IsTrue(OrthonormalityError(u, m, k) < 1e-6, $"U not orthonormal {m}x{n}");
            Assert.IsTrue(OrthonormalityError(Transpose(vt, k, n), n, k) < 1e-6, $"V not orthonormal {m}x{n}");
            var us = new float[m * k];
            for (int i = 0; i < m; i++)
                for (int j = 0; j < k; j++) us[i * k + j] = u[i * k + j] * s[j];
            var rec = MatMul(us, vt, m, k, n);
            for (int i = 0; i < m * n; i++) Assert.AreEqual(a[i], rec[i], 1e-5, $"U S Vᵀ at {i} for {m}x{n}");
        }
    }

    [TestMethod]
    public void ProcrustesRecoversKnownRotation()
    {
        // Q0 = orthogonal factor of a Gaussian 6×6; F = Q0 G; M = F Gᵀ = Q0 (G Gᵀ) with G Gᵀ SPD, so U Vᵀ of M is Q0.
        int d = 6, count = 20;
        var q0 = new float[d * d];
        HouseholderQr.Factor(Gaussian(d * d, 41), d, d, q0, new float[d * d]);
        var g = Gaussian(d * count, 42);
        var f = MatMul(q0, g, d, d, count).Select(x => (float)x).ToArray();
        var m = MatMul(f, Transpose(g, d, count), d, count, d).Select(x => (float)x).ToArray();
        var q = new float[d * d];
        Procrustes.Solve(m, d, q);
        for (int i = 0; i < d * d; i++) Assert.AreEqual(q0[i], q[i], 1e-5f, $"Q[{i}]");
    }

    // ---------- Randomized SVD ----------

    /// <summary>A (m, n) = X diag(s) Yᵀ + σ_n N: rank 40 with s_j = 10·0.92^j, X, Y Gaussian / √dim, N standard Gaussian.</summary>
    internal static float[] LowRankPlusNoise(int m, int n, ulong seed, int signalRank = 40, float noise = 0.02f)
    {
        var x = Gaussian(m * signalRank, seed, 1f / MathF.Sqrt(m));       // (m, 40)
        var yt = Gaussian(signalRank * n, seed + 1, 1f / MathF.Sqrt(n));  // (40, n)
        for (int i = 0; i < m; i++)
            for (int j = 0; j < signalRank; j++) x[i * signalRank + j] *= 10f * MathF.Pow(0.92f, j);
        var a = Gaussian(m * n, seed + 2, noise);                          // (m, n) noise
        Gemm.Multiply(false, false, m, n, signalRank, 1f, x, signalRank, yt, n, 1f, a, n);
        return a;
    }

    /// <summary>‖A − A_r‖F of the exact rank-r truncation: √(Σ_{j≥r} λ_j(A Aᵀ)), A Aᵀ and its eigenvalues in float64 (m ≤ n).</summary>
    internal static double ExactTailNorm(float[] a, int m, int n, int r)
    {
        var ad = a.Select(x => (double)x).ToArray();
        var gram = new double[m * m];
        for (int i = 0; i < m; i++)
            for (int j = 0; j <= i; j++)
                gram[i * m + j] = gram[j * m + i] = System.Numerics.Tensors.TensorPrimitives.Dot(ad.AsSpan(i * n, n), ad.AsSpan(j * n, n));
        var lambda = TridiagonalEigenvalues.Compute(gram, m);
        double tail = 0;
        for (int j = r; j < m; j++) tail += Math.Max(lambda[j], 0);
        return Math.Sqrt(tail);
    }

    /// <summary>‖A − U S Vᵀ‖F with the difference formed by <see cref="LowRankFactors.AddTo"/>.</summary>
    private static double ResidualNorm(float[] a, LowRankFactors f)
    {
        var d = (float[])a.Clone();
        f.AddTo(d, -1f);
        double s = 0;
        foreach (float x in d) s += (double)x * x;
        return Math.Sqrt(s);
    }

    private static void CheckCartCriterion(int m, int n, ulong seed)
    {
        int r = (int)Math.Floor(0.12 * Math.Min(m, n)); // 92 for min = 768
        var a = LowRankPlusNoise(m, n, seed);
        var f = RandomizedSvd.Compute(a, m, n, r, seed: 7);
        double exact = ExactTailNorm(a, m, n, r);
        double got = ResidualNorm(a, f);
        double excess = (got - exact) / exact;
        Console.WriteLine($"{m}x{n} r={r}: ‖A−Â‖={got:G9} ‖A−A_r‖={exact:G9} excess={excess:E3}");
        Assert.IsTrue(excess <= 1e-3, $"CART criterion failed: excess {excess:E3} > 1e-3");
        Assert.IsTrue(excess > -1e-5, $"beat the optimal truncation by {excess:E3}: the reference is wrong");
        Assert.IsTrue(OrthonormalityError(f.U, m, r) < 1e-5);
        Assert.IsTrue(OrthonormalityError(Transpose(f.Vt, r, n), n, r) < 1e-5);
    }

    [TestMethod]
    public void RandomizedSvdMeetsCartCriterionSquare() => CheckCartCriterion(768, 768, 100);

    // About 1 s in Release (the CI configuration), 10–20 s in Debug.
    [TestMethod]
    public void RandomizedSvdMeetsCartCriterionWide() => CheckCartCriterion(768, 3072, 200);

    [TestMethod]
    public void RandomizedSvdIsDeterministicAndExactWhenSketchCoversAll()
    {
        int m = 20, n = 30, r = 5;
        var a = LowRankPlusNoise(m, n, 300, signalRank: 8, noise: 0.05f);
        var f1 = RandomizedSvd.Compute(a, m, n, r, seed: 11);
        var f2 = RandomizedSvd.Compute(a, m, n, r, seed: 11);
        CollectionAssert.AreEqual(f1.U, f2.U);
        CollectionAssert.AreEqual(f1.S, f2.S);
        CollectionAssert.AreEqual(f1.Vt, f2.Vt);
        // r + oversampling ≥ min(m, n): the sketch spans A's whole range, so S equals the exact singular values.
        var u = new float[m * m];
        var s = new float[m];
        var vt = new float[m * n];
        JacobiSvd.Decompose(a, m, n, u, s, vt);
        for (int j = 0; j < r; j++) Assert.AreEqual(s[j], f1.S[j], 1e-5f * s[0], $"σ_{j}");
    }

    [TestMethod]
    public void RandomizedSvdOfExactlyLowRankMatrixUsesFallbacksAndReconstructs()
    {
        // A (20, 30) has rank 3 < r = 5 < l = 20: the sketch is rank-deficient, so CholeskyQR falls back to
        // Householder and B Bᵀ is singular, so the small SVD falls back to the eigensolver; A is still reproduced.
        int m = 20, n = 30;
        var x = Gaussian(m * 3, 61);
        var y = Gaussian(3 * n, 62);
        var a = MatMul(x, y, m, 3, n).Select(v => (float)v).ToArray();
        var f = RandomizedSvd.Compute(a, m, n, 5, seed: 3);
        Assert.IsTrue(ResidualNorm(a, f) < 1e-5 * Math.Sqrt(a.Sum(v => (double)v * v)), "rank-3 matrix not reproduced");
        Assert.AreEqual(0f, f.S[3], 1e-4f * f.S[0]);
        Assert.AreEqual(0f, f.S[4], 1e-4f * f.S[0]);
    }

    [TestMethod]
    public void RowOrthonormalizerKeepsSpanOnBothPaths()
    {
        foreach (bool deficient in new[] { false, true })
        {
            int rows = 12, cols = 50;
            var x = Gaussian(rows * cols, 71);
            if (deficient) for (int j = 0; j < cols; j++) x[5 * cols + j] = x[2 * cols + j] - x[7 * cols + j]; // row 5 in span
            var q = (float[])x.Clone();
            RowOrthonormalizer.Orthonormalize(q, rows, cols);
            Assert.IsTrue(OrthonormalityError(Transpose(q, rows, cols), cols, rows) < 1e-5, $"rows not orthonormal (deficient={deficient})");
            if (deficient) continue;
            // Each original row is reproduced by its projection on the new rows: x_i = Σ_t (x_i·q_t) q_t.
            for (int i = 0; i < rows; i++)
            {
                var projection = ProjectRow(x, q, rows, cols, i);
                for (int j = 0; j < cols; j++) Assert.AreEqual(x[i * cols + j], projection[j], 1e-4);
            }
        }
    }

    [TestMethod]
    [DataRow(2, "Cholesky")]
    [DataRow(8, "Shifted")]
    [DataRow(16, "Householder")]
    public void RowOrthonormalizerPathFollowsTheConditioningOfAFilteredBlock(int degree, string expected)
    {
        // What a filter of degree d hands the orthonormaliser: X = Ω Gᵈ with G = diag(0.9^j) (64 columns), Ω Gaussian
        // (12, 64). The larger d, the more every row is dominated by the first columns: at d = 2 plain CholeskyQR holds; at
        // d = 8 its pivots fail (relative ≤ 1e-4) but X Xᵀ + 1e-5·max diag·I factors, so the shifted pass runs; at d = 16
        // that fails too and Householder takes over. Every path must return an orthonormal basis of the span of X (each
        // row of X reproduced by its projection).
        int rows = 12, cols = 64;
        var x = Gaussian(rows * cols, 81);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) x[i * cols + j] *= (float)Math.Pow(0.9, degree * j);
        var q = (float[])x.Clone();
        Assert.AreEqual(expected, RowOrthonormalizer.Orthonormalize(q, rows, cols).ToString());
        Assert.IsTrue(OrthonormalityError(Transpose(q, rows, cols), cols, rows) < 1e-5, "rows not orthonormal");
        for (int i = 0; i < rows; i++)
        {
            double norm = 0, residual = 0;
            var projection = ProjectRow(x, q, rows, cols, i);
            for (int j = 0; j < cols; j++)
            {
                norm += (double)x[i * cols + j] * x[i * cols + j];
                residual += (x[i * cols + j] - projection[j]) * (x[i * cols + j] - projection[j]);
            }
            Assert.IsTrue(Math.Sqrt(residual / norm) < 1e-5, $"row {i} left the span: {Math.Sqrt(residual / norm):E2}");
        }
    }

    [TestMethod]
    public void AddLowRankHandWorked()
    {
        // U = [1; 0], S = [2], Vᵀ = [3 4]: alpha = 0.5 adds 0.5·2·[3 4; 0 0] = [3 4; 0 0] to D = [1 1; 1 1].
        var f = new LowRankFactors(2, 2, 1, [1f, 0f], [2f], [3f, 4f]);
        float[] d = [1, 1, 1, 1];
        RandomizedSvd.AddLowRank(f, 0.5f, d);
        CollectionAssert.AreEqual(new float[] { 4, 5, 1, 1 }, d);
        Assert.ThrowsExactly<ArgumentException>(() => RandomizedSvd.Compute(new float[6], 2, 3, 3));
    }

    [TestMethod]
    public void GaussianRandomIsSeededAndStandard()
    {
        var x = Gaussian(200_000, 1);
        var y = Gaussian(200_000, 1);
        CollectionAssert.AreEqual(x, y);
        double mean = x.Average(v => (double)v), var = x.Average(v => (double)v * v) - mean * mean;
        Assert.AreEqual(0.0, mean, 0.01);    // standard error 1/√200000 ≈ 0.0022
        Assert.AreEqual(1.0, var, 0.02);
        Assert.AreNotEqual(x[0], Gaussian(1, 2)[0]);
    }
}
