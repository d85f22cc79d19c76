using MLNetMerge.Merging.Methods;
using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Tests;

/// <summary>
/// ISO-CTS's two ways to one matrix (<see cref="IsoCtsUpdate"/>): on wide and square matrices the task vectors are
/// projected through a basis of the common subspace's complement and the left polar factor is taken blockwise; the tall
/// path projects with the common basis itself and takes the polar factor whole. Both are the same merge in exact
/// arithmetic, so on small matrices — where the tall path's truncated SVD covers the whole range and is exact too — they
/// must agree to float32 rounding, including when the summed task vectors are rank-deficient (at-floor singular values
/// in the common block are neither kept nor projected out).
/// </summary>
[TestClass]
public sealed class IsoCtsPathsTests
{
    private static readonly RandomizedSvdSettings Settings = new(PowerIterations: 12, Seed: 5, FilterDegree: 3);

    [TestMethod]
    [DataRow(24, 40, 3, 0.8, DisplayName = "wide 24 × 40, three tasks")]
    [DataRow(20, 20, 4, 0.5, DisplayName = "square 20 × 20, four tasks, half common")]
    public void TheComplementPathAgreesWithTheProjectionPath(int m, int n, int tasks, double fraction)
    {
        var tau = new float[tasks][];
        for (int t = 0; t < tasks; t++) tau[t] = GemmTests.Random(m * n, (ulong)(11 + t));
        AssertPathsAgree(tau, m, n, fraction);
    }

    [TestMethod]
    public void RankDeficientSumsKeepTheirTaskDirections()
    {
        // τ3 = −τ1 − τ2 + 0.5·a bᵀ + 0.25·c dᵀ: the sum has rank 2, so of the 13 common columns (r = 16, T = 3,
        // f = 0.8: task part 3·round(4/3) = 3) 11 are at the floor; the tasks keep all 14 directions outside the two.
        const int m = 16, n = 16;
        var t1 = GemmTests.Random(m * n, 21);
        var t2 = GemmTests.Random(m * n, 22);
        float[] a = GemmTests.Random(m, 23), b = GemmTests.Random(n, 24), c = GemmTests.Random(m, 25), d = GemmTests.Random(n, 26);
        var t3 = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) t3[i * n + j] = -t1[i * n + j] - t2[i * n + j] + 0.5f * a[i] * b[j] + 0.25f * c[i] * d[j];
        AssertPathsAgree([t1, t2, t3], m, n, 0.8);
    }

    [TestMethod]
    public void ACommonSizeThatLeavesTasksUnevenIsRefused()
    {
        // r = 8, three tasks: a common size of 6 leaves 2 directions, which three tasks cannot share; CommonSize gives 5.
        var tau = new[] { GemmTests.Random(64, 1), GemmTests.Random(64, 2), GemmTests.Random(64, 3) };
        var ex = Assert.ThrowsExactly<ArgumentException>(() =>
            IsoCtsUpdate.Add(new float[64], tau, 8, 8, 6, Settings, 1f, new float[64]));
        StringAssert.Contains(ex.Message, "not a multiple of the 3 tasks");
        Assert.AreEqual(5, IsoCts.CommonSize(8, 3, 0.8));
    }

    [TestMethod]
    public void TheTallPathsTripletsAreThoseOfTheFormedProjection()
    {
        // τ (40, 12), U_k (40, 5) orthonormal: the triplets from τᵀτ − BᵀB (B = U_kᵀ τ, W never formed) against the
        // truncated SVD of the formed W = τ − U_k U_kᵀ τ; l = min(3 + 64, 12) covers all of W's 12 columns, so both are
        // exact and agree to float32 rounding in the rank-3 part U S Vᵀ.
        const int m = 40, n = 12, k = 5, p = 3;
        var tau = GemmTests.Random(m * n, 41);
        var basis = GramSvd.Decompose(GemmTests.Random(m * k, 42), m, k); // U (40, 5), orthonormal columns
        var uk = basis.U.AsSpan(0, m * k).ToArray();
        var w = (float[])tau.Clone();
        var b = new float[k * n];
        Gemm.Multiply(true, false, k, n, m, 1f, uk, k, tau, n, 0f, b, n);
        Gemm.Multiply(false, false, m, n, k, -1f, uk, k, b, n, 1f, w, n);
        var expected = MatrixMerge.TopTriplets(w, m, n, p, Settings);
        var actual = IsoCtsUpdate.ProjectedTopTriplets(tau, uk, m, n, k, p, Settings, threads: 1);
        Merges.AssertClose(LowRankPart(expected, m, n, p), LowRankPart(actual, m, n, p), 2e-5, "U S Vᵀ");
        for (int j = 0; j < p; j++) Assert.AreEqual(expected.S[j], actual.S[j], 2e-5 * expected.S[0], $"σ{j}");
    }

    private static float[] LowRankPart(LowRankFactors f, int m, int n, int p)
    {
        var x = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int c = 0; c < n; c++)
            {
                double s = 0;
                for (int j = 0; j < p; j++) s += (double)f.U[i * p + j] * f.S[j] * f.Vt[j * n + c];
                x[i * n + c] = (float)s;
            }
        return x;
    }

    private static void AssertPathsAgree(float[][] tau, int m, int n, double fraction)
    {
        var sum = new float[m * n];
        foreach (var t in tau)
            for (int i = 0; i < sum.Length; i++) sum[i] += t[i];
        int common = IsoCts.CommonSize(Math.Min(m, n), tau.Length, fraction);
        var complement = new float[m * n];
        var projection = new float[m * n];
        IsoCtsUpdate.AddByComplement(sum, tau, m, n, common, 0.7f, complement, maxThreads: 1);
        IsoCtsUpdate.AddByProjection(sum, tau, m, n, common, Settings, 0.7f, projection, maxThreads: 1);
        double scale = 0, worst = 0;
        for (int i = 0; i < m * n; i++)
        {
            scale = Math.Max(scale, Math.Abs(projection[i]));
            worst = Math.Max(worst, Math.Abs(complement[i] - projection[i]));
        }
        Assert.IsTrue(scale > 0.1, $"the update is not trivial (max |update| {scale:G4})");
        Assert.IsTrue(worst <= 2e-5 * scale, $"max |complement − projection| = {worst:G4} against update scale {scale:G4}");
    }
}
