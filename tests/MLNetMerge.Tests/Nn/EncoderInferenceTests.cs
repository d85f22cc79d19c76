using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Inference;
using MLNetMerge.Cli.Commands;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests.Nn;

/// <summary>Batched inference, linear heads and the <c>embed</c> command, against the PyTorch dumps.</summary>
[TestClass]
public sealed class EncoderInferenceTests
{
    private static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-embed-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    [TestMethod]
    public void Embed_InBatchesOfOne_EqualsTheReference()
    {
        using var reader = CheckpointReader.Open(Path.Combine(EngineReference.Dir, "vit.safetensors"));
        var session = new EncoderSession(ModelArchitecture.Load(reader, Path.Combine(EngineReference.Dir, "vit.config.json"), ArchitectureKind.Vit));
        var weights = session.ReadWeights(reader);
        session.Load(n => weights[n]);
        var io = EngineReference.Io("vit");
        var emb = EncoderInference.Embed(session.Model, io["input"], 2, batchSize: 1);
        Assert.IsTrue(EngineReference.MaxAbsDiff(emb, io["embedding"]) <= 1e-4);
    }

    [TestMethod]
    public void Classify_IsEmbeddingTimesHeadPlusBias()
    {
        // E = 2, K = 2: W = [[1, 2], [0, −1]], b = [0.5, 0]; e = [3, 4] → logits [3 + 8 + 0.5, −4] = [11.5, −4].
        var ckpt = new InMemoryCheckpoint("head").Add("classifier.weight", [2, 2], [1, 2, 0, -1]).Add("classifier.bias", [2], [0.5f, 0]);
        var head = LinearHead.Load(ckpt);
        CollectionAssert.AreEqual(new[] { 11.5f, -4f }, EncoderInference.Classify(head, [3, 4], 1));
        Assert.ThrowsExactly<ArchitectureMismatchException>(() => LinearHead.Load(new InMemoryCheckpoint("none").Add("x.bias", [2], [0, 0])));
    }

    [TestMethod]
    public void EmbedJob_WritesEmbeddingsAndHeadLogits_ForVisionAndText()
    {
        string dir = TempDir();
        try
        {
            var io = EngineReference.Io("clip_vision");
            string x = Path.Combine(dir, "x.npy"), y = Path.Combine(dir, "y.npy");
            NpyFile.Write(x, io["input"], [2, 3, 16, 16]);
            var shapeOut = new EmbedJob { ModelPath = Path.Combine(EngineReference.Dir, "clip_vision.safetensors"), Architecture = "clip_vision",
                ConfigPath = Path.Combine(EngineReference.Dir, "clip_vision.config.json"), InputPath = x, OutputPath = y }.Run();
            Assert.AreEqual((2, 16), shapeOut);
            var (emb, shape) = NpyFile.ReadFloat32(y);
            CollectionAssert.AreEqual(new[] { 2, 16 }, shape);
            Assert.IsTrue(EngineReference.MaxAbsDiff(emb, io["embedding"]) <= 1e-4);

            // A head over the 16-wide CLIP embedding: logits = e·Wᵀ + b.
            var w = Enumerable.Range(0, 3 * 16).Select(i => (i % 7 - 3) / 10f).ToArray();
            float[] b = [0.1f, -0.2f, 0.3f];
            string headPath = Path.Combine(dir, "head.safetensors");
            new InMemoryCheckpoint(headPath).Add("weight", [3, 16], w).Add("bias", [3], b).Save(headPath);
            string z = Path.Combine(dir, "z.npy");
            // No architecture given: config.json's model_type (clip) decides.
            new EmbedJob { ModelPath = Path.Combine(EngineReference.Dir, "clip_vision.safetensors"), ConfigPath = Path.Combine(EngineReference.Dir, "clip_vision.config.json"),
                InputPath = x, HeadPath = headPath, OutputPath = z }.Run();
            var (logits, lshape) = NpyFile.ReadFloat32(z);
            CollectionAssert.AreEqual(new[] { 2, 3 }, lshape);
            for (int n = 0; n < 2; n++)
                for (int k = 0; k < 3; k++)
                {
                    double expected = b[k];
                    for (int e = 0; e < 16; e++) expected += (double)io["embedding"][n * 16 + e] * w[k * 16 + e];
                    Assert.AreEqual(expected, logits[n * 3 + k], 1e-4);
                }

            // Text: int64 ids and mask; the roberta dump's pooled output.
            var tio = EngineReference.Io("roberta");
            string ids = Path.Combine(dir, "ids.npy"), mask = Path.Combine(dir, "mask.npy"), t = Path.Combine(dir, "t.npy");
            NpyFile.Write(ids, tio["input"].Take(14).Select(v => (long)v).ToArray(), [2, 7]);
            NpyFile.Write(mask, tio["input"].Skip(14).Select(v => (long)v).ToArray(), [2, 7]);
            new EmbedJob { ModelPath = Path.Combine(EngineReference.Dir, "roberta.safetensors"), Architecture = "roberta",
                ConfigPath = Path.Combine(EngineReference.Dir, "roberta.config.json"), InputPath = ids, MaskPath = mask, OutputPath = t, BatchSize = 1 }.Run();
            // Input that does not fit the model is a typed error naming the file.
            var err = Assert.ThrowsExactly<MergeException>(() => new EmbedJob { ModelPath = Path.Combine(EngineReference.Dir, "vit.safetensors"), Architecture = "vit",
                ConfigPath = Path.Combine(EngineReference.Dir, "vit.config.json"), InputPath = ids, OutputPath = t }.Run());
            StringAssert.Contains(err.Message, "ids.npy");
            var (temb, _) = NpyFile.ReadFloat32(t);
            Assert.IsTrue(EngineReference.MaxAbsDiff(temb, tio["embedding"]) <= 1e-4);
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void EmbedText_MeanPooling_IgnoresPaddedTokens()
    {
        var cfg = TextEncoderConfig.FromJson(EngineReference.Config("bert"));
        using var weights = EngineReference.Weights("bert");
        var model = TextEncoder.Load(cfg, weights);
        int[] ids = [5, 6, 7, 0, 0];
        bool[] mask = [true, true, true, false, false];
        var pooled = EncoderInference.EmbedText(model, ids, mask, 1, 5, TextPooling.Mean);
        var hidden = model.Hidden.ToArray();
        for (int c = 0; c < 24; c++)
            Assert.AreEqual((hidden[c] + hidden[24 + c] + hidden[48 + c]) / 3f, pooled[c], 1e-5f);
    }
}
