using MLNetMerge.Nn;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Tensors;

namespace MLNetMerge.Tests.Nn;

/// <summary>
/// <see cref="PackedMatrix"/> (op(B) packed once) gives a product the bits of packing B inside it, and
/// <see cref="FrozenWeights"/> makes the inference forward pack each weight once and read its panels afterwards.
/// </summary>
[TestClass]
internal sealed class FrozenWeightsTests
{
    private static float[] Random(int length, ulong seed) => GemmTests.Random(length, seed);

    [TestMethod]
    public void APrepackedOperandGivesThePackedProductsBits()
    {
        // k over one and over two k-blocks, n with a partial panel and several column blocks, one and two threads.
        foreach (var path in GemmTests.SupportedPaths())
            foreach (bool tb in new[] { false, true })
                foreach (var (m, n, k) in new[] { (210, 1000, 800), (150, 333, 129), (97, 70, 50) })
                    foreach (int threads in new[] { 1, 2 })
                    {
                        var (a, lda, b, ldb, c0, ldc) = GemmTests.StridedOperands(m, n, k, tb, 1);
                        var packedEachTime = (float[])c0.Clone();
                        var prepacked = (float[])c0.Clone();
                        Gemm.MultiplyCore(false, tb, m, n, k, 0.7f, a, lda, b, ldb, 0.3f, packedEachTime, ldc, threads, path);
                        using var packed = PackedMatrix.TryCreate(path, tb, b, ldb, n, k);
                        Assert.IsNotNull(packed);
                        Gemm.MultiplyCore(false, tb, m, n, k, 0.7f, a, lda, b, ldb, 0.3f, prepacked, ldc, threads, path, default, packed);
                        for (int i = 0; i < prepacked.Length; i++)
                            Assert.AreEqual(BitConverter.SingleToInt32Bits(packedEachTime[i]), BitConverter.SingleToInt32Bits(prepacked[i]),
                                $"{path} tB={tb} {m}x{n}x{k} on {threads} thread(s): element {i}");
                    }
    }

    [TestMethod]
    public void TheProductReadsThePanelsNotB()
    {
        // Panels packed from B, then B zeroed: a product that read B would give beta · C only.
        const int m = 128, n = 96, k = 80; // 983 040 multiply-adds: over the two-thread threshold (96³)
        var a = Random(m * k, 4); var b = Random(n * k, 5);
        var expected = new float[m * n];
        Gemm.MultiplyCore(false, true, m, n, k, 1f, a, k, b, k, 0f, expected, n, 1, Gemm.BestPath);
        using var packed = PackedMatrix.TryCreate(Gemm.BestPath, true, b, k, n, k)!;
        Array.Clear(b);
        var c = new float[m * n];
        Gemm.MultiplyCore(false, true, m, n, k, 1f, a, k, b, k, 0f, c, n, 1, Gemm.BestPath, default, packed);
        CollectionAssert.AreEqual(expected, c);
        // Room for panels, filled by the first product that gets it (two threads), read by the next.
        b = Random(n * k, 5);
        using var filled = PackedMatrix.TryAllocate(Gemm.BestPath, true, n, k)!;
        Assert.IsFalse(filled.IsComplete);
        Gemm.MultiplyCore(false, true, m, n, k, 1f, a, k, b, k, 0f, c, n, 2, Gemm.BestPath, default, filled);
        Assert.IsTrue(filled.IsComplete);
        CollectionAssert.AreEqual(expected, c);
        Array.Clear(b);
        Array.Clear(c);
        Gemm.MultiplyCore(false, true, m, n, k, 1f, a, k, b, k, 0f, c, n, 2, Gemm.BestPath, default, filled);
        CollectionAssert.AreEqual(expected, c);
        // Panels of another shape are not used: this product reads B (now zero).
        using var other = PackedMatrix.TryCreate(Gemm.BestPath, true, Random(n * (k - 1), 6), k - 1, n, k - 1)!;
        Gemm.MultiplyCore(false, true, m, n, k, 1f, a, k, b, k, 0f, c, n, 1, Gemm.BestPath, default, other);
        Assert.IsTrue(c.All(v => v == 0f));
    }

    [TestMethod]
    public void AProductReadsTheLeadingPanelsOfACompleteMatrixWithMoreColumns()
    {
        // op(B) packed whole (n = 200 columns), products over its first 64, 100 (a partial last panel on either path)
        // and 200 columns, as the block rows of a symmetric product read growing prefixes: the bits of packing the prefix.
        const int m = 150, nWhole = 200, k = 420; // two k-blocks on either path: the k-blocks of the panels sit N columns apart
        foreach (var path in GemmTests.SupportedPaths())
            foreach (bool tb in new[] { false, true })
                foreach (int threads in new[] { 1, 2 })
                {
                    var a = Random(m * k, 11);
                    var b = Random(nWhole * k, 12); // (nWhole, k) when tb, else (k, nWhole)
                    int ldb = tb ? k : nWhole;
                    using var packed = PackedMatrix.TryCreate(path, tb, b, ldb, nWhole, k)!;
                    foreach (int n in new[] { 64, 100, nWhole })
                    {
                        var own = new float[m * n];
                        var prefix = new float[m * n];
                        Gemm.MultiplyCore(false, tb, m, n, k, 1f, a, k, b, ldb, 0f, own, n, threads, path);
                        Gemm.MultiplyCore(false, tb, m, n, k, 1f, a, k, b, ldb, 0f, prefix, n, threads, path, default, packed);
                        for (int i = 0; i < own.Length; i++)
                            Assert.AreEqual(BitConverter.SingleToInt32Bits(own[i]), BitConverter.SingleToInt32Bits(prefix[i]),
                                $"{path} tB={tb} n={n} of {nWhole} on {threads} thread(s): element {i}");
                    }
                    // The panels, not B: with B zeroed a product still gives A · op(B)[:, :64].
                    var expected = new float[m * 64];
                    Gemm.MultiplyCore(false, tb, m, 64, k, 1f, a, k, b, ldb, 0f, expected, 64, threads, path);
                    var zeroB = new float[b.Length];
                    var c = new float[m * 64];
                    Gemm.MultiplyCore(false, tb, m, 64, k, 1f, a, k, zeroB, ldb, 0f, c, 64, threads, path, default, packed);
                    CollectionAssert.AreEqual(expected, c, $"{path} tB={tb}");
                }
        // Room not packed yet is no prefix: a product of fewer columns packs its own B (here zero) and leaves the room empty.
        using var room = PackedMatrix.TryAllocate(Gemm.BestPath, true, nWhole, k)!;
        Assert.IsFalse(room.Fits(Gemm.BestPath, true, 64, k));
        Assert.IsTrue(room.Fits(Gemm.BestPath, true, nWhole, k));
        var none = Enumerable.Repeat(1f, m * 64).ToArray();
        Gemm.MultiplyCore(false, true, m, 64, k, 1f, Random(m * k, 13), k, new float[nWhole * k], k, 0f, none, 64, 1, Gemm.BestPath, default, room);
        Assert.IsTrue(none.All(v => v == 0f));
        Assert.IsFalse(room.IsComplete);
    }

