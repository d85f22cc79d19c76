using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Tests;

/// <summary>
/// The panel form of the tridiagonal reduction (orders ≥ <see cref="BlockedTridiagonalization.MinOrder"/>): the
/// reflectors, β, d and e it leaves rebuild the matrix, <c>Q T Qᵀ = A</c>, across panels, the panels' trailing updates
/// and the unblocked tail, also with a column that needs no reflection inside a panel; and it is the panel path that
/// ran (its rounding differs from the unblocked steps').
/// </summary>
[TestClass]
public sealed class BlockedTridiagonalizationTests
{
    [TestMethod]
    [DataRow(600, 1UL)]  // 15 panels of 32, then a tail of 120 columns
    [DataRow(513, 2UL)]  // the smallest order reduced in panels
    public void PanelsRebuildTheMatrix(int n, ulong seed)
    {
        var a = CompactWyBackTransformTests.SymmetricRandom(n, seed);
        var (d, e, reflectors, beta) = Reduce(a, n, unblocked: false);
        Assert.IsTrue(MaxRebuildError(a, n, d, e, reflectors, beta) < 1e-13, "Q T Qᵀ differs from A");
        var unblocked = Reduce(a, n, unblocked: true);
        Assert.IsTrue(MaxRebuildError(a, n, unblocked.D, unblocked.E, unblocked.Reflectors, unblocked.Beta) < 1e-13, "unblocked steps");
        Assert.IsFalse(d.AsSpan().SequenceEqual(unblocked.D), $"order {n} did not take the panel path (same bits as the unblocked steps)");
    }

    [TestMethod]
    public void TwoThreadsGiveTheSameBitsAsOne()
    {
        // The panels' products and updates are split in halves fixed by the order, whoever runs them.
        const int n = 600;
        var a = CompactWyBackTransformTests.SymmetricRandom(n, 4);
        var one = Reduce(a, n, unblocked: false, maxThreads: 1);
        for (int run = 0; run < 3; run++)
        {
            var two = Reduce(a, n, unblocked: false, maxThreads: 2);
            Assert.IsTrue(two.D.AsSpan().SequenceEqual(one.D), "d");
            Assert.IsTrue(two.E.AsSpan().SequenceEqual(one.E), "e");
            Assert.IsTrue(two.Beta.AsSpan().SequenceEqual(one.Beta), "β");
            Assert.IsTrue(two.Reflectors.AsSpan().SequenceEqual(one.Reflectors), "reflectors");
        }
        Assert.IsTrue(MaxRebuildError(a, n, one.D, one.E, one.Reflectors, one.Beta) < 1e-13, "Q T Qᵀ differs from A");
    }

    [TestMethod]
    public void AColumnThatNeedsNoReflectionInsideAPanel()
    {
        // A = diag(A₁ (5 × 5), A₂ (515 × 515)): column 4 is zero below its diagonal and stays so through reflectors 0–3,
        // which only mix rows and columns 1–4, so β₄ = 0 and e₄ = 0 in the middle of the first panel.
        const int n = 520;
        var a = CompactWyBackTransformTests.SymmetricRandom(n, 3);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if ((i < 5) != (j < 5)) a[i * n + j] = 0;
        var (d, e, reflectors, beta) = Reduce(a, n, unblocked: false);
        Assert.AreEqual(0.0, beta[4]);
        Assert.AreEqual(0.0, e[4]);
        Assert.IsTrue(MaxRebuildError(a, n, d, e, reflectors, beta) < 1e-13, "Q T Qᵀ differs from A");
    }

    private static (double[] D, double[] E, double[] Reflectors, double[] Beta) Reduce(double[] a, int n, bool unblocked, int maxThreads = 1)
    {
        var d = new double[n];
        var e = new double[n];
        var reflectors = new double[n * n];
        var beta = new double[n];
        BlockedTridiagonalization.UnblockedForTests = unblocked;
        try { SymmetricTridiagonalization.Reduce((double[])a.Clone(), n, d, e, reflectors, beta, maxThreads); }
        finally { BlockedTridiagonalization.UnblockedForTests = false; }
        return (d, e, reflectors, beta);
    }

    /// <summary>max |(Q T Qᵀ − A)[i, j]| / max |A|, Qᵀ formed reflector by reflector.</summary>
    private static double MaxRebuildError(double[] a, int n, double[] d, double[] e, double[] reflectors, double[] beta)
    {
        var qt = new double[n * n];
        TridiagonalQlEigen.AccumulateTranspose(reflectors, beta, n, qt);
        var tq = new double[n * n]; // T Qᵀ: row k = d[k]·qt[k] + e[k−1]·qt[k−1] + e[k]·qt[k+1]
        for (int k = 0; k < n; k++)
            for (int j = 0; j < n; j++)
            {
                double s = d[k] * qt[k * n + j];
                if (k > 0) s += e[k - 1] * qt[(k - 1) * n + j];
                if (k < n - 1) s += e[k] * qt[(k + 1) * n + j];
                tq[k * n + j] = s;
            }
        var q = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) q[i * n + j] = qt[j * n + i];
        var rebuilt = new double[n * n];
        DoubleGemm.Multiply(n, n, n, q, n, tq, n, rebuilt, n);
        double err = 0, scale = 0;
        for (int i = 0; i < n * n; i++)
        {
            err = Math.Max(err, Math.Abs(rebuilt[i] - a[i]));
            scale = Math.Max(scale, Math.Abs(a[i]));
        }
        return err / scale;
    }
}
