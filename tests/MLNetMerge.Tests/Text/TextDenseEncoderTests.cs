using MLNetMerge.Tensors;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Inference;
using MLNetMerge.Tensors.LinearAlgebra;

namespace MLNetMerge.Tests.Text;

/// <summary>The IDenseEncoder view of a text encoder: same embeddings as the encoder itself, padding masked, and a
/// backward that matches finite differences.</summary>
[TestClass]
public sealed class TextDenseEncoderTests
{
    private const int B = 2, T = 6;

    private static TextEncoder Model(bool pooler)
    {
        var model = new TextEncoder(new TextEncoderConfig
        {
            VocabSize = 12, HiddenSize = 8, NumLayers = 2, NumHeads = 2, IntermediateSize = 16, MaxPositions = T, Pooler = pooler,
        });
        new SeededRandom(5).FillGaussian(model.Parameters.Values, 0.3f);
        return model;
    }

    // Row 0: [CLS] 7 8 9 [SEP] [PAD]; row 1: [CLS] 10 [SEP] [PAD] [PAD] [PAD].
    private static readonly int[] Ids = [2, 7, 8, 9, 3, 0, 2, 10, 3, 0, 0, 0];
    private static float[] AsFloats => Ids.Select(i => (float)i).ToArray();

    [TestMethod]
    public void Embeddings_EqualTheEncodersOwn()
    {
        foreach (bool pooler in new[] { false, true })
        {
            var model = Model(pooler);
            var mask = Ids.Select(i => i != 0).ToArray();
            model.Forward(Ids, mask, default, B, T);
            var direct = model.Embedding.ToArray();
            var hidden = model.Hidden.ToArray();
            var dense = new TextDenseEncoder(model, T);
            Assert.AreEqual(T, dense.InputSize);
            dense.Forward(AsFloats, B);
            CollectionAssert.AreEqual(direct, dense.Embedding(B).ToArray(), $"pooler {pooler}");

            // Mean pooling: row 1 averages its 3 real tokens only.
            var mean = new TextDenseEncoder(model, T, TextPooling.Mean);
            mean.Forward(AsFloats, B);
            var e = mean.Embedding(B);
            for (int c = 0; c < 8; c++)
            {
                float expected = (hidden[(T + 0) * 8 + c] + hidden[(T + 1) * 8 + c] + hidden[(T + 2) * 8 + c]) / 3;
                Assert.AreEqual(expected, e[8 + c], 1e-5f);
            }
        }
    }

    [TestMethod]
    public void NonIntegerOrOutOfVocabularyIds_AreRejected()
    {
        var dense = new TextDenseEncoder(Model(false), T);
        var bad = AsFloats; bad[3] = 2.5f;
        Assert.ThrowsExactly<ArgumentException>(() => dense.Forward(bad, B));
        bad[3] = 12;
        Assert.ThrowsExactly<ArgumentException>(() => dense.Forward(bad, B));
    }

    [TestMethod]
    public void BackwardFromEmbedding_MatchesFiniteDifferences()
    {
        // Objective J = Σ r ⊙ embedding; ∂J/∂θ from BackwardFromEmbedding(r) against central differences (float32,
        // step 1e-2) on every 7th parameter, for CLS and mean pooling.
        foreach (var pooling in new[] { TextPooling.Pooler, TextPooling.Mean })
        {
            var model = Model(false);
            var dense = new TextDenseEncoder(model, T, pooling);
            var r = new float[B * 8];
            new SeededRandom(9).FillGaussian(r, 1f);
            double J()
            {
                dense.Forward(AsFloats, B);
                var e = dense.Embedding(B);
                double s = 0;
                for (int i = 0; i < r.Length; i++) s += r[i] * e[i];
                return s;
            }
            J();
            model.Parameters.ZeroGrad();
            dense.BackwardFromEmbedding(r, B);
            var grad = (float[])model.Parameters.Gradients.Clone();
            var values = model.Parameters.Values;
            double worst = 0, scale = grad.Max(Math.Abs);
            for (int i = 0; i < values.Length; i += 7)
            {
                float keep = values[i];
                values[i] = keep + 1e-2f; double up = J();
                values[i] = keep - 1e-2f; double down = J();
                values[i] = keep;
                worst = Math.Max(worst, Math.Abs((up - down) / 2e-2 - grad[i]));
            }
            Assert.IsTrue(worst / scale < 2e-2, $"{pooling}: finite-difference mismatch {worst / scale:E3} (max |grad| {scale:E3})");
        }
    }
}
