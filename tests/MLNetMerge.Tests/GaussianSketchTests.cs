using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Tests;

[TestClass]
public sealed class GaussianSketchTests
{
    private static float[] Draw(ulong seed, int length)
    {
        var x = new float[length];
        new SeededRandom(seed).FillGaussian(x);
        return x;
    }

    [TestMethod]
    public void EveryFillHasTheBitsOfAFreshDraw()
    {
        // Repeats (copies), other seeds in between (more seeds than the cache holds), and one seed at two lengths.
        (ulong Seed, int Length)[] calls = [(11, 300), (11, 300), (12, 300), (11, 300), (13, 300), (14, 300), (11, 300), (11, 120), (11, 300), (12, 120)];
        foreach (var (seed, length) in calls)
        {
            var x = new float[length];
            GaussianSketch.Fill(seed, x);
            CollectionAssert.AreEqual(Draw(seed, length), x, $"seed {seed}, length {length}");
        }
    }

    [TestMethod]
    public void ConcurrentFillsAgreeWithTheDraw()
    {
        var expected = new[] { Draw(21, 4096), Draw(22, 4096), Draw(23, 4096) };
        Parallel.For(0, 48, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var x = new float[4096];
            GaussianSketch.Fill((ulong)(21 + i % 3), x);
            CollectionAssert.AreEqual(expected[i % 3], x, $"call {i}");
        });
    }
}
