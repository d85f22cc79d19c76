using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Tests;

/// <summary>
/// The divide-and-conquer eigensolver: the secular equation on a hand-worked case, the tridiagonal solver on matrices
/// that exercise every deflation (zero couplings, equal diagonals, Wilkinson's close pairs, graded values) against the
/// QL iteration, the dense solver against Jacobi, and the float64 product against the scalar FMA loop bit for bit.
/// </summary>
[TestClass]
public sealed class DivideConquerEigenTests
{
    [TestMethod]
    public void SecularEquationSolvesATwoByTwoByHand()
    {
        // D = diag(1, 2), ρ = 1, z = (1/√2, 1/√2): D + ρ z zᵀ = [[1.5, 0.5], [0.5, 2.5]], eigenvalues 2 ∓ √0.5, with
        // eigenvectors (cos θ, sin θ) where tan θ = (λ − 1.5)/0.5.
        double r = Math.Sqrt(0.5);
        var lambda = new double[2];
        var u = new double[4];
        SecularEquation.Solve([1.0, 2.0], [r, r], 1.0, 2, lambda, u, new double[2]);
        Assert.AreEqual(2 - Math.Sqrt(0.5), lambda[0], 1e-15);
        Assert.AreEqual(2 + Math.Sqrt(0.5), lambda[1], 1e-15);
        for (int j = 0; j < 2; j++)
        {
            double t = (lambda[j] - 1.5) / 0.5, c = 1 / Math.Sqrt(1 + t * t);
            Assert.AreEqual(1.0, Math.Abs(u[j * 2] * c + u[j * 2 + 1] * t * c), 1e-15, $"eigenvector {j}");
        }
    }

    public static IEnumerable<object[]> Tridiagonals()
    {
        yield return ["random 200", Random(200, 1)];
        yield return ["random 77 (odd leaves)", Random(77, 2)];
        yield return ["zero couplings", WithZeros(Random(150, 3))];
        yield return ["equal diagonal, tiny couplings", Flat(120)];
        yield return ["Wilkinson W+ 101 (close pairs)", Wilkinson(101)];
        yield return ["graded 1e0..1e-12", Graded(130)];
    }

    [TestMethod]
    [DynamicData(nameof(Tridiagonals))]
    public void TridiagonalSolutionIsOrthonormalAndAgreesWithQl(string name, (double[] D, double[] E) t)
    {
        int n = t.D.Length;
        var d = (double[])t.D.Clone();
        var e = (double[])t.E.Clone();
        var zt = new double[n * n];
        TridiagonalDivideConquer.Solve(d, e, n, zt);
        double norm = 0;
        for (int i = 0; i < n; i++) norm = Math.Max(norm, Math.Abs(t.D[i]) + (i > 0 ? Math.Abs(t.E[i - 1]) : 0) + (i < n - 1 ? Math.Abs(t.E[i]) : 0));
        for (int j = 1; j < n; j++) Assert.IsTrue(d[j] >= d[j - 1], $"{name}: values not increasing at {j}");
        // Reference values from the QL iteration.
        var qd = (double[])t.D.Clone();
        var qe = (double[])t.E.Clone();
        qe[n - 1] = 0;
        var none = new TridiagonalQl.NoVectors();
        TridiagonalQl.Run(qd, qe, n, ref none);
        Array.Sort(qd);
        for (int j = 0; j < n; j++) Assert.AreEqual(qd[j], d[j], 1e-13 * norm, $"{name}: eigenvalue {j}");
        double orth = 0, resid = 0;
        for (int j = 0; j < n; j++)
        {
            for (int k = 0; k <= j; k++)
            {
                double dot = 0;
                for (int i = 0; i < n; i++) dot += zt[j * n + i] * zt[k * n + i];
                orth = Math.Max(orth, Math.Abs(dot - (j == k ? 1 : 0)));
            }
            for (int i = 0; i < n; i++)
            {
                double tz = t.D[i] * zt[j * n + i] + (i > 0 ? t.E[i - 1] * zt[j * n + i - 1] : 0) + (i < n - 1 ? t.E[i] * zt[j * n + i + 1] : 0);
                resid = Math.Max(resid, Math.Abs(tz - d[j] * zt[j * n + i]));
            }
        }
        Assert.IsTrue(orth <= 1e-13 * n, $"{name}: max |ZZᵀ − I| = {orth:E2}");
        Assert.IsTrue(resid <= 1e-13 * n * norm, $"{name}: max |T z − λ z| = {resid:E2} (‖T‖ {norm:E2})");
    }

