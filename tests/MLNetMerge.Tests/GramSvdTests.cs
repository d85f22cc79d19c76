using MLNetMerge.Tensors.LinearAlgebra;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

/// <summary>The symmetric eigensolver and the Gram-matrix SVD and polar factor the subspace merges run on.</summary>
[TestClass]
public sealed class GramSvdTests
{
    private const double H = 0.70710678118654752; // 1/√2

    private static double[] Copy(double[] a) => (double[])a.Clone();

    [TestMethod]
    public void EigenHandWorked2x2()
    {
        // [[2, 1], [1, 2]]: λ = 3 with (1, 1)/√2, λ = 1 with (1, −1)/√2 (signs free).
        var values = new double[2];
        var rows = new double[4];
        TridiagonalQlEigen.Decompose([2, 1, 1, 2], 2, values, rows);
        Assert.AreEqual(3, values[0], 1e-14);
        Assert.AreEqual(1, values[1], 1e-14);
        Assert.AreEqual(H, Math.Abs(rows[0]), 1e-14);
        Assert.AreEqual(rows[0], rows[1], 1e-14);
        Assert.AreEqual(-rows[2], rows[3], 1e-14);
    }

    [TestMethod]
    public void EigenHandWorked3x3WithRepeatedValue()
    {
        // J + I (J all ones, 3×3): λ = 4 with (1, 1, 1)/√3, and λ = 1 twice (any orthonormal pair ⟂ (1, 1, 1)).
        double[] a = [2, 1, 1, 1, 2, 1, 1, 1, 2];
        var values = new double[3];
        var rows = new double[9];
        TridiagonalQlEigen.Decompose(Copy(a), 3, values, rows);
        CollectionAssert.AreEqual(new[] { 4.0, 1.0, 1.0 }, values.Select(v => Math.Round(v, 12)).ToArray());
        for (int i = 0; i < 3; i++) Assert.AreEqual(1 / Math.Sqrt(3), Math.Abs(rows[i]), 1e-13);
        CheckEigenpairs(a, 3, values, rows, 1e-13);
    }

