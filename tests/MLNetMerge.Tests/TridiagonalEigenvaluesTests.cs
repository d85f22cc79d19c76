using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Tests;

[TestClass]
public sealed class TridiagonalEigenvaluesTests
{
    [TestMethod]
    public void ExtremesHandWorked()
    {
        // [[2, 1], [1, 2]]: eigenvalues 3 and 1 (vectors (1, 1) and (1, −1)).
        var (largest, smallest) = TridiagonalEigenvalues.Extremes([2, 1, 1, 2], 2);
        Assert.AreEqual(3.0, largest, 1e-15);
        Assert.AreEqual(1.0, smallest, 1e-15);
        // A diagonal matrix (every off-diagonal zero): its extreme diagonal entries.
        (largest, smallest) = TridiagonalEigenvalues.Extremes([-1, 0, 0, 0, 4, 0, 0, 0, 0.5], 3);
        Assert.AreEqual(4.0, largest, 1e-15);
        Assert.AreEqual(-1.0, smallest, 1e-15);
        // One element.
        (largest, smallest) = TridiagonalEigenvalues.Extremes([-2.5], 1);
        Assert.AreEqual(-2.5, largest);
        Assert.AreEqual(-2.5, smallest);
    }

    [TestMethod]
    [DataRow(7, 1.0)]
    [DataRow(60, 1.0)]
    [DataRow(160, 1.0)]
    [DataRow(160, 1e-9)] // a cluster: the identity plus a 1e-9 perturbation
    public void ExtremesAreTheEndsOfTheQlSpectrum(int n, double scale)
    {
        var rng = new SeededRandom((ulong)n);
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
                a[i * n + j] = a[j * n + i] = scale * (rng.NextDouble() - 0.5) + (i == j ? (scale == 1.0 ? 0.1 * i * i : 1.0) : 0.0);
        var all = TridiagonalEigenvalues.Compute((double[])a.Clone(), n);
        var (largest, smallest) = TridiagonalEigenvalues.Extremes((double[])a.Clone(), n);
        double tolerance = 8e-16 * n * Math.Max(Math.Abs(all[0]), Math.Abs(all[n - 1]));
        Assert.AreEqual(all[0], largest, tolerance, "largest");
        Assert.AreEqual(all[n - 1], smallest, tolerance, "smallest");
        Assert.IsTrue(all[0] - all[n - 1] > 100 * tolerance, "the spectrum is wider than the tolerance");
    }
}
