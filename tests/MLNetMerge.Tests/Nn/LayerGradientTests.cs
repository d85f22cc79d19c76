using MLNetMerge.Nn.Layers;
using static MLNetMerge.Tests.Nn.FiniteDifference;

namespace MLNetMerge.Tests.Nn;

/// <summary>Finite-difference checks (float64) of every layer's backward, through the same generic kernels float32 runs.</summary>
[TestClass]
internal sealed class LayerGradientTests
{
    [TestMethod]
    public void Linear_BackwardMatchesFiniteDifferences_AndAddsIntoGradients()
    {
        var rng = new Random(1);
        int n = 3, i = 5, o = 4;
        double[] x = Random(rng, n * i), w = Random(rng, o * i), b = Random(rng, o), r = Random(rng, n * o);
        double F() { var y = new double[n * o]; Linear.Forward<double>(y, x, w, b, n, i, o); return Dot(r, y); }
        var dx = new double[n * i]; var dw = new double[o * i]; var db = new double[o];
        Linear.Backward<double>(dx, dw, db, r, x, w, n, i, o);
        Check("dx", x, dx, F); Check("dW", w, dw, F); Check("db", b, db, F);

        // A second backward adds the same amounts again.
        var dw2 = (double[])dw.Clone();
        Linear.Backward<double>(default, dw2, default, r, x, w, n, i, o);
        for (int k = 0; k < dw.Length; k++) Assert.AreEqual(2 * dw[k], dw2[k], 1e-12);
    }

    [TestMethod]
    public void Projection_BackwardMatchesFiniteDifferences_AndIsLinearTransposed()
    {
        var rng = new Random(8);
        int n = 3, i = 5, o = 4;
        double[] x = Random(rng, n * i), pm = Random(rng, i * o), r = Random(rng, n * o);
        double F() { var y = new double[n * o]; Projection.Forward<double>(y, x, pm, n, i, o); return Dot(r, y); }
        double[] dx = new double[n * i], dp = new double[i * o];
        Projection.Backward<double>(dx, dp, r, x, pm, n, i, o);
        Check("dx", x, dx, F); Check("dP", pm, dp, F);
        // x·P equals Linear with W = Pᵀ.
        var w = new double[o * i];
        for (int a = 0; a < i; a++) for (int b = 0; b < o; b++) w[b * i + a] = pm[a * o + b];
        double[] y1 = new double[n * o], y2 = new double[n * o];
        Projection.Forward<double>(y1, x, pm, n, i, o);
        Linear.Forward<double>(y2, x, w, default, n, i, o);
        for (int k = 0; k < y1.Length; k++) Assert.AreEqual(y2[k], y1[k], 1e-12);
    }

    [TestMethod]
    public void LayerNorm_BackwardMatchesFiniteDifferences()
    {
        var rng = new Random(2);
        int n = 3, c = 7;
        double[] x = Random(rng, n * c, 2), g = Random(rng, c), be = Random(rng, c), r = Random(rng, n * c);
        double F() { var y = new double[n * c]; LayerNorm.Forward<double>(y, new double[n], new double[n], x, g, be, n, c, 1e-5); return Dot(r, y); }
        var y0 = new double[n * c]; var mean = new double[n]; var rstd = new double[n];
        LayerNorm.Forward<double>(y0, mean, rstd, x, g, be, n, c, 1e-5);
        var dx = new double[n * c]; var dg = new double[c]; var db = new double[c];
        LayerNorm.Backward<double>(dx, dg, db, new double[2 * c], r, x, mean, rstd, g, n, c);
        Check("dx", x, dx, F); Check("dgamma", g, dg, F); Check("dbeta", be, db, F);
    }

    [TestMethod]
    [DataRow(ActivationKind.GeluErf)]
    [DataRow(ActivationKind.GeluTanh)]
    [DataRow(ActivationKind.QuickGelu)]
    [DataRow(ActivationKind.Relu)]
    [DataRow(ActivationKind.Tanh)]
    public void Activation_BackwardMatchesFiniteDifferences(ActivationKind kind)
    {
        var rng = new Random(3);
        int n = 61;
        double[] x = Random(rng, n, 4), r = Random(rng, n);
        for (int k = 0; k < n; k++) if (Math.Abs(x[k]) < 1e-3) x[k] = 0.5; // keep ReLU away from its kink
        double F() { var y = new double[n]; Activation.Forward<double>(kind, y, x); return Dot(r, y); }
        var dx = new double[n];
        Activation.Backward<double>(kind, dx, r, x);
        Check(kind.ToString(), x, dx, F);
    }

