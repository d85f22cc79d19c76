using System.Numerics.Tensors;
using MLNetMerge.Merging.Methods;

namespace MLNetMerge.Tests;

/// <summary>
/// The fused task-arithmetic sweep against the unfused arithmetic it replaces (τt = θt − θ0; acc = 0;
/// acc = MultiplyAdd(τt, wt, acc) per task; out = MultiplyAdd(acc, λ, θ0)): the same bits for every length across the
/// SIMD widths and tails, and its finite flag.
/// </summary>
[TestClass]
public sealed class RawTaskArithmeticKernelTests
{
    private static (float[] Base, float[][] Thetas, float[] Weights) Inputs(int n, int tasks, int seed)
    {
        var rng = new Random(seed);
        float R() => (float)(rng.NextDouble() * 2 - 1);
        var b = Enumerable.Range(0, n).Select(_ => R() * 0.02f).ToArray();
        var thetas = Enumerable.Range(0, tasks).Select(_ => b.Select(x => x + R() * 1e-3f).ToArray()).ToArray();
        var w = Enumerable.Range(0, tasks).Select(_ => 0.5f + R()).ToArray();
        return (b, thetas, w);
    }

    private static float[] Unfused(float[] b, float[][] thetas, float[] w, float lambda)
    {
        var acc = new float[b.Length];
        for (int t = 0; t < thetas.Length; t++)
        {
            var tau = new float[b.Length];
            TensorPrimitives.Subtract(thetas[t], b, tau);
            TensorPrimitives.MultiplyAdd(tau, w[t], acc, acc);
        }
        var o = new float[b.Length];
        TensorPrimitives.MultiplyAdd(acc, lambda, b, o);
        return o;
    }

    [TestMethod]
    public void SameBitsAsTheUnfusedArithmetic_ForEveryLengthAndTaskCount()
    {
        foreach (int tasks in new[] { 1, 3, 8 })
            foreach (int n in new[] { 0, 1, 7, 8, 15, 16, 17, 31, 33, 64, 100, 1000 })
            {
                var (b, thetas, w) = Inputs(n, tasks, n * 31 + tasks);
                var expected = Unfused(b, thetas, w, 0.3f);
                var actual = new float[n];
                Assert.IsTrue(RawTaskArithmeticKernel.Merge(actual, b, thetas, w, 0.3f, n));
                for (int i = 0; i < n; i++)
                    Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(actual[i]), $"T={tasks} n={n} i={i}");
            }
    }

    [TestMethod]
    public void ZeroTaskVectorsGiveTheBaseItself_NegativeZeroIncluded()
    {
        // θt = θ0 → τt = +0, acc = +0·w + 0 = +0, out = +0·λ + θ0 = θ0 bit for bit (−0 + +0 = +0: a −0 base becomes +0,
        // as in the unfused arithmetic).
        float[] b = [-0f, 1.5f, -2.25f, 3e-39f];
        var actual = new float[4];
        Assert.IsTrue(RawTaskArithmeticKernel.Merge(actual, b, [(float[])b.Clone(), (float[])b.Clone()], [1f, 2f], 0.7f, 4));
        Assert.AreEqual(BitConverter.SingleToInt32Bits(0f), BitConverter.SingleToInt32Bits(actual[0]));
        CollectionAssert.AreEqual(b[1..], actual[1..]);
    }

    [TestMethod]
    [DataRow(float.NaN, 3)]
    [DataRow(float.PositiveInfinity, 40)]    // inside the vector part (elements 0..47 with 8 or 16 lanes)
    [DataRow(float.NegativeInfinity, 48)]    // the scalar tail (n = 49 below)
    public void NonFiniteInputsAreFlagged(float bad, int at)
    {
        var (b, thetas, w) = Inputs(49, 3, 5);
        var output = new float[49];
        thetas[1][at] = bad;
        Assert.IsFalse(RawTaskArithmeticKernel.Merge(output, b, thetas, w, 1f, 49));
        thetas[1][at] = b[at];
        b[at] = bad;
        Assert.IsFalse(RawTaskArithmeticKernel.Merge(output, b, thetas, w, 1f, 49));
    }

    [TestMethod]
    public void OverflowingTaskVectorIsFlaggedThoughEveryInputIsFinite()
    {
        // θ1 − θ0 = 3e38 − (−3e38) overflows to +∞: the executor then checks the inputs one by one, finds them finite,
        // and keeps the result, as the unfused path (finite inputs, τ = +∞) does.
        float[] b = [-3e38f], t = [3e38f];
        var output = new float[1];
        Assert.IsFalse(RawTaskArithmeticKernel.Merge(output, b, [t], [1f], 1f, 1));
        Assert.AreEqual(Unfused(b, [t], [1f], 1f)[0], output[0]);
    }

    [TestMethod]
    public void MismatchedArgumentsAreRefused()
    {
        var o = new float[4];
        Assert.ThrowsExactly<ArgumentException>(() => RawTaskArithmeticKernel.Merge(o, new float[4], [new float[3]], [1f], 1f, 4));
        Assert.ThrowsExactly<ArgumentException>(() => RawTaskArithmeticKernel.Merge(o, new float[4], [new float[4]], [1f, 2f], 1f, 4));
    }
}