    [TestMethod]
    public unsafe void PanelsGivenBackServeTheNextMatrixOfTheirSize()
    {
        // Fresh pages are slow to touch: a disposed matrix's buffer is kept for the next one of the same size, unpacked.
        var first = PackedMatrix.TryCreate(Gemm.BestPath, true, Random(40 * 56, 10), 56, 40, 56)!;
        nint data = (nint)first.Data;
        first.Dispose();
        using var next = PackedMatrix.TryAllocate(Gemm.BestPath, true, 40, 56)!;
        using var other = PackedMatrix.TryAllocate(Gemm.BestPath, true, 40, 57)!;
        Assert.AreEqual(data, (nint)next.Data);
        Assert.IsFalse(next.IsComplete);
        Assert.AreNotEqual(data, (nint)other.Data);
    }

    [TestMethod]
    public void AnOperandLargerThanOneSlabIsNotPrepacked()
    {
        // BERT's word-embedding tying shape (30522, 384): one slab holds 4 Mi floats, 10 880 of its columns at k = 384.
        Assert.IsFalse(GemmDriver.IsOneSlab(GemmPath.Avx512, 30522, 384));
        Assert.IsTrue(GemmDriver.IsOneSlab(GemmPath.Avx512, 3072, 768));
        Assert.IsNull(PackedMatrix.TryCreate(GemmPath.Avx512, true, new float[30522 * 384], 384, 30522, 384));
    }

    private static VisionTransformer TinyClip()
    {
        var cfg = new VisionTransformerConfig
        {
            Flavor = VisionFlavor.ClipVision, ImageSize = 32, PatchSize = 8, HiddenSize = 64, NumLayers = 2, NumHeads = 4,
            IntermediateSize = 256, Activation = ActivationKind.QuickGelu, LayerNormEps = 1e-5, ProjectionDim = 32,
        };
        var model = new VisionTransformer(cfg);
        Random(model.Parameters.Values.Length, 7).Select(v => v * 0.1f).ToArray().CopyTo(model.Parameters.Values, 0);
        return model;
    }

    [TestMethod]
    public void AFrozenForwardGivesTheSameBitsAndPacksEachWeightOnce()
    {
        var model = TinyClip();
        const int batch = 6; // 6 × 17 tokens: every block GEMM above the direct-product threshold
        var images = Random(batch * model.InputSize, 8);
        model.Forward(images, batch);
        var plain = model.Embedding(batch).ToArray();
        using (var frozen = FrozenWeights.Begin(model.Parameters))
        {
            model.Forward(images, batch);
            CollectionAssert.AreEqual(plain, model.Embedding(batch).ToArray(), "first frozen batch");
            int packed = frozen.PackedWeights;
            Assert.AreEqual(2 * 6, packed, "two blocks × (q, k, v, out, fc1, fc2): the HF CLIP layout keeps q, k, v apart");
            // Inside the scope the weights are promised constant; a change is not seen — the panels are what is read.
            foreach (var e in model.Parameters.Layout.Entries.Where(e => e.Name.EndsWith("fc1.weight", StringComparison.Ordinal)))
                model.Parameters.Value(e.Name).Fill(0f);
            model.Forward(images, batch);
            Assert.AreEqual(packed, frozen.PackedWeights, "nothing packed again");
            CollectionAssert.AreEqual(plain, model.Embedding(batch).ToArray(), "read from the panels packed before the change");
        }
        model.Forward(images, batch); // scope closed: the zeroed fc1 weights are read
        CollectionAssert.AreNotEqual(plain, model.Embedding(batch).ToArray());
    }

    [TestMethod]
    public void ScopesNestAndCloseInnermostFirst()
    {
        var model = TinyClip();
        var images = Random(6 * model.InputSize, 9);
        using var outer = FrozenWeights.Begin(model.Parameters);
        using (var inner = FrozenWeights.Begin(model.Parameters))
        {
            model.Forward(images, 6);
            Assert.AreEqual(0, inner.PackedWeights, "an inner scope over the same arena adds nothing");
            Assert.AreEqual(12, outer.PackedWeights);
        }
        var second = FrozenWeights.Begin(TinyClip().Parameters);
        Assert.ThrowsExactly<InvalidOperationException>(() => outer.Dispose());
        second.Dispose();
    }
}
