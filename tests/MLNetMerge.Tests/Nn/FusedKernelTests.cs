using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Tests.Nn;

/// <summary>
/// The engine-speed kernels against plain float64 loops written here from the formulas: <see cref="SmallHeadAttention"/>
/// (the unpacked per-(batch, head) attention Attention uses for T ≤ 256) and <see cref="GeluErfKernel"/> (fused GELU-erf).
/// Shapes are chosen so every vector block, remainder loop and scalar tail runs (T = 65 = 2·32 + 1, 64, 50, 7; d = 12, 16, 20,
/// 32, 64; the float32 forward blocks 4 query rows × 16 keys or channels).
/// </summary>
[TestClass]
public sealed class FusedKernelTests
{
    [TestMethod]
    [DataRow(16, false, 65)]
    [DataRow(12, true, 65)]
    [DataRow(16, true, 65)]
    [DataRow(32, true, 64)]   // BERT-MiniLM's head: whole 4-row and 16-key blocks
    [DataRow(64, false, 50)]  // CLIP ViT-B/32's head: a 2-row block and an 8-key remainder
    [DataRow(20, true, 7)]    // fewer rows than a block, a 4-lane channel tail
    public void SmallHeadAttention_MatchesFloat64Loops(int d, bool masked, int t)
    {
        var rng = new Random(11);
        int stride = 3 * d + 5, outStride = d + 3;   // fused-like q/k/v rows with padding, padded output rows
        double[] q = Rand(rng, t * stride), k = Rand(rng, t * stride), v = Rand(rng, t * stride), dO = Rand(rng, t * outStride);
        for (int i = 0; i < q.Length; i++) q[i] *= 3; // sharper softmax rows
        bool[] mask = masked ? Enumerable.Range(0, t).Select(j => j % 7 != 3).ToArray() : [];
        double scale = 1 / Math.Sqrt(d);

        // Reference: s = scale q kᵀ, masked −∞, a = softmax(s), o = a v; g = dO vᵀ, dS = a ⊙ (g − rowsum(a ⊙ g)),
        // dq = scale dS k, dk = scale dSᵀ q, dv = aᵀ dO.
        var a = new double[t * t];
        var o = new double[t * d];
        for (int i = 0; i < t; i++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < t; j++)
            {
                double s = 0;
                for (int p = 0; p < d; p++) s += q[i * stride + p] * k[j * stride + p];
                a[i * t + j] = masked && !mask[j] ? double.NegativeInfinity : s * scale;
                max = Math.Max(max, a[i * t + j]);
            }
            double sum = 0;
            for (int j = 0; j < t; j++) sum += a[i * t + j] = Math.Exp(a[i * t + j] - max);
            for (int j = 0; j < t; j++) a[i * t + j] /= sum;
            for (int p = 0; p < d; p++) for (int j = 0; j < t; j++) o[i * d + p] += a[i * t + j] * v[j * stride + p];
        }
        double[] dq = new double[t * d], dk = new double[t * d], dv = new double[t * d];
        for (int i = 0; i < t; i++)
        {
            var g = new double[t];
            double dot = 0;
            for (int j = 0; j < t; j++)
            {
                for (int p = 0; p < d; p++) g[j] += dO[i * outStride + p] * v[j * stride + p];
                dot += a[i * t + j] * g[j];
            }
            for (int j = 0; j < t; j++)
            {
                double ds = a[i * t + j] * (g[j] - dot);
                for (int p = 0; p < d; p++)
                {
                    dq[i * d + p] += scale * ds * k[j * stride + p];
                    dk[j * d + p] += scale * ds * q[i * stride + p];
                    dv[j * d + p] += a[i * t + j] * dO[i * outStride + p];
                }
            }
        }

        float[] F(double[] x) => x.Select(e => (float)e).ToArray();
        float[] fq = F(q), fk = F(k), fv = F(v), fdO = F(dO);
        var fo = new float[t * outStride]; var fa = new float[t * t];
        Array.Fill(fo, 7f); // the kernel overwrites the head's columns, leaves the padding
        SmallHeadAttention.Forward<float>(fo, fa, fq, fk, fv, mask, t, d, stride, outStride, (float)scale);
        for (int i = 0; i < t; i++)
        {
            for (int p = 0; p < d; p++) Assert.AreEqual(o[i * d + p], fo[i * outStride + p], 2e-5, $"o[{i},{p}]");
            for (int p = d; p < outStride; p++) Assert.AreEqual(7f, fo[i * outStride + p], "padding untouched");
            for (int j = 0; j < t; j++) Assert.AreEqual(a[i * t + j], fa[i * t + j], 2e-6, $"a[{i},{j}]");
        }
        if (masked) Assert.AreEqual(0f, fa[3], "masked key gets probability 0");