    [TestMethod]
    [DataRow(false, false)]
    [DataRow(true, false)]
    [DataRow(false, true)]
    [DataRow(true, true)]
    public void Attention_BackwardMatchesFiniteDifferences(bool fused, bool masked)
    {
        var rng = new Random(4);
        int bsz = 2, t = 5, c = 8, h = 2;
        int stride = fused ? 3 * c : c;
        bool[] mask = masked ? [true, true, true, true, true, true, true, true, false, false] : [];
        double[] q, k, v, qkv = Random(rng, bsz * t * 3 * c);
        if (fused) { q = k = v = qkv; }
        else { q = Random(rng, bsz * t * c); k = Random(rng, bsz * t * c); v = Random(rng, bsz * t * c); }
        int ko = fused ? c : 0, vo = fused ? 2 * c : 0;
        double[] r = Random(rng, bsz * t * c);
        double F()
        {
            var y = new double[bsz * t * c];
            Attention.Forward<double>(y, new double[bsz * h * t * t], q, k.AsSpan(ko), v.AsSpan(vo), mask, bsz, t, c, h, stride);
            return Dot(r, y);
        }
        var att = new double[bsz * h * t * t];
        Attention.Forward<double>(new double[bsz * t * c], att, q, k.AsSpan(ko), v.AsSpan(vo), mask, bsz, t, c, h, stride);
        if (masked) Assert.AreEqual(0.0, att[(1 * h * t + 0) * t + 4], "masked key gets probability 0");
        if (fused)
        {
            var dqkv = new double[qkv.Length];
            Attention.Backward<double>(dqkv, dqkv.AsSpan(c), dqkv.AsSpan(2 * c), new double[t * t], r, att, q, k.AsSpan(ko), v.AsSpan(vo), bsz, t, c, h, stride);
            Check("dqkv", qkv, dqkv, F);
        }
        else
        {
            double[] dq = new double[q.Length], dk = new double[k.Length], dv = new double[v.Length];
            Attention.Backward<double>(dq, dk, dv, new double[t * t], r, att, q, k, v, bsz, t, c, h, stride);
            Check("dq", q, dq, F); Check("dk", k, dk, F); Check("dv", v, dv, F);
        }
    }

    [TestMethod]
    public void Attention_SplitOverCores_MatchesFloat64_AndGivesTheSameBitsAsOneCore()
    {
        // 4 batches × 4 heads × 64² × 16 is above the threshold at which the (b, h) pairs are split over the cores.
        var rng = new Random(10);
        int bsz = 4, t = 64, c = 64, h = 4;
        double[] q64 = Random(rng, bsz * t * c), k64 = Random(rng, bsz * t * c), v64 = Random(rng, bsz * t * c), r64 = Random(rng, bsz * t * c);
        float[] q = q64.Select(x => (float)x).ToArray(), k = k64.Select(x => (float)x).ToArray(), v = v64.Select(x => (float)x).ToArray(), r = r64.Select(x => (float)x).ToArray();
        var y = new float[bsz * t * c]; var att = new float[bsz * h * t * t];
        Attention.Forward<float>(y, att, q, k, v, default, bsz, t, c, h, c);
        var y64 = new double[y.Length];
        Attention.Forward<double>(y64, new double[att.Length], q64, k64, v64, default, bsz, t, c, h, c);
        for (int i = 0; i < y.Length; i++) Assert.AreEqual(y64[i], y[i], 1e-5);
        float[] dq1 = new float[q.Length], dk1 = new float[q.Length], dv1 = new float[q.Length];
        float[] dq2 = new float[q.Length], dk2 = new float[q.Length], dv2 = new float[q.Length];
        Attention.Backward<float>(dq1, dk1, dv1, new float[t * t], r, att, q, k, v, bsz, t, c, h, c);           // one core
        Attention.Backward<float>(dq2, dk2, dv2, new float[Attention.ScratchLength(t)], r, att, q, k, v, bsz, t, c, h, c); // every core
        CollectionAssert.AreEqual(dq1, dq2); CollectionAssert.AreEqual(dk1, dk2); CollectionAssert.AreEqual(dv1, dv2);
    }

