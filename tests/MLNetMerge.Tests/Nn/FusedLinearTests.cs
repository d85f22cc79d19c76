using System.Numerics;
using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Tests.Nn;

/// <summary>
/// <see cref="FusedLinear"/> (bias, residual and activation in the GEMM's write-back) against the unfused layer calls it
/// replaces — <see cref="Linear.Forward{T}"/>, <see cref="Residual.Forward{T}"/>, <see cref="Activation.Forward{T}"/> —
/// bit for bit, and <see cref="VectorExp"/> against float64 <see cref="Math.Exp"/>.
/// </summary>
[TestClass]
internal sealed class FusedLinearTests
{
    private static float[] Random(int length, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return x;
    }

    [TestMethod]
    [DataRow(ActivationKind.GeluErf, 96, 384, 1536)]   // BERT-MiniLM's fc1 width (every row block a multiple of 8)
    [DataRow(ActivationKind.QuickGelu, 50, 64, 3072)]  // CLIP's fc1 width
    [DataRow(ActivationKind.GeluErf, 37, 70, 203)]     // odd widths: each fused row ends in a scalar tail of 3 lanes
    [DataRow(ActivationKind.QuickGelu, 37, 70, 203)]
    [DataRow(ActivationKind.Relu, 37, 70, 203)]        // not fused: falls back to a separate pass
    public void ActivationEqualsUnfusedBitForBit(ActivationKind kind, int n, int inDim, int outDim)
    {
        // Weights of ±3/√in make pre-activations of a few units (GELU's curved part and its e^(−x²/2) tails).
        var x = Random(n * inDim, 1); var w = Random(outDim * inDim, 2, 3f / MathF.Sqrt(inDim)); var bias = Random(outDim, 3);
        var pre = new float[n * outDim]; var act = new float[n * outDim];
        Linear.Forward<float>(pre, x, w, bias, n, inDim, outDim);
        Activation.Forward<float>(kind, act, pre);
        var fusedPre = new float[n * outDim]; var fusedAct = new float[n * outDim];
        FusedLinear.Forward(fusedPre, fusedAct, x, w, bias, n, inDim, outDim, kind);
        CollectionAssert.AreEqual(pre, fusedPre, "pre-activation");
        CollectionAssert.AreEqual(act, fusedAct, $"{kind}");
    }

    [TestMethod]
    [DataRow(64, 1536, 384)]  // BERT-MiniLM's fc2
    [DataRow(33, 100, 51)]
    public void ResidualEqualsUnfusedBitForBit(int n, int inDim, int outDim)
    {
        var x = Random(n * inDim, 4); var w = Random(outDim * inDim, 5); var bias = Random(outDim, 6); var r = Random(n * outDim, 7);
        var y = new float[n * outDim];
        Linear.Forward<float>(y, x, w, bias, n, inDim, outDim);
        Residual.Forward<float>(y, y, r);
        var fused = new float[n * outDim];
        FusedLinear.Forward(fused, default, x, w, bias, n, inDim, outDim, residual: r);
        CollectionAssert.AreEqual(y, fused);
        var noBias = new float[n * outDim]; var fusedNoBias = new float[n * outDim];
        Linear.Forward<float>(noBias, x, w, default, n, inDim, outDim);
        FusedLinear.Forward(fusedNoBias, default, x, w, default, n, inDim, outDim);
        CollectionAssert.AreEqual(noBias, fusedNoBias, "no bias, no residual");
    }

    [TestMethod]
    public void RejectsShortBuffers()
    {
        var x = new float[4 * 3]; var w = new float[5 * 3];
        Assert.ThrowsExactly<ArgumentException>(() => FusedLinear.Forward(new float[19], default, x, w, default, 4, 3, 5));
        Assert.ThrowsExactly<ArgumentException>(() => FusedLinear.Forward(new float[20], new float[19], x, w, default, 4, 3, 5, ActivationKind.GeluErf));
        Assert.ThrowsExactly<ArgumentException>(() => FusedLinear.Forward(new float[20], default, x, w, new float[4], 4, 3, 5));
    }