    [TestMethod]
    [DataRow(40)]
    [DataRow(129)]
    public void DenseSolverAgreesWithJacobi(int n)
    {
        var rng = new SeededRandom(5);
        var x = new double[n * 2 * n];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble() - 0.5;
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int l = 0; l < 2 * n; l++) s += x[i * 2 * n + l] * x[j * 2 * n + l];
                a[i * n + j] = s;
            }
        var values = new double[n];
        var rows = new double[n * n];
        DivideConquerEigen.Decompose((double[])a.Clone(), n, values, rows);
        var jv = new double[n];
        var jr = new double[n * n];
        SymmetricEigen.DecomposeInPlace((double[])a.Clone(), n, jv, jr);
        for (int j = 0; j < n; j++)
        {
            Assert.AreEqual(jv[j], values[j], 1e-11 * jv[0], $"value {j}");
            double dot = 0;
            for (int i = 0; i < n; i++) dot += rows[j * n + i] * jr[j * n + i];
            Assert.AreEqual(1.0, Math.Abs(dot), 1e-8, $"vector {j} (gaps are wide for this Wishart-like matrix)");
        }
    }

    [TestMethod]
    [DataRow(1, 1, 1)]
    [DataRow(7, 37, 300)]     // every tail: rows mod 4, columns mod 16 and mod 8, two depth blocks
    [DataRow(16, 64, 256)]
    [DataRow(23, 40, 70)]     // 8 + 8 + 4 + 3 rows with 512-bit lanes, 6 + 6 + 6 + 4 + 1 with 256-bit
    [DataRow(101, 37, 300)]   // from 96 rows B's panels are copied first: the same chains (12 × 8 + 4 + 1 rows, 16 × 6 + 4 + 1)
    public void DoubleGemmEqualsTheScalarFmaLoop(int m, int n, int k)
    {
        var rng = new SeededRandom(9);
        int lda = k + 3, ldb = n + 5, ldc = n + 2;
        var a = new double[m * lda];
        var b = new double[k * ldb];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextDouble() - 0.5;
        for (int i = 0; i < b.Length; i++) b[i] = rng.NextDouble() - 0.5;
        var c = new double[m * ldc];
        Array.Fill(c, double.NaN);
        DoubleGemm.Multiply(m, n, k, a, lda, b, ldb, c, ldc);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s = Math.FusedMultiplyAdd(a[i * lda + p], b[p * ldb + j], s);
                Assert.AreEqual(BitConverter.DoubleToInt64Bits(s), BitConverter.DoubleToInt64Bits(c[i * ldc + j]), $"C[{i},{j}]");
            }
    }

    [TestMethod]
    [DataRow(13, 24, 9)]
    [DataRow(13, 29, 9)]  // the last 5 columns through the zero-padded tail panel, which must start from C's old values
    public void DoubleGemmAccumulatesFromTheOldValues(int m, int n, int k)
    {
        // accumulate: each C element's chain starts from its old value, so C + A B equals the scalar loop seeded with C.
        var rng = new SeededRandom(10);
        var a = new double[m * k];
        var b = new double[k * n];
        var c = new double[m * n];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextDouble() - 0.5;
        for (int i = 0; i < b.Length; i++) b[i] = rng.NextDouble() - 0.5;
        for (int i = 0; i < c.Length; i++) c[i] = rng.NextDouble() - 0.5;
        var old = (double[])c.Clone();
        DoubleGemm.Multiply(m, n, k, a, k, b, n, c, n, accumulate: true);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = old[i * n + j];
                for (int p = 0; p < k; p++) s = Math.FusedMultiplyAdd(a[i * k + p], b[p * n + j], s);
                Assert.AreEqual(BitConverter.DoubleToInt64Bits(s), BitConverter.DoubleToInt64Bits(c[i * n + j]), $"C[{i},{j}]");
            }
    }

    private static (double[] D, double[] E) Random(int n, ulong seed)
    {
        var rng = new SeededRandom(seed);
        var d = new double[n];
        var e = new double[n];
        for (int i = 0; i < n; i++) d[i] = rng.NextDouble() * 4 - 2;
        for (int i = 0; i < n - 1; i++) e[i] = rng.NextDouble() * 2 - 1;
        return (d, e);
    }

    private static (double[] D, double[] E) WithZeros((double[] D, double[] E) t)
    {
        for (int i = 9; i < t.E.Length - 1; i += 37) t.E[i] = 0;
        t.E[t.D.Length / 2 - 1] = 0;                       // exactly at the first cut
        return t;
    }

    private static (double[] D, double[] E) Flat(int n)
    {
        var d = new double[n];
        var e = new double[n];
        Array.Fill(d, 1.0);
        for (int i = 0; i < n - 1; i++) e[i] = i % 3 == 0 ? 1e-17 : 1e-9;
        return (d, e);
    }

    private static (double[] D, double[] E) Wilkinson(int n)
    {
        var d = new double[n];
        var e = new double[n];
        for (int i = 0; i < n; i++) d[i] = Math.Abs(i - (n - 1) / 2);
        for (int i = 0; i < n - 1; i++) e[i] = 1.0;
        return (d, e);
    }

    private static (double[] D, double[] E) Graded(int n)
    {
        var d = new double[n];
        var e = new double[n];
        for (int i = 0; i < n; i++) d[i] = Math.Pow(10, -12.0 * i / (n - 1));
        for (int i = 0; i < n - 1; i++) e[i] = 0.3 * Math.Sqrt(d[i] * d[i + 1]);
        return (d, e);
    }
}