        // Gradients are added into what is there (1 everywhere): expected = 1 + reference.
        float[] gq = Enumerable.Repeat(1f, t * stride).ToArray(), gk = (float[])gq.Clone(), gv = (float[])gq.Clone();
        SmallHeadAttention.Backward<float>(gq, gk, gv, fdO, fa, fq, fk, fv, t, d, stride, outStride, (float)scale);
        for (int j = 0; j < t; j++)
            for (int p = 0; p < d; p++)
            {
                Assert.AreEqual(1 + dq[j * d + p], gq[j * stride + p], 5e-5, $"dq[{j},{p}]");
                Assert.AreEqual(1 + dk[j * d + p], gk[j * stride + p], 5e-5, $"dk[{j},{p}]");
                Assert.AreEqual(1 + dv[j * d + p], gv[j * stride + p], 5e-5, $"dv[{j},{p}]");
            }
        Assert.AreEqual(1f, gq[d], "columns past the head are not touched");
    }

    [TestMethod]
    [DataRow(32, true, 64)]   // the 512-bit block (4 rows × 32 keys or channels) where the CPU has it
    [DataRow(64, false, 50)]
    [DataRow(24, true, 37)]   // 16- and 8-wide blocks, scalar tails, a 1-row block
    [DataRow(16, false, 65)]
    [DataRow(64, true, 197)]  // ViT-B/16's 197 tokens: an 8-key remainder of 200 and a lone last row (four 32-wide chains)
    public void SmallHeadAttention_EveryElementIsOneFmaChain(int d, bool masked, int t)
    {
        // Whatever block an element falls in (512-bit, 256-bit, row remainder, scalar tail), its score is
        // scale · (one FMA chain over p in increasing order) and its output one FMA chain over keys j of the
        // probabilities and V: the bits do not depend on the vector width, so training gives the same checkpoints on
        // AVX2 and AVX-512. Checked bit for bit against scalar MathF.FusedMultiplyAdd loops.
        var rng = new Random(12);
        int stride = 3 * d + 5, outStride = d + 3;
        float[] q = Rand(rng, t * stride).Select(x => (float)x).ToArray(), k = Rand(rng, t * stride).Select(x => (float)x).ToArray(),
            v = Rand(rng, t * stride).Select(x => (float)x).ToArray();
        bool[] mask = masked ? Enumerable.Range(0, t).Select(j => j % 5 != 2).ToArray() : [];
        float scale = 1 / MathF.Sqrt(d);
        var o = new float[t * outStride];
        var a = new float[t * t];
        SmallHeadAttention.Forward<float>(o, a, q, k, v, mask, t, d, stride, outStride, scale);
        var row = new float[t];
        for (int i = 0; i < t; i++)
        {
            for (int j = 0; j < t; j++)
            {
                float s = 0f;
                for (int p = 0; p < d; p++) s = MathF.FusedMultiplyAdd(q[i * stride + p], k[j * stride + p], s);
                row[j] = masked && !mask[j] ? float.NegativeInfinity : s * scale;
            }
            SmallHeadAttention.SoftmaxInPlace<float>(row);
            for (int j = 0; j < t; j++) Assert.AreEqual(BitConverter.SingleToInt32Bits(row[j]), BitConverter.SingleToInt32Bits(a[i * t + j]), $"a[{i},{j}]");
            for (int c = 0; c < d; c++)
            {
                float acc = 0f;
                for (int j = 0; j < t; j++) acc = MathF.FusedMultiplyAdd(a[i * t + j], v[j * stride + c], acc);
                Assert.AreEqual(BitConverter.SingleToInt32Bits(acc), BitConverter.SingleToInt32Bits(o[i * outStride + c]), $"o[{i},{c}]");
            }
        }
    }

    [TestMethod]
    public void SmallHeadAttention_EveryKeyMasked_GivesZeroAttentionAndZeroOutput()
    {
        int t = 9, d = 8;
        var rng = new Random(2);
        float[] q = Rand(rng, t * d).Select(e => (float)e).ToArray();
        var o = new float[t * d]; var a = new float[t * t];
        SmallHeadAttention.Forward<float>(o, a, q, q, q, new bool[t], t, d, d, d, 0.5f);
        Assert.IsTrue(a.All(x => x == 0f)); Assert.IsTrue(o.All(x => x == 0f));
    }

    [TestMethod]
    public void SmallHeadAttention_ANaNScoreAmongMaskedKeysGivesNaNRows()
    {
        // Only key 3 is attended and its score is NaN: the row maximum is NaN, not −∞ (which would read as "every key
        // masked" and give zeros), so every attention row and output row is NaN, as SoftmaxInPlace gives on the same row.
        const int t = 16, d = 8;
        var q = Enumerable.Range(0, t * d).Select(i => 0.1f * (i % 7)).ToArray();
        var k = Enumerable.Range(0, t * d).Select(i => 0.05f * (i % 5)).ToArray();
        k[3 * d + 2] = float.NaN;
        var mask = Enumerable.Range(0, t).Select(j => j == 3).ToArray();
        var o = new float[t * d];
        var a = new float[t * t];
        SmallHeadAttention.Forward<float>(o, a, q, k, k, mask, t, d, d, d, 0.5f);
        Assert.IsTrue(a.All(float.IsNaN), "attention");
        Assert.IsTrue(o.All(float.IsNaN), "output");
        var row = Enumerable.Repeat(float.NegativeInfinity, t).ToArray();
        row[3] = float.NaN;
        SmallHeadAttention.SoftmaxInPlace<float>(row);
        Assert.IsTrue(row.All(float.IsNaN), "SoftmaxInPlace on the same scores");
    }

    [TestMethod]
    public void GeluErfKernel_MatchesFloat64Formula_ForwardAndBackward()
    {
        // gelu(x) = x/2 (1 + erf(x/√2)); gelu'(x) = (1 + erf(x/√2))/2 + x e^(−x²/2)/√(2π). A&S 7.1.26 erf is within 1.5e-7.
        int n = 1024 + 13; // one full chunk, then a chunk with a vector part and a scalar tail
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -6f + 12f * i / (n - 1);
        var y = new float[n];
        GeluErfKernel.Forward(y, x);
        var dy = x.Select((_, i) => 0.5f + (i % 5) * 0.25f).ToArray();
        var dx = Enumerable.Repeat(2f, n).ToArray();
        GeluErfKernel.Backward(dx, dy, x);
        for (int i = 0; i < n; i++)
        {
            double v = x[i], erf = SpecialFunctions.Erf(v / Math.Sqrt(2));
            double gelu = 0.5 * v * (1 + erf);
            double slope = 0.5 * (1 + erf) + v * Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI);
            Assert.AreEqual(gelu, y[i], 2e-6 * Math.Max(1, Math.Abs(v)), $"gelu({v})");
            Assert.AreEqual(2 + dy[i] * slope, dx[i], 4e-6, $"dx at {v}");
        }
        Assert.AreEqual(0f, y[Array.IndexOf(x, x.MinBy(Math.Abs))] , 1e-6f, "gelu(≈0) ≈ 0");
    }

    [TestMethod]
    public void GeluErfKernel_GivesTheBitsOfAnExpPassOverTheChunk()
    {
        // The committed zoos were trained through this kernel, so its bits are part of their bytes: the kernel's arithmetic
        // is written out here — e^(−x²/2) from TensorPrimitives passes (x·x, ·(−½), Exp), the vector erf lane by lane (its
        // first step a product and a sum, then fused multiply-adds), the scalar form on the tail — and compared bit for
        // bit, forward and backward. (Taking e from the runtime's Vector256.Exp in registers gives the same bits, but was
        // no faster: the exponential itself is the cost.)
        const float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;
        const float InvSqrt2 = 0.70710678f, InvSqrt2Pi = 0.39894228f;
        int n = 2048 + 1024 + 5, w = System.Numerics.Vector<float>.Count;
        var rng = new Random(31);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)((rng.NextDouble() * 2 - 1) * (i % 3 == 0 ? 14 : 4));
        x[7] = 0f; x[8] = -0f; x[9] = 13.5f; x[10] = -13.5f;
        var e = new float[n];
        System.Numerics.Tensors.TensorPrimitives.Multiply(x, x, e);
        System.Numerics.Tensors.TensorPrimitives.Multiply(e, -0.5f, e);
        System.Numerics.Tensors.TensorPrimitives.Exp(e, e);
        var expectY = new float[n];
        var dy = x.Select((_, i) => 0.25f + (i % 7) * 0.5f).ToArray();
        var expectDx = Enumerable.Repeat(-1.5f, n).ToArray();
        int vecEnd = n - n % w;
        for (int i = 0; i < n; i++)
        {
            float v = x[i], z = v * InvSqrt2, ev = e[i], t = 1f / (1f + P * MathF.Abs(z)), erfAbs;
            if (i < vecEnd)
            {
                float poly = A5 * t + A4; // the vector form: the first step a product and a sum, then fused multiply-adds
                poly = MathF.FusedMultiplyAdd(poly, t, A3);
                poly = MathF.FusedMultiplyAdd(poly, t, A2);
                poly = MathF.FusedMultiplyAdd(poly, t, A1);
                erfAbs = 1f - poly * t * ev;
            }
            else erfAbs = 1f - ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t * ev;
            float erf = z < 0 ? -erfAbs : erfAbs;
            expectY[i] = 0.5f * v * (1f + erf);
            float slope = 0.5f * (1f + erf) + v * ev * InvSqrt2Pi;
            expectDx[i] = MathF.FusedMultiplyAdd(dy[i], slope, expectDx[i]);
        }
        var y = new float[n];
        GeluErfKernel.Forward(y, x);
        var dx = Enumerable.Repeat(-1.5f, n).ToArray();
        GeluErfKernel.Backward(dx, dy, x);
        for (int i = 0; i < n; i++)
        {
            Assert.AreEqual(BitConverter.SingleToInt32Bits(expectY[i]), BitConverter.SingleToInt32Bits(y[i]), $"gelu({x[i]}) at {i}");
            Assert.AreEqual(BitConverter.SingleToInt32Bits(expectDx[i]), BitConverter.SingleToInt32Bits(dx[i]), $"dx at {i} (x {x[i]})");
        }
    }

    private static double[] Rand(Random rng, int n)
    {
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = rng.NextDouble() * 2 - 1;
        return a;
    }
}