    [TestMethod]
    public void Embedding_AndPositions_BackwardMatchFiniteDifferences()
    {
        var rng = new Random(5);
        int vocab = 6, c = 4, bsz = 2, t = 3;
        int[] ids = [1, 5, 1, 0, 2, 1];
        double[] table = Random(rng, vocab * c), pos = Random(rng, 4 * c), r = Random(rng, bsz * t * c);
        double F()
        {
            var y = new double[bsz * t * c];
            Embedding.Forward<double>(y, ids, table, c, accumulate: false);
            Embedding.AddPositions<double>(y, pos, bsz, t, c);
            return Dot(r, y);
        }
        var dTable = new double[table.Length]; var dPos = new double[pos.Length];
        Embedding.Backward<double>(dTable, r, ids, c);
        Embedding.AddPositionsBackward<double>(dPos, r, bsz, t, c);
        Check("dTable", table, dTable, F); Check("dPositions", pos, dPos, F);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Embedding.Forward<double>(new double[4], [6], table, c, false));
    }

    [TestMethod]
    public void PatchEmbedding_BackwardMatchesFiniteDifferences()
    {
        var rng = new Random(6);
        int bsz = 2, cin = 2, hgt = 4, wid = 6, p = 2, c = 3, np = (hgt / p) * (wid / p), kk = cin * p * p;
        double[] img = Random(rng, bsz * cin * hgt * wid), w = Random(rng, c * kk), b = Random(rng, c), r = Random(rng, bsz * np * c);
        double F() { var y = new double[bsz * np * c]; PatchEmbedding.Forward<double>(y, new double[bsz * np * kk], img, w, b, bsz, cin, hgt, wid, p, c); return Dot(r, y); }
        var cols = new double[bsz * np * kk];
        PatchEmbedding.Forward<double>(new double[bsz * np * c], cols, img, w, b, bsz, cin, hgt, wid, p, c);
        double[] dImg = new double[img.Length], dw = new double[w.Length], db = new double[c];
        PatchEmbedding.Backward<double>(dImg, dw, db, new double[cols.Length], r, cols, w, bsz, cin, hgt, wid, p, c);
        Check("dImages", img, dImg, F); Check("dW", w, dw, F); Check("db", b, db, F);
    }

    [TestMethod]
    public void PatchEmbedding_OrdersPatchesRowMajorLikeConvFlatten()
    {
        // One channel 2x4 image, patch 2, weight picks the top-left pixel of each patch:
        // patches (0,0) and (0,1) have top-left pixels img[0,0] = 0 and img[0,2] = 2.
        double[] img = [0, 1, 2, 3, 4, 5, 6, 7];
        double[] w = [1, 0, 0, 0];
        var y = new double[2];
        PatchEmbedding.Forward<double>(y, new double[8], img, w, default, 1, 1, 2, 4, 2, 1);
        CollectionAssert.AreEqual(new double[] { 0, 2 }, y);
    }

    [TestMethod]
    public void ClassToken_Residual_Dropout_Pooling_BackwardMatchFiniteDifferences()
    {
        var rng = new Random(7);
        int bsz = 2, np = 3, c = 4, t = np + 1;
        double[] cls = Random(rng, c), patches = Random(rng, bsz * np * c), other = Random(rng, bsz * t * c);
        double[] rTok = Random(rng, bsz * t * c), rPool = Random(rng, bsz * c), rMean = Random(rng, bsz * c);
        bool[] mask = [true, true, false, true, true, false, false, false];
        const double p = 0.3;
        double F()
        {
            var tok = new double[bsz * t * c];
            ClassToken.Forward<double>(tok, cls, patches, bsz, np, c);
            Residual.Forward<double>(tok, tok, other);
            Dropout.Forward<double>(tok, new double[tok.Length], tok, p, new Random(42));
            var pooled = new double[bsz * c]; var mean = new double[bsz * c];
            Pooling.ClsForward<double>(pooled, tok, bsz, t, c);
            Pooling.MeanForward<double>(mean, tok, mask, bsz, t, c);
            return Dot(rTok, tok) + Dot(rPool, pooled) + Dot(rMean, mean);
        }
        // forward with caches
        var tok0 = new double[bsz * t * c];
        ClassToken.Forward<double>(tok0, cls, patches, bsz, np, c);
        Residual.Forward<double>(tok0, tok0, other);
        var dropMask = new double[tok0.Length];
        Dropout.Forward<double>(tok0, dropMask, tok0, p, new Random(42));
        Assert.IsTrue(dropMask.Any(m => m == 0) && dropMask.Any(m => Math.Abs(m - 1 / 0.7) < 1e-12), "mask holds drops and scaled keeps");
        // backward
        var dTok = (double[])rTok.Clone();
        Pooling.ClsBackward<double>(dTok, rPool, bsz, t, c);
        Pooling.MeanBackward<double>(dTok, rMean, mask, bsz, t, c);
        var dRes = new double[dTok.Length];
        Dropout.Backward<double>(dRes, dTok, dropMask);
        var dOther = new double[other.Length]; var dCat = new double[dTok.Length];
        Residual.Backward<double>(dCat, dOther, dRes);
        var dCls = new double[c]; var dPatches = new double[patches.Length];
        ClassToken.Backward<double>(dCls, dPatches, dCat, bsz, np, c);
        Check("dcls", cls, dCls, F); Check("dpatches", patches, dPatches, F); Check("dother", other, dOther, F);
    }

    [TestMethod]
    public void Dropout_SameSeedGivesSameMask()
    {
        var x = Enumerable.Repeat(1f, 1000).ToArray();
        float[] m1 = new float[1000], m2 = new float[1000], y = new float[1000];
        Dropout.Forward<float>(y, m1, x, 0.5, new Random(9));
        Dropout.Forward<float>(y, m2, x, 0.5, new Random(9));
        CollectionAssert.AreEqual(m1, m2);
        int dropped = m1.Count(v => v == 0);
        Assert.IsTrue(dropped is > 400 and < 600, $"dropped {dropped} of 1000 at p = 0.5");
    }
}