    [TestMethod]
    public void EigenOfRandomSymmetricMatchesJacobi()
    {
        const int n = 40;
        var x = Random(n * n, 17);
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) a[i * n + j] = x[i * n + j] + x[j * n + i];
        var values = new double[n];
        var rows = new double[n * n];
        TridiagonalQlEigen.Decompose(Copy(a), n, values, rows);
        var jv = new double[n];
        var jr = new double[n * n];
        SymmetricEigen.DecomposeInPlace(Copy(a), n, jv, jr);
        for (int j = 0; j < n; j++) Assert.AreEqual(jv[j], values[j], 1e-12, $"λ{j}");
        CheckEigenpairs(a, n, values, rows, 1e-12);
    }

    /// <summary>‖A v − λ v‖ and |vᵢ·vⱼ − δij| below <paramref name="tol"/> for every pair.</summary>
    private static void CheckEigenpairs(double[] a, int n, double[] values, double[] rows, double tol)
    {
        for (int j = 0; j < n; j++)
        {
            for (int i = 0; i < n; i++)
            {
                double av = 0;
                for (int k = 0; k < n; k++) av += a[i * n + k] * rows[j * n + k];
                Assert.AreEqual(values[j] * rows[j * n + i], av, tol, $"(A v)[{i}] of pair {j}");
            }
            for (int l = 0; l < n; l++)
            {
                double dot = 0;
                for (int k = 0; k < n; k++) dot += rows[j * n + k] * rows[l * n + k];
                Assert.AreEqual(j == l ? 1 : 0, dot, tol, $"v{j}·v{l}");
            }
        }
    }

    [TestMethod]
    [DataRow(30, 12)]
    [DataRow(12, 30)]
    public void ThinSvdReconstructsAndMatchesJacobi(int m, int n)
    {
        var a = Random(m * n, 5);
        var f = GramSvd.Decompose(a, m, n);
        int k = Math.Min(m, n);
        var u = new float[m * k];
        var s = new float[k];
        var vt = new float[k * n];
        JacobiSvd.Decompose(a, m, n, u, s, vt);
        for (int j = 0; j < k; j++) Assert.AreEqual(s[j], f.S[j], 1e-5 * s[0], $"σ{j}");
        for (int i = 0; i < m; i++)
            for (int c = 0; c < n; c++)
            {
                double r = 0;
                for (int j = 0; j < k; j++) r += f.U[i * k + j] * f.S[j] * f.Vt[j * n + c];
                Assert.AreEqual(a[i * n + c], r, 2e-5, $"A[{i},{c}]");
            }
    }

    [TestMethod]
    public void DecomposeRowsKeepsACompleteBasisOfARankDeficientMatrix()
    {
        // A (6, 6) of rank 2: A = a1 b1ᵀ + a2 b2ᵀ. By rows, U is a complete orthonormal basis of R^6 — its four columns
        // of σ = 0 included, spanning the complement of A's column space — while Decompose (by columns) zeroes them;
        // Vᵀ's rows at the floor are zero, and U S Vᵀ still reconstructs A.
        const int m = 6, n = 6;
        float[] a1 = Random(m, 31), b1 = Random(n, 32), a2 = Random(m, 33), b2 = Random(n, 34);
        var a = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) a[i * n + j] = a1[i] * b1[j] + 0.5f * a2[i] * b2[j];
        var f = GramSvd.DecomposeRows(a, m, n);
        Assert.IsFalse(GramSvd.IsAtFloor(f.S, 1), "rank 2");
        for (int j = 2; j < m; j++) Assert.IsTrue(GramSvd.IsAtFloor(f.S, j), $"σ{j} = {f.S[j]:G3} at the floor");
        for (int p = 0; p < m; p++)
            for (int q = 0; q < m; q++)
            {
                double d = 0;
                for (int i = 0; i < m; i++) d += f.U[i * m + p] * f.U[i * m + q];
                Assert.AreEqual(p == q ? 1.0 : 0.0, d, 1e-6, $"(UᵀU)[{p},{q}]");
            }
        for (int j = 2; j < m; j++)
        {
            double col = 0, row = 0;
            for (int i = 0; i < m; i++) col += f.U[i * m + j] * a[i * n + 0] + f.U[i * m + j] * a[i * n + 3]; // U's complement ⟂ A's columns
            for (int c = 0; c < n; c++) row = Math.Max(row, Math.Abs(f.Vt[j * n + c]));
            Assert.AreEqual(0.0, col, 1e-6, $"u{j} against A's columns");
            Assert.AreEqual(0.0, row, 0.0, $"row {j} of Vᵀ");
        }
        for (int i = 0; i < m; i++)
            for (int c = 0; c < n; c++)
            {
                double r = 0;
                for (int j = 0; j < m; j++) r += f.U[i * m + j] * f.S[j] * f.Vt[j * n + c];
                Assert.AreEqual(a[i * n + c], r, 2e-6, $"A[{i},{c}]");
            }
        var byColumns = GramSvd.Decompose(a, m, n);
        for (int i = 0; i < m; i++) Assert.AreEqual(0f, byColumns.U[i * m + 5], $"Decompose zeroes U's column of σ5 (row {i})");
        Assert.ThrowsExactly<ArgumentException>(() => GramSvd.DecomposeRows(new float[12], 4, 3));
    }

    [TestMethod]
    public void PolarHandWorked2x2()
    {
        // M = [[1, h], [0, h]], h = 1/√2, det M = h > 0. For a 2×2 with positive determinant the polar factor is
        // (M + cof M)/√det(M + cof M) = [[1 + h, h], [−h, 1 + h]] / √((1 + h)² + h²) = [[cos 22.5°, sin 22.5°],
        // [−sin 22.5°, cos 22.5°]] = [[0.92387953, 0.38268343], [−0.38268343, 0.92387953]].
        // Nuclear norm: σ1 + σ2 = √(‖M‖F² + 2|det M|) = √(2 + 2h) = 1.84775907.
        float h = (float)H;
        var p = new float[4];
        double nuclear = GramSvd.Polar([1, h, 0, h], 2, 2, p);
        AssertClose([0.92387953f, 0.38268343f, -0.38268343f, 0.92387953f], p, 1e-6);
        Assert.AreEqual(1.84775907, nuclear, 1e-6);
    }

    [TestMethod]
    public void PolarOfRankDeficientMatrixIsThePartialIsometry()
    {
        // [[1, 1], [1, 1]] = 2·u uᵀ with u = (1, 1)/√2, σ = (2, 0): the zero singular value gets no direction, so
        // P = u uᵀ = [[0.5, 0.5], [0.5, 0.5]] (an SVD library would add an arbitrary unit term for σ2); Σσ = 2.
        var p = new float[4];
        double nuclear = GramSvd.Polar([1, 1, 1, 1], 2, 2, p);
        AssertClose([0.5f, 0.5f, 0.5f, 0.5f], p, 1e-6);
        Assert.AreEqual(2, nuclear, 1e-6);
    }

    [TestMethod]
    [DataRow(25, 9)]
    [DataRow(9, 25)]
    public void PolarOfRandomMatrixIsUVtOfJacobi(int m, int n)
    {
        var a = Random(m * n, 9);
        var p = new float[m * n];
        double nuclear = GramSvd.Polar(a, m, n, p);
        int k = Math.Min(m, n);
        var u = new float[m * k];
        var s = new float[k];
        var vt = new float[k * n];
        JacobiSvd.Decompose(a, m, n, u, s, vt);
        var expected = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int c = 0; c < n; c++)
            {
                double r = 0;
                for (int j = 0; j < k; j++) r += u[i * k + j] * vt[j * n + c];
                expected[i * n + c] = (float)r;
            }
        AssertClose(expected, p, 1e-5);
        Assert.AreEqual(s.Sum(), nuclear, 1e-5 * s[0]);
    }
    [TestMethod]
    public void LeftTimesPolarHandWorked()
    {
        // X (2, 4) = diag(2, 5)·[[0.6, 0.8, 0, 0], [−0.8, 0.6, 0, 0]]: its rows are orthogonal, so polar(X) is X with the
        // scales removed, [[0.6, 0.8, 0, 0], [−0.8, 0.6, 0, 0]]. L (1, 2) = [1, 2] (m = 1 < n = 4: the folded products),
        // α = 0.5, output starting at [1, 1, 1, 1]: 1 + 0.5·(1·row 0 + 2·row 1) = [1 − 0.5, 1 + 1.0, 1, 1] = [0.5, 2, 1, 1].
        var output = new float[] { 1, 1, 1, 1 };
        GramSvd.AddLeftTimesPolar([1, 2], 1, [1.2f, 1.6f, 0, 0, -4f, 3f, 0, 0], 2, 4, 0.5f, output);
        AssertClose([0.5f, 2f, 1f, 1f], output, 1e-6);
        // A zero row of X has no direction: polar(X)'s row is zero, and L's column for it adds nothing.
        output = [1, 1, 1, 1];
        GramSvd.AddLeftTimesPolar([1, 2], 1, [1.2f, 1.6f, 0, 0, 0, 0, 0, 0], 2, 4, 1f, output);
        AssertClose([1.6f, 1.8f, 1f, 1f], output, 1e-6);
    }

    [TestMethod]
    [DataRow(7, 9, 25)]   // m < n: ((L W Σ⁻¹) Wᵀ) X
    [DataRow(30, 9, 25)]  // m ≥ n: L · polar(X) formed
    [DataRow(9, 9, 9)]
    public void LeftTimesPolarIsLTimesThePolarFactor(int m, int r, int n)
    {
        var l = Random(m * r, 11);
        var x = Random(r * n, 12);
        var p = new float[r * n];
        GramSvd.Polar(x, r, n, p);
        var start = Random(m * n, 13);
        var expected = PlusProduct(start, l, p, m, r, n, -1.5);
        var output = (float[])start.Clone();
        GramSvd.AddLeftTimesPolar(l, m, x, r, n, -1.5f, output);
        AssertClose(expected, output, 1e-5);
    }

    [TestMethod]
    public void PolarTimesRightHandWorked()
    {
        // X (4, 2) = [[1.2, −4], [1.6, 3], [0, 0], [0, 0]]: its columns 2·(0.6, 0.8, 0, 0) and 5·(−0.8, 0.6, 0, 0) are
        // orthogonal, so polar(X) = [[0.6, −0.8], [0.8, 0.6], [0, 0], [0, 0]]. R (2, 1) = [1, 2], α = 0.5, output starting at
        // [1, 1, 1, 1]: polar(X)·R = [0.6 − 1.6, 0.8 + 1.2, 0, 0] = [−1, 2, 0, 0], so [1 − 0.5, 1 + 1, 1, 1] = [0.5, 2, 1, 1].
        float[] x = [1.2f, -4f, 1.6f, 3f, 0, 0, 0, 0];
        var root = GramSvd.InverseRootOf(x, 4, 2);
        var output = new float[] { 1, 1, 1, 1 };
        GramSvd.AddPolarTimesRight(x, 4, 2, root, [1, 2], 1, 0.5f, output);
        root.Return();
        AssertClose([0.5f, 2f, 1f, 1f], output, 1e-6);
        // A zero column of X has no direction: polar(X)'s column is zero, and R's row for it adds nothing.
        float[] y = [1.2f, 0, 1.6f, 0, 0, 0, 0, 0];
        root = GramSvd.InverseRootOf(y, 4, 2);
        output = [1, 1, 1, 1];
        GramSvd.AddPolarTimesRight(y, 4, 2, root, [1, 2], 1, 1f, output);
        root.Return();
        AssertClose([1.6f, 1.8f, 1f, 1f], output, 1e-6);
    }

    [TestMethod]
    [DataRow(25, 9, 7)]
    [DataRow(25, 9, 30)]
    [DataRow(9, 9, 9)]
    public void PolarTimesRightIsThePolarFactorTimesR(int m, int r, int n)
    {
        var x = Random(m * r, 21);
        var right = Random(r * n, 22);
        var p = new float[m * r];
        GramSvd.Polar(x, m, r, p);
        var start = Random(m * n, 23);
        var expected = PlusProduct(start, p, right, m, r, n, 0.75);
        var output = (float[])start.Clone();
        var root = GramSvd.InverseRootOf(x, m, r);
        GramSvd.AddPolarTimesRight(x, m, r, root, right, n, 0.75f, output);
        root.Return();
        AssertClose(expected, output, 1e-5);
    }

    /// <summary><c>start + alpha · A B</c> for A (m, r) and B (r, n), summed in float64.</summary>
    private static float[] PlusProduct(float[] start, float[] a, float[] b, int m, int r, int n, double alpha)
    {
        var result = (float[])start.Clone();
        for (int i = 0; i < m; i++)
            for (int c = 0; c < n; c++)
            {
                double sum = 0;
                for (int j = 0; j < r; j++) sum += a[i * r + j] * b[j * n + c];
                result[i * n + c] += (float)(alpha * sum);
            }
        return result;
    }
}
