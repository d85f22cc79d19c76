using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Inference;
using MLNetMerge.Nn.Losses;
using MLNetMerge.Nn.Optim;

namespace MLNetMerge.Tests.Nn;

/// <summary>A whole training step: ViT + linear head + cross-entropy + AdamW, reusing every buffer.</summary>
[TestClass]
public sealed class TrainingStepTests
{
    private sealed class Trainer
    {
        private const int Batch = 2, Classes = 3;
        public readonly VisionTransformer Model;
        public readonly LinearHead Head;
        private readonly Adam _encoderOpt, _headOpt;
        private readonly float[] _images;
        private readonly int[] _labels = [0, 2];
        private readonly float[] _logits = new float[Batch * Classes], _logProbs = new float[Batch * Classes], _dLogits = new float[Batch * Classes];
        private readonly float[] _dEmb;

        public Trainer()
        {
            var cfg = VisionTransformerConfig.FromJson(EngineReference.Config("vit"));
            using var weights = EngineReference.Weights("vit");
            Model = VisionTransformer.Load(cfg, weights);
            Head = new LinearHead(Model.EmbeddingSize, Classes);
            var w = Head.Parameters.Value(0);
            for (int i = 0; i < w.Length; i++) w[i] = ((i * 7) % 11 - 5) / 20f;
            _images = EngineReference.Io("vit")["input"];
            _dEmb = new float[Batch * Model.EmbeddingSize];
            _encoderOpt = Adam.AdamW(Model.Parameters.Values.Length, learningRate: 1e-3);
            _headOpt = Adam.AdamW(Head.Parameters.Values.Length, learningRate: 1e-2);
        }

        public float Step()
        {
            Model.Forward(_images, Batch);
            var emb = Model.Embedding(Batch);
            Head.Forward(_logits, emb, Batch);
            float loss = CrossEntropy.Forward<float>(_logProbs, _logits, _labels, Batch, Classes);
            Array.Clear(_dLogits);
            CrossEntropy.Backward<float>(_dLogits, _logProbs, _labels, Batch, Classes, 1f);
            Model.Parameters.ZeroGrad();
            Head.Parameters.ZeroGrad();
            Array.Clear(_dEmb);
            Head.Backward(_dEmb, _dLogits, emb, Batch);
            Model.Backward(default, _dEmb, Batch);
            GradientClipping.ClipByGlobalNorm(Model.Parameters.Gradients, 1f);
            _encoderOpt.Step(Model.Parameters.Values, Model.Parameters.Gradients);
            _headOpt.Step(Head.Parameters.Values, Head.Parameters.Gradients);
            return loss;
        }
    }

    [TestMethod]
    public void TrainingSteps_LowerTheLoss_AndAllocateNothing()
    {
        var trainer = new Trainer();
        float first = trainer.Step();
        trainer.Step(); // warm-up: buffers planned, per-thread jobs created
        long before = GC.GetAllocatedBytesForCurrentThread();
        float last = 0;
        for (int i = 0; i < 20; i++) last = trainer.Step();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.IsTrue(last < 0.5f * first, $"loss {first} → {last} after 22 AdamW steps on two examples");
        Assert.AreEqual(0L, allocated, "a training step allocates nothing on the calling thread");
    }
}