    [TestMethod]
    public void VectorExpIsWithinThreeUlpOfFloat64AndZeroBelowMinus80()
    {
        // Relative error ≤ 3·2^-24 ≈ 1.8e-7 over [−80, 88] (a float's ulp is 2^-23 relative at most); the scalar form gives
        // the vector lanes' bits; e^x below −80 (< 1.8e-35) is 0, e^−80 itself is not.
        int w = Vector<float>.Count, count = 40000;
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = -80f + 168f * i / (count - 1);
        x[1] = 0f; x[2] = -1e-30f; x[3] = 1e-30f;
        double worst = 0;
        for (int i = 0; i + w <= count; i += w)
        {
            var v = VectorExp.Exp(new Vector<float>(x, i));
            for (int l = 0; l < w; l++)
            {
                double exact = Math.Exp(x[i + l]);
                worst = Math.Max(worst, Math.Abs(v[l] - exact) / exact);
                Assert.AreEqual(BitConverter.SingleToInt32Bits(v[l]), BitConverter.SingleToInt32Bits(VectorExp.Exp(x[i + l])), $"vector and scalar e^{x[i + l]}");
            }
        }
        Assert.IsTrue(worst <= 3.0 / (1 << 24), $"worst relative error {worst:E3}");
        for (int i = 0; i + 16 <= count; i += 16)
        {
            var v = VectorExp.Exp(System.Runtime.Intrinsics.Vector512.Create(x.AsSpan(i, 16)));
            for (int l = 0; l < 16; l++)
                Assert.AreEqual(BitConverter.SingleToInt32Bits(VectorExp.Exp(x[i + l])), BitConverter.SingleToInt32Bits(v[l]), $"16-lane and scalar e^{x[i + l]}");
        }
        Assert.AreEqual(1f, VectorExp.Exp(0f));
        Assert.AreEqual(0f, VectorExp.Exp(-80.5f));
        Assert.AreEqual(0f, VectorExp.Exp(new Vector<float>(-1000f))[0]);
        Assert.IsTrue(VectorExp.Exp(-80f) > 0f);
        Assert.IsTrue(float.IsFinite(VectorExp.Exp(1000f)), "large inputs saturate at e^88, not infinity");
    }

    [TestMethod]
    public void VectorExpKeepsNaNAndSaturatesInfinitiesAsTheScalarForm()
    {
        // The vector forms clamp with the processor's min/max (which drop a NaN) and put NaN back at the end: every lane of
        // these gives the scalar form's bits, NaN stays NaN, +∞ gives e^88, −∞ gives 0.
        float[] special = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 88.5f, -80f, -80.0001f, 1f,
            -float.NaN, 87.99f, float.MaxValue, float.MinValue, 0f, 1e-30f, -87.3f, 3f];
        for (int i = 0; i + Vector<float>.Count <= special.Length; i += Vector<float>.Count)
        {
            var v = VectorExp.Exp(new Vector<float>(special, i));
            for (int l = 0; l < Vector<float>.Count; l++)
                Assert.AreEqual(BitConverter.SingleToInt32Bits(VectorExp.Exp(special[i + l])), BitConverter.SingleToInt32Bits(v[l]), $"e^{special[i + l]}");
        }
        var wide = VectorExp.Exp(System.Runtime.Intrinsics.Vector512.Create(special));
        for (int l = 0; l < 16; l++)
            Assert.AreEqual(BitConverter.SingleToInt32Bits(VectorExp.Exp(special[l])), BitConverter.SingleToInt32Bits(wide[l]), $"16 lanes: e^{special[l]}");
        Assert.IsTrue(float.IsNaN(VectorExp.Exp(new Vector<float>(float.NaN))[0]));
        Assert.IsTrue(float.IsNaN(wide[0]) && float.IsNaN(wide[8]));
        Assert.AreEqual(VectorExp.Exp(88f), wide[1]);
        Assert.AreEqual(0f, wide[2]);
        var row = new float[Vector<float>.Count * 2];
        row[3] = float.NaN;
        SmallHeadAttention.SoftmaxInPlace<float>(row);
        Assert.IsTrue(row.All(float.IsNaN), "a NaN score makes the whole softmax row NaN");
    }

    [TestMethod]
    public void QuickGeluGivesEachElementTheScalarFormulasBits()
    {
        // 16-lane, 8-lane and scalar parts of one range (1 003 = 62 · 16 + 8 + 3 elements, pre-activations of ±12).
        var x = Random(1003, 11, 12f);
        var y = new float[x.Length];
        VectorActivations.QuickGeluForwardRange(y, x);
        for (int i = 0; i < x.Length; i++)
            Assert.AreEqual(BitConverter.SingleToInt32Bits(x[i] / (1f + VectorExp.Exp(x[i] * -1.702f))), BitConverter.SingleToInt32Bits(y[i]), $"element {i}");
    }
}
