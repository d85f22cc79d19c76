using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Tests.Nn;

/// <summary>
/// Element- and row-wise float32 kernels split over the worker threads (<see cref="RangeJob"/>) give the same bits as the
/// same kernel run serially: a large call (above <see cref="RangeJob.MinParallelWork"/>, so it is split) against pieces
/// small enough to run whole on the caller, concatenated.
/// </summary>
[TestClass]
internal sealed class ParallelKernelTests
{
    private static float[] Rand(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 8 - 4);
        return x;
    }

    private static void AssertBits(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(actual[i]), $"{what}: element {i}");
    }

    [TestMethod]
    [DataRow(ActivationKind.GeluErf)]
    [DataRow(ActivationKind.QuickGelu)]
    public void ActivationSplitMatchesSerialPieces(ActivationKind kind)
    {
        const int n = 3 * 65536 + 777, piece = 4096; // n above the split threshold (2^15); pieces: multiples of the chunks, below it
        var x = Rand(n, 1);
        var whole = new float[n];
        Activation.Forward<float>(kind, whole, x);
        var pieces = new float[n];
        for (int s = 0; s < n; s += piece)
        {
            int len = Math.Min(piece, n - s);
            Activation.Forward<float>(kind, pieces.AsSpan(s, len), x.AsSpan(s, len));
        }
        AssertBits(pieces, whole, $"{kind} forward");
        if (kind != ActivationKind.GeluErf) return;
        var dy = Rand(n, 2);
        var dxWhole = Rand(n, 3);
        var dxPieces = (float[])dxWhole.Clone();
        Activation.Backward<float>(kind, dxWhole, dy, x);
        for (int s = 0; s < n; s += piece)
        {
            int len = Math.Min(piece, n - s);
            Activation.Backward<float>(kind, dxPieces.AsSpan(s, len), dy.AsSpan(s, len), x.AsSpan(s, len));
        }
        AssertBits(dxPieces, dxWhole, $"{kind} backward");
    }

    [TestMethod]
    public void LayerNormSplitMatchesOneRowAtATime()
    {
        const int n = 517, c = 384; // n·c above the split threshold; one row per call runs serially
        var x = Rand(n * c, 4);
        var gamma = Rand(c, 5);
        var beta = Rand(c, 6);
        var y = new float[n * c];
        var mean = new float[n];
        var rstd = new float[n];
        LayerNorm.Forward<float>(y, mean, rstd, x, gamma, beta, n, c, 1e-12);
        var y1 = new float[n * c];
        var mean1 = new float[n];
        var rstd1 = new float[n];
        for (int i = 0; i < n; i++)
            LayerNorm.Forward<float>(y1.AsSpan(i * c, c), mean1.AsSpan(i, 1), rstd1.AsSpan(i, 1), x.AsSpan(i * c, c), gamma, beta, 1, c, 1e-12);
        AssertBits(y1, y, "y");
        AssertBits(mean1, mean, "mean");
        AssertBits(rstd1, rstd, "rstd");
    }
}
