using MLNetMerge.Nn.Architectures;

namespace MLNetMerge.Tests.Nn;

/// <summary>BERT and RoBERTa against PyTorch reference dumps (padded batch with attention mask), and layout facts.</summary>
[TestClass]
public sealed class TextEncoderTests
{
    private const int B = 2, T = 7;

    public TestContext TestContext { get; set; } = null!;

    private static (int[] Ids, bool[] Mask) Inputs(Dictionary<string, float[]> io)
    {
        var input = io["input"]; // (2, B, T): ids then mask
        return (input.Take(B * T).Select(v => (int)v).ToArray(), input.Skip(B * T).Select(v => v != 0).ToArray());
    }

    private TextEncoder Run(string name)
    {
        var cfg = TextEncoderConfig.FromJson(EngineReference.Config(name));
        using var weights = EngineReference.Weights(name);
        var model = TextEncoder.Load(cfg, weights); // embeddings.position_ids buffer is skipped
        var io = EngineReference.Io(name);
        var (ids, mask) = Inputs(io);
        model.Forward(ids, mask, default, B, T);
        double hidden = EngineReference.MaxAbsDiff(model.Hidden, io["hidden"]);
        double emb = EngineReference.MaxAbsDiff(model.Embedding, io["embedding"]);
        model.Parameters.ZeroGrad();
        model.Backward(io["dhidden"], io["dembedding"]);
        var (worst, worstName) = EngineReference.CheckGradients(io, model.Parameters, 2e-3);
        TestContext.WriteLine($"{name}: forward max |Δhidden| = {hidden:E2}, max |Δembedding| = {emb:E2}; worst gradient rel. error {worst:E2} ({worstName})");
        Assert.IsTrue(hidden <= 1e-4 && emb <= 1e-4, $"forward errors {hidden:E3}, {emb:E3}");
        return model;
    }

    [TestMethod]
    public void Bert_MatchesPyTorch_ForwardAndEveryGradient()
    {
        var model = Run("bert");
        var pos = new int[B * T];
        model.PositionIds(pos, new int[B * T], B, T);
        CollectionAssert.AreEqual(new[] { 0, 1, 2, 3, 4, 5, 6 }, pos.Take(T).ToArray());
        Assert.AreEqual(1e-12, model.Config.LayerNormEps);
        CollectionAssert.Contains(model.Parameters.Layout.Entries.Select(e => e.Name).ToList(), "encoder.layer.1.attention.output.LayerNorm.weight");
    }

    [TestMethod]
    public void Roberta_MatchesPyTorch_ForwardAndEveryGradient_PositionsOffsetByPaddingIndex()
    {
        var model = Run("roberta");
        Assert.AreEqual(1, model.Config.PadTokenId);
        // Real tokens count from padding_idx + 1 = 2; padding gets padding_idx = 1.
        int[] ids = [5, 9, 7, 3, 8, 1, 1];
        var pos = new int[T];
        model.PositionIds(pos, ids, 1, T);
        CollectionAssert.AreEqual(new[] { 2, 3, 4, 5, 6, 1, 1 }, pos);
    }

    [TestMethod]
    public void Bert_AcceptsBertPrefix_AndMaskChangesOnlyWhatItShould()
    {
        var cfg = TextEncoderConfig.FromJson(EngineReference.Config("bert"));
        using var weights = EngineReference.Weights("bert");
        var prefixed = EngineReference.Copy(weights, "task", t => ("bert." + t.Name, t.Shape));
        prefixed.Add("classifier.weight", [3, 24], new float[72]);
        var model = TextEncoder.Load(cfg, prefixed);
        // The first sequence has no padding: appending padding (masked) to it leaves its hidden states unchanged.
        int[] ids = [5, 6, 7, 8, 9, 10, 11];
        model.Forward(ids, [], default, 1, 7);
        var full = model.Hidden.ToArray();
        int[] padded = [5, 6, 7, 8, 9, 10, 11, 0, 0];
        bool[] mask = [true, true, true, true, true, true, true, false, false];
        model.Forward(padded, mask, default, 1, 9);
        Assert.IsTrue(EngineReference.MaxAbsDiff(model.Hidden[..(7 * 24)], full) <= 1e-5);
    }
}
