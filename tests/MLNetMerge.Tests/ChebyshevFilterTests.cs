using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Tests;

[TestClass]
public sealed class ChebyshevFilterTests
{
    /// <summary>G = diag(λ) (k, k) and X = I: row i of p_d(G) X is p_d(λ_i) e_i.</summary>
    private static float[] FilterDiagonal(double[] lambda, int degree, double upper, double reference)
    {
        int k = lambda.Length;
        var g = new float[k * k];
        var x = new float[k * k];
        for (int i = 0; i < k; i++)
        {
            g[i * k + i] = (float)lambda[i];
            x[i * k + i] = 1f;
        }
        var y = new float[k * k];
        var result = ChebyshevFilter.Apply(g, null, k, x, y, productReady: false, k, degree, upper, reference, maxThreads: 1);
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                if (i != j) Assert.AreEqual(0f, result[i * k + j], $"d={degree}: off-diagonal ({i},{j})");
        return Enumerable.Range(0, k).Select(i => result[i * k + i]).ToArray();
    }

    [TestMethod]
    public void DiagonalMatrixGetsTheScaledChebyshevPolynomial()
    {
        // b = 1, ρ = 4: y = (x − ½)/½ = 2x − 1, y_ρ = 7. T_2(y) = 2y² − 1, T_3(y) = 4y³ − 3y, so T_2(7) = 97, T_3(7) = 1351.
        // λ = ½, 1, 2, 4 → y = 0, 1, 3, 7:
        //   d = 2: (T_2 = −1, 1, 17, 97) / 97
        //   d = 3: (T_3 = 0, 1, 99, 1351) / 1351
        //   d = 1: unscaled, the power step shifted by b/2: λ − ½ = 0, ½, 3/2, 7/2.
        double[] lambda = [0.5, 1, 2, 4];
        float[] d1 = FilterDiagonal(lambda, 1, 1, 4);
        float[] d2 = FilterDiagonal(lambda, 2, 1, 4);
        float[] d3 = FilterDiagonal(lambda, 3, 1, 4);
        CollectionAssert.AreEqual(new[] { 0f, 0.5f, 1.5f, 3.5f }, d1);
        double[] want2 = [-1.0 / 97, 1.0 / 97, 17.0 / 97, 1];
        double[] want3 = [0, 1.0 / 1351, 99.0 / 1351, 1];
        for (int i = 0; i < 4; i++)
        {
            Assert.AreEqual(want2[i], d2[i], 1e-6, $"d=2 at λ={lambda[i]}");
            Assert.AreEqual(want3[i], d3[i], 1e-6, $"d=3 at λ={lambda[i]}");
        }
    }

    [TestMethod]
    public void DenseMatrixMatchesTheRecurrenceInFloat64AndPackedGGivesTheSameBits()
    {
        // A random symmetric PSD G (k, k) = Z Zᵀ / k and a random block X (l, k): the filter against T_d((G − c)/e) X / T_d(y_ρ)
        // computed here by the plain recurrence T_{j+1} = 2 L T_j − T_{j−1} in float64, with the scale applied at the end.
        const int k = 96, l = 40, degree = 4;
        var z = new float[k * k];
        new SeededRandom(3).FillGaussian(z);
        var g = new float[k * k];
        Gemm.Multiply(false, true, k, k, k, 1f / k, z, k, z, k, 0f, g, k);
        for (int i = 0; i < k; i++)
            for (int j = 0; j < i; j++) g[j * k + i] = g[i * k + j];
        var x0 = new float[l * k];
        new SeededRandom(4).FillGaussian(x0);
        double b = 1.0, rho = 3.5, c = b / 2, e = b / 2;

        var prev = x0.Select(v => (double)v).ToArray();  // T_0 X (l, k), rows
        var cur = new double[l * k];                     // T_1 X = L X
        void ApplyL(double[] src, double[] dst)
        {
            for (int r = 0; r < l; r++)
                for (int j = 0; j < k; j++)
                {
                    double s = 0;
                    for (int t = 0; t < k; t++) s += src[r * k + t] * g[t * k + j];
                    dst[r * k + j] = (s - c * src[r * k + j]) / e;
                }
        }
        ApplyL(prev, cur);
        var next = new double[l * k];
        for (int j = 1; j < degree; j++)
        {
            ApplyL(cur, next);
            for (int i = 0; i < next.Length; i++) next[i] = 2 * next[i] - prev[i];
            (prev, cur, next) = (cur, next, prev);
        }
        double yRho = (rho - c) / e, tPrev = 1, tCur = yRho;
        for (int j = 1; j < degree; j++) (tPrev, tCur) = (tCur, 2 * yRho * tCur - tPrev);
        double norm = Math.Sqrt(cur.Sum(v => v * v / (tCur * tCur)));

        var x = (float[])x0.Clone();
        var y = new float[l * k];
        var plain = ChebyshevFilter.Apply(g, null, k, x, y, productReady: false, l, degree, b, rho, maxThreads: 1);
        double err = 0;
        for (int i = 0; i < cur.Length; i++) err += Math.Pow(plain[i] - cur[i] / tCur, 2);
        Assert.IsTrue(Math.Sqrt(err) < 1e-5 * norm, $"filter vs float64 recurrence: {Math.Sqrt(err) / norm:E2} relative");

        using var packed = PackedMatrix.TryCreate(Gemm.BestPath, false, g, k, k, k);
        Assert.IsNotNull(packed);
        var x2 = (float[])x0.Clone();
        var y2 = new float[l * k];
        var fromPanels = ChebyshevFilter.Apply(g, packed, k, x2, y2, productReady: false, l, degree, b, rho, maxThreads: 2);
        for (int i = 0; i < l * k; i++)
            Assert.AreEqual(BitConverter.SingleToInt32Bits(plain[i]), BitConverter.SingleToInt32Bits(fromPanels[i]), $"packed G at {i}");
    }

    [TestMethod]
    public void RefusesAnIntervalThatIsNotOne()
    {
        var g = new float[4];
        Assert.ThrowsExactly<ArgumentException>(() => ChebyshevFilter.Apply(g, null, 2, new float[4], new float[4], false, 2, 2, 0, 1, 1));
        Assert.ThrowsExactly<ArgumentException>(() => ChebyshevFilter.Apply(g, null, 2, new float[4], new float[4], false, 2, 2, 1, 1, 1));
        Assert.ThrowsExactly<ArgumentException>(() => ChebyshevFilter.Apply(g, null, 2, new float[4], new float[4], false, 2, 0, 1, 2, 1));
    }
}
