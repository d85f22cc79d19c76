using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Tests;

/// <summary>
/// The fast paths of the dense symmetric eigensolver (<see cref="TridiagonalQlEigen"/>): rotation chains applied in
/// column strips (<see cref="RotationChains"/>) and reflectors accumulated in groups, at sizes where the strips, their
/// scalar tail columns and several buffer flushes all take part.
/// </summary>
[TestClass]
public sealed class EigenSpeedPathTests
{
    /// <summary>Rotating rows pair by pair, the way the strips must reproduce bit for bit.</summary>
    private static void RotateRows(double[] z, int n, int i, double c, double s)
    {
        for (int j = 0; j < n; j++)
        {
            double x = z[i * n + j], y = z[(i + 1) * n + j];
            z[i * n + j] = c * x - s * y;
            z[(i + 1) * n + j] = s * x + c * y;
        }
    }

    [TestMethod]
    [DataRow(7)]    // scalar columns only
    [DataRow(45)]   // one strip (or two 256-bit ones) and a tail
    [DataRow(100)]  // several strips, several flushes
    public void RotationChainsGiveTheBitsOfRowByRowRotation(int n)
    {
        var rng = new Random(3);
        var z = new double[n * n];
        for (int i = 0; i < z.Length; i++) z[i] = rng.NextDouble() * 2 - 1;
        var expected = (double[])z.Clone();
        var chains = new RotationChains(z, n, capacity: 3 * n); // small, so chains are flushed mid-way
        for (int sweep = 0; sweep < 5 * n; sweep++)
        {
            int top = rng.Next(0, n - 1), bottom = rng.Next(0, top + 1);
            chains.Begin(top);
            for (int i = top; i >= bottom; i--)
            {
                double angle = rng.NextDouble() * 6.283185307179586;
                double c = Math.Cos(angle), s = Math.Sin(angle);
                chains.Add(c, s);
                RotateRows(expected, n, i, c, s);
            }
        }
        chains.Flush();
        for (int i = 0; i < z.Length; i++)
            Assert.AreEqual(BitConverter.DoubleToInt64Bits(expected[i]), BitConverter.DoubleToInt64Bits(z[i]), $"element {i}");
    }

    [TestMethod]
    public void HandWorkedTridiagonal4x4()
    {
        // The path graph's Laplacian-like tridiagonal T = tridiag(−1, 2, −1), n = 4: λ_j = 2 − 2 cos(jπ/5), j = 1..4,
        // eigenvector j has entries sin(i·jπ/5), i = 1..4 (normalised by √(5/2)).
        const int n = 4;
        double[] a = [2, -1, 0, 0, -1, 2, -1, 0, 0, -1, 2, -1, 0, 0, -1, 2];
        var values = new double[n];
        var rows = new double[n * n];
        TridiagonalQlEigen.Decompose((double[])a.Clone(), n, values, rows);
        for (int k = 0; k < n; k++)
        {
            int j = n - k; // descending: the largest is j = 4
            Assert.AreEqual(2 - 2 * Math.Cos(j * Math.PI / 5), values[k], 1e-14, $"λ{k}");
            double sign = Math.Sign(rows[k * n]);
            for (int i = 0; i < n; i++)
                Assert.AreEqual(Math.Sin((i + 1) * j * Math.PI / 5) / Math.Sqrt(2.5), sign * rows[k * n + i], 1e-14, $"v{k}[{i}]");
        }
    }

    [TestMethod]
    [DataRow(100)]
    [DataRow(161)]
    public void WishartEigenpairsAreOrthonormalAndReconstruct(int n)
    {
        // G = X Xᵀ / (2n), X (n, 2n) uniform in [−1, 1]: a spread spectrum like the merges' Gram matrices, plus a cluster
        // of four nearly equal eigenvalues (a rank-4 bump of 1e-9 on top of 5·I in one corner block) to make QL work.
        var rng = new Random(8);
        int len = 2 * n;
        var x = new double[n * len];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble() * 2 - 1;
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = 0;
                for (int l = 0; l < len; l++) s += x[i * len + l] * x[j * len + l];
                a[i * n + j] = a[j * n + i] = s / len;
            }
        for (int i = 0; i < 4; i++) a[i * n + i] += 5 + 1e-9 * i;
        var values = new double[n];
        var rows = new double[n * n];
        TridiagonalQlEigen.Decompose((double[])a.Clone(), n, values, rows);
        var jv = new double[n];
        var jr = new double[n * n];
        SymmetricEigen.DecomposeInPlace((double[])a.Clone(), n, jv, jr);
        double worstOrth = 0, r2 = 0, a2 = 0;
        for (int j = 0; j < n; j++)
        {
            Assert.AreEqual(jv[j], values[j], 1e-12 * Math.Abs(jv[0]), $"λ{j} against Jacobi");
            Assert.IsTrue(j == 0 || values[j] <= values[j - 1], "descending");
            for (int l = 0; l <= j; l++)
            {
                double dot = 0;
                for (int k = 0; k < n; k++) dot += rows[j * n + k] * rows[l * n + k];
                worstOrth = Math.Max(worstOrth, Math.Abs(dot - (j == l ? 1 : 0)));
            }
            for (int i = 0; i < n; i++)
            {
                double av = 0;
                for (int k = 0; k < n; k++) av += a[i * n + k] * rows[j * n + k];
                double d = av - values[j] * rows[j * n + i];
                r2 += d * d;
                a2 += a[i * n + j] * a[i * n + j];
            }
        }
        Assert.IsTrue(worstOrth < 1e-13, $"max |VᵀV − I| = {worstOrth:E2}");
        Assert.IsTrue(Math.Sqrt(r2 / a2) < 1e-14, $"‖A V − V Λ‖F / ‖A‖F = {Math.Sqrt(r2 / a2):E2}");
    }
}
