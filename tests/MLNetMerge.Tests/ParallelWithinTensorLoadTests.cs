using MLNetMerge.Errors;
using MLNetMerge.Merging;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

/// <summary>
/// Runs that hold one tensor at a time and parallelise inside it (CART, TSV-M, ISO-CTS, WUDI) read the tensor's T task
/// inputs side by side and centre CART's task vectors range by range on several threads: the same buffers, the same error.
/// </summary>
[TestClass]
public sealed class ParallelWithinTensorLoadTests
{
    private static readonly MergeExecutionOptions TwoThreads = new() { MaxThreads = 2 };

    [TestMethod]
    [DataRow("cart")]
    [DataRow("tsv_m")]
    public void TheLowestBadTaskIsNamedWhenTasksAreReadSideBySide(string method)
    {
        // t2 and t4 both hold a NaN; read in order the error names t2, and it must whichever thread reads which task first.
        float[] good = [1f, 2f, 3f, 4f], bad = [1f, float.NaN, 3f, 4f];
        for (int trial = 0; trial < 12; trial++)
        {
            var f = new TinyFamily("t1", "t2", "t3", "t4").WithWeights("layers.0.mlp.fc1.weight", [2, 2], [0f, 0f, 0f, 0f], good, bad, good, bad);
            var e = Assert.ThrowsExactly<NonFiniteTensorException>(() => Run(f, method, options: TwoThreads));
            Assert.AreEqual("t2.safetensors", e.File, $"trial {trial}");
            StringAssert.Contains(e.Message, "element 1");
        }
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void CartAveragesAVectorAcrossCentringRangesBitForBit(int threads)
    {
        // A vector is not a block matrix: CART writes θavg = θ0 + (1/T)·Σ τt, the sum in task order in float32, which the
        // centring computes range by range (16384 elements each; this tensor spans four ranges, the last one short).
        const int n = 3 * 16384 + 5;
        var rng = new Random(7);
        float[] RandomVector() => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] theta0 = RandomVector(), theta1 = RandomVector(), theta2 = RandomVector(), theta3 = RandomVector();
        var f = new TinyFamily("t1", "t2", "t3")
            .WithWeights("layers.0.mlp.fc1.bias", [n], theta0, theta1, theta2, theta3)
            .WithWeights("layers.0.mlp.fc1.weight", [2, 2], [0f, 0f, 0f, 0f], [1f, 0f, 0f, 1f], [0f, 1f, 1f, 0f], [1f, 1f, 0f, 0f]);
        var merged = Run(f, "cart", options: new MergeExecutionOptions { MaxThreads = threads }).Tensors["layers.0.mlp.fc1.bias"];
        var expected = new float[n];
        for (int i = 0; i < n; i++)
        {
            float sum = 0f;
            foreach (var theta in new[] { theta1, theta2, theta3 }) sum += theta[i] - theta0[i];
            expected[i] = sum * (1f / 3) + theta0[i];
        }
        for (int i = 0; i < n; i++)
            Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(merged[i]), $"element {i}: {expected[i]} vs {merged[i]}");
    }
}
