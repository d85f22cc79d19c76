using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Tests;

/// <summary>
/// <see cref="TriangularGram"/>: block rows of the lower triangle, mirrored, from one packed operand read as growing
/// prefixes, give the bits of one full GEMM (every element the same k loop) for either Gram matrix, any block size and thread count
/// (a block of one or two rows would be a direct product, with its own order: the shapes leave at least three).
/// </summary>
[TestClass]
public sealed class TriangularGramTests
{
    [TestMethod]
    public void TheTriangleGivesTheFullProductsBits()
    {
        foreach (var (m, n) in new[] { (200, 130), (130, 420), (99, 300) }) // last blocks of 3 rows or more (see below)
            foreach (bool ofRows in new[] { true, false })
                foreach (int block in new[] { 48, 96, 240 })
                    foreach (int threads in new[] { 1, 2 })
                    {
                        var a = GemmTests.Random(m * n, 21);
                        int k = ofRows ? m : n;
                        var full = new float[k * k];
                        if (ofRows) Gemm.Multiply(false, true, k, k, n, 1f, a, n, a, n, 0f, full, k, threads);
                        else Gemm.Multiply(true, false, k, k, m, 1f, a, n, a, n, 0f, full, k, threads);
                        var g = Enumerable.Repeat(float.NaN, k * k).ToArray();
                        TriangularGram.Compute(a, m, n, ofRows, g, block, threads);
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++)
                            {
                                // The lower triangle is the product's; the upper its mirror image (the product's own upper
                                // triangle has the same bits: x·y and y·x in the same k order).
                                float expected = full[Math.Max(i, j) * k + Math.Min(i, j)];
                                Assert.AreEqual(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(g[i * k + j]),
                                    $"({m}, {n}) ofRows={ofRows} block {block} on {threads} thread(s): G[{i}, {j}]");
                            }
                    }
    }
}
