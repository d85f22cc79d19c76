using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Tests.Nn;
using MLNetMerge.Cli.Zoo;

namespace MLNetMerge.Tests.Text;

/// <summary>The masked-language-model head and loss: a hand-worked value, float64 finite differences of every gradient,
/// and pretraining lowering the loss.</summary>
[TestClass]
public sealed class MaskedLmHeadTests
{
    private const int M = 3, C = 4, V = 6;

    private sealed class Buffers
    {
        public double[] LogP = new double[M * V], Logits = new double[M * V], U = new double[M * C], A = new double[M * C], Z = new double[M * C];
        public double[] Mean = new double[M], Rstd = new double[M];
    }

    private static double Loss(Buffers b, double[] h, int[] y, double[] head, double[] e) =>
        MaskedLmHead.Forward<double>(b.LogP, b.Logits, b.U, b.A, b.Z, b.Mean, b.Rstd, h, y, head, e, M, C, V, ActivationKind.GeluErf, 1e-12);

    [TestMethod]
    public void ZeroDecoder_GivesUniformPrediction()
    {
        // With E = 0 and bd = 0 every logit is 0, so each row's softmax is uniform and L = ln V = ln 6 = 1.791759…,
        // whatever the hidden states and the transform.
        var rng = new Random(1);
        var h = FiniteDifference.Random(rng, M * C);
        var head = FiniteDifference.Random(rng, MaskedLmHead.ParameterCount(C, V));
        head.AsSpan(C * C + 3 * C, V).Clear();
        double loss = Loss(new Buffers(), h, [0, 3, 5], head, new double[V * C]);
        Assert.AreEqual(Math.Log(6), loss, 1e-12);
    }

    [TestMethod]
    public void Backward_MatchesFiniteDifferences()
    {
        var rng = new Random(7);
        var h = FiniteDifference.Random(rng, M * C);
        var head = FiniteDifference.Random(rng, MaskedLmHead.ParameterCount(C, V), 0.5);
        var e = FiniteDifference.Random(rng, V * C);
        int[] y = [2, 0, 5];
        var buf = new Buffers();
        Loss(buf, h, y, head, e);
        var dh = new double[M * C];
        var dHead = new double[head.Length];
        var dE = new double[V * C];
        var scratch = new double[MaskedLmHead.ScratchLength(M, C, V)];
        MaskedLmHead.Backward<double>(dh, dHead, dE, scratch, buf.LogP, buf.U, buf.A, buf.Z, buf.Mean, buf.Rstd, h, y, head, e, M, C, V, ActivationKind.GeluErf, 1.0);
        var probe = new Buffers();
        FiniteDifference.Check("dHidden", h, dh, () => Loss(probe, h, y, head, e));
        FiniteDifference.Check("dHead (transform, layer norm, decoder bias)", head, dHead, () => Loss(probe, h, y, head, e));
        FiniteDifference.Check("dWordEmbeddings (tied decoder)", e, dE, () => Loss(probe, h, y, head, e));
    }

    [TestMethod]
    public void Pretraining_LowersTheMaskedTokenLoss()
    {
        // A toy language: each sequence is [CLS] a a+1 a+2 … [SEP] (ids 5…19), so a masked token is predictable from
        // its neighbours. Eight epochs must bring the loss well below its start (ln 20 ≈ 3.0 for a uniform guess);
        // seed 3 gives 2.83, 2.61, 2.48, 2.22, 1.96, 1.72 over the first six.
        const int t = 8, n = 256, vocab = 20;
        var rng = new Random(3);
        var seqs = new int[n * t];
        for (int i = 0; i < n; i++)
        {
            int start = 5 + rng.Next(vocab - 5 - (t - 2));
            seqs[i * t] = 2;
            for (int j = 1; j < t - 1; j++) seqs[i * t + j] = start + j - 1;
            seqs[i * t + t - 1] = 3;
        }
        var model = new TextEncoder(new TextEncoderConfig
        {
            VocabSize = vocab, HiddenSize = 16, NumLayers = 1, NumHeads = 2, IntermediateSize = 32, MaxPositions = t, Pooler = false,
        });
        VisionTrainer.Initialize(model.Parameters, 1);
        var trainer = new MaskedLanguageModelPretrainer(model, 3e-3, 0.0, 2, maskId: 4, firstOrdinaryId: 5) { MaskRatio = 0.3 };
        var losses = Enumerable.Range(0, 8).Select(epoch => trainer.TrainEpoch(seqs, t, 16, (ulong)epoch)).ToArray();
        Assert.IsTrue(losses[0] > 2.0, $"first epoch {losses[0]:F3}");
        Assert.IsTrue(losses[^1] < 0.6 * losses[0] && losses[^1] < losses[^2], $"losses {string.Join(", ", losses.Select(l => l.ToString("F3")))}");
    }
}
