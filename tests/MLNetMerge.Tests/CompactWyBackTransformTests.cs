using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Tests;

/// <summary>
/// The eigensolver's back-transformation by blocked reflectors: a hand-worked reflector, agreement with the explicit
/// Qᵀ (formed reflector by reflector, then one product) across block boundaries and with an identity reflector, and the
/// same bits with the rows split between two threads.
/// </summary>
[TestClass]
public sealed class CompactWyBackTransformTests
{
    [TestMethod]
    public void OneReflectorByHand()
    {
        // n = 3 has the single reflector H_0 = I − β v vᵀ with v = (·, 1, 1) (column 0 is not part of v: a stray value
        // there must be ignored), β = 2/vᵀv = 1: H_0 = [[1, 0, 0], [0, 0, −1], [0, −1, 0]], so the row (1, 2, 3) becomes
        // (1, −3, −2) and the identity becomes H_0 itself.
        double[] reflectors = [99, 1, 1, 0, 0, 0, 0, 0, 0];
        double[] beta = [1, 0, 0];
        double[] x = [1, 2, 3, 1, 0, 0, 0, 1, 0, 0, 0, 1];
        CompactWyBackTransform.Apply(reflectors, beta, 3, x, 4);
        CollectionAssert.AreEqual(new double[] { 1, -3, -2, 1, 0, 0, 0, 0, -1, 0, -1, 0 }, x);
    }

    public static IEnumerable<object[]> Sizes()
    {
        yield return [1, 3];     // no reflector at all
        yield return [2, 5];
        yield return [34, 7];    // exactly one block of 32 reflectors
        yield return [100, 37];  // 98 reflectors: three full blocks and a short one
        yield return [71, 200];  // rows ≥ 128: split between threads
    }

    [TestMethod]
    [DynamicData(nameof(Sizes))]
    public void AgreesWithTheExplicitQTransposed(int n, int rows)
    {
        var (reflectors, beta) = Reflectors(n, (ulong)n);
        var x = new double[rows * n];
        var rng = new SeededRandom(7);
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextGaussian();
        var qt = new double[n * n];
        TridiagonalQlEigen.AccumulateTranspose(reflectors, beta, n, qt);
        var expected = new double[rows * n];
        DoubleGemm.Multiply(rows, n, n, x, n, qt, n, expected, n);
        var one = (double[])x.Clone();
        CompactWyBackTransform.Apply(reflectors, beta, n, one, rows, maxThreads: 1);
        for (int i = 0; i < x.Length; i++) Assert.AreEqual(expected[i], one[i], 1e-13 * Math.Sqrt(n), $"n {n}: element {i}");
        var two = (double[])x.Clone();
        CompactWyBackTransform.Apply(reflectors, beta, n, two, rows, maxThreads: 2);
        CollectionAssert.AreEqual(one, two, "two threads changed the bits");
        foreach (int chunk in new[] { 7, int.MaxValue })
        {
            var chunked = (double[])x.Clone();
            CompactWyBackTransform.Apply(reflectors, beta, n, chunked, rows, maxThreads: 1, chunkRows: chunk);
            CollectionAssert.AreEqual(one, chunked, $"{chunk} rows at a time changed the bits");
        }
    }

    [TestMethod]
    public void AnIdentityReflectorInsideABlockChangesNothingItself()
    {
        // A column that is already zero below the diagonal gives β = 0 (H = I); the product must still be Qᵀ. A block-diagonal
        // A keeps column 3 zero below row 4 through the first three reflections.
        int n = 40;
        var a = SymmetricRandom(n, 5);
        for (int i = 4; i < n; i++)
            for (int j = 0; j < 4; j++) a[i * n + j] = a[j * n + i] = 0; // blocks (0..3) and (4..): H_0..H_2 stay in the first
        var (reflectors, beta) = Reduce(a, n);
        Assert.AreEqual(0.0, beta[3], "column 3 needed no reflection");
        var x = new double[n * n];
        for (int i = 0; i < n; i++) x[i * n + i] = 1;
        CompactWyBackTransform.Apply(reflectors, beta, n, x, n);
        var qt = new double[n * n];
        TridiagonalQlEigen.AccumulateTranspose(reflectors, beta, n, qt);
        for (int i = 0; i < n * n; i++) Assert.AreEqual(qt[i], x[i], 1e-14, $"element {i}");
    }

    private static (double[] Reflectors, double[] Beta) Reflectors(int n, ulong seed) => Reduce(SymmetricRandom(n, seed), n);

    private static (double[] Reflectors, double[] Beta) Reduce(double[] a, int n)
    {
        var reflectors = new double[n * n];
        var beta = new double[n];
        SymmetricTridiagonalization.Reduce(a, n, new double[n], new double[n], reflectors, beta);
        return (reflectors, beta);
    }

    /// <summary>A symmetric (n, n) matrix of seeded Gaussians (also the panel reduction's tests' input).</summary>
    internal static double[] SymmetricRandom(int n, ulong seed)
    {
        var rng = new SeededRandom(seed);
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.NextGaussian();
        return a;
    }
}
