using MLNetMerge.Checkpoints;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Tests.Nn;

/// <summary>ViT and CLIP vision against PyTorch reference dumps, and the facts of the published layouts.</summary>
[TestClass]
public sealed class VisionTransformerTests
{
    public TestContext TestContext { get; set; } = null!;

    private (VisionTransformer Model, Dictionary<string, float[]> Io) Run(string name)
    {
        var cfg = VisionTransformerConfig.FromJson(EngineReference.Config(name));
        using var weights = EngineReference.Weights(name);
        var model = VisionTransformer.Load(cfg, weights);
        var io = EngineReference.Io(name);
        int batch = 2;
        model.Forward(io["input"], batch);
        double hidden = EngineReference.MaxAbsDiff(model.Hidden(batch), io["hidden"]);
        double emb = EngineReference.MaxAbsDiff(model.Embedding(batch), io["embedding"]);
        model.Parameters.ZeroGrad();
        model.Backward(io["dhidden"], io["dembedding"], batch);
        var (worst, worstName) = EngineReference.CheckGradients(io, model.Parameters, 2e-3);
        TestContext.WriteLine($"{name}: forward max |Δhidden| = {hidden:E2}, max |Δembedding| = {emb:E2}; worst gradient rel. error {worst:E2} ({worstName})");
        Assert.IsTrue(hidden <= 1e-4, $"hidden max abs error {hidden:E3}");
        Assert.IsTrue(emb <= 1e-4, $"embedding max abs error {emb:E3}");
        return (model, io);
    }

    [TestMethod]
    public void Vit_MatchesPyTorch_ForwardAndEveryGradient() => Run("vit");

    [TestMethod]
    public void ClipVision_MatchesPyTorch_ForwardAndEveryGradient() => Run("clip_vision");

    [TestMethod]
    public void Vit_SecondStepReusesBuffers_AndGivesIdenticalResults()
    {
        var (model, io) = Run("vit");
        var first = model.Embedding(2).ToArray();
        var grads = (float[])model.Parameters.Gradients.Clone();
        model.Forward(io["input"], 2);
        model.Parameters.ZeroGrad();
        model.Backward(io["dhidden"], io["dembedding"], 2);
        CollectionAssert.AreEqual(first, model.Embedding(2).ToArray());
        CollectionAssert.AreEqual(grads, model.Parameters.Gradients);
    }

    [TestMethod]
    public void Vit_GrowingTheBatch_ReplansBuffers_AndKeepsResults()
    {
        var cfg = VisionTransformerConfig.FromJson(EngineReference.Config("vit"));
        using var weights = EngineReference.Weights("vit");
        var model = VisionTransformer.Load(cfg, weights);
        var io = EngineReference.Io("vit");
        int per = model.InputSize;
        model.Forward(io["input"].AsSpan(0, per), 1);                // plans for batch 1
        var single = model.Embedding(1).ToArray();
        model.Forward(io["input"], 2);                               // grows to batch 2
        Assert.IsTrue(EngineReference.MaxAbsDiff(model.Embedding(2), io["embedding"]) <= 1e-4);
        Assert.IsTrue(EngineReference.MaxAbsDiff(model.Embedding(2)[..single.Length], single) <= 1e-6);
    }

    [TestMethod]
    public void ClipLayout_PinsPublishedFacts()
    {
        var cfg = VisionTransformerConfig.FromJson(EngineReference.Config("clip_vision"));
        // QuickGELU (hidden_act quick_gelu) and eps 1e-5 from the CLIP config.
        Assert.AreEqual(ActivationKind.QuickGelu, cfg.Activation);
        Assert.AreEqual(1e-5, cfg.LayerNormEps);
        Assert.AreEqual(VisionFlavor.ClipVision, cfg.Flavor);
        using var weights = EngineReference.Weights("clip_vision");
        // The published checkpoint spells the pre-encoder norm "pre_layrnorm".
        Assert.IsTrue(weights.TryGetTensor("vision_model.pre_layrnorm.weight", out _));
        // The int64 position_ids buffer is present in the file and ignored by the loader.
        Assert.IsTrue(weights.TryGetTensor("vision_model.embeddings.position_ids", out var ids));
        Assert.AreEqual(Tensors.DType.I64, ids.DType);
        var model = VisionTransformer.Load(cfg, weights);
        var names = model.Parameters.Layout.Entries.Select(e => e.Name).ToHashSet();
        Assert.IsTrue(names.Contains("vision_model.pre_layrnorm.weight"));
        Assert.IsFalse(names.Contains("vision_model.embeddings.position_ids"));
        // visual_projection has no bias; the patch embedding has none either.
        Assert.IsTrue(names.Contains("visual_projection.weight"));
        Assert.IsFalse(names.Contains("visual_projection.bias"));
        Assert.IsFalse(names.Contains("vision_model.embeddings.patch_embedding.bias"));
        Assert.AreEqual(16, model.EmbeddingSize);
    }

    [TestMethod]
    public void VitLayout_UsesHuggingFaceNames_AndAcceptsVitPrefix()
    {
        var cfg = VisionTransformerConfig.FromJson(EngineReference.Config("vit"));
        Assert.AreEqual(ActivationKind.GeluErf, cfg.Activation);
        Assert.AreEqual(1e-12, cfg.LayerNormEps);
        using var weights = EngineReference.Weights("vit");
        var prefixed = EngineReference.Copy(weights, "prefixed", t => ("vit." + t.Name, t.Shape));
        prefixed.Add("classifier.weight", [10, 24], new float[240]).Add("classifier.bias", [10], new float[10]);
        var a = VisionTransformer.Load(cfg, weights);
        var b = VisionTransformer.Load(cfg, prefixed);
        CollectionAssert.AreEqual(a.Parameters.Values, b.Parameters.Values);
        var names = a.Parameters.Layout.Entries.Select(e => e.Name).ToList();
        CollectionAssert.Contains(names, "encoder.layer.1.attention.attention.query.weight");
        CollectionAssert.Contains(names, "encoder.layer.0.attention.output.dense.bias");
        CollectionAssert.Contains(names, "embeddings.patch_embeddings.projection.weight");
        CollectionAssert.Contains(names, "pooler.dense.weight");
    }

    [TestMethod]
    public void Load_WrongCheckpoint_ListsEveryDifference()
    {
        var cfg = VisionTransformerConfig.FromJson(EngineReference.Config("vit"));
        using var weights = EngineReference.Weights("vit");
        var broken = EngineReference.Copy(weights, "broken.safetensors", t => t.Name switch
        {
            "layernorm.bias" => null,                                                            // missing
            "encoder.layer.0.intermediate.dense.weight" => (t.Name, new[] { 24, 48 }),           // mis-shaped
            _ => (t.Name, t.Shape),
        });
        broken.Add("encoder.layer.2.output.dense.weight", [24, 48], new float[24 * 48]);  // unexpected
        var e = Assert.ThrowsExactly<ArchitectureMismatchException>(() => VisionTransformer.Load(cfg, broken));
        CollectionAssert.AreEqual(new[] { "layernorm.bias" }, e.Missing.ToArray());
        CollectionAssert.AreEqual(new[] { "encoder.layer.2.output.dense.weight" }, e.Unexpected.ToArray());
        Assert.AreEqual(("encoder.layer.0.intermediate.dense.weight", "[24, 48]", "[48, 24]"), e.MisShaped.Single());
        StringAssert.Contains(e.Message, "broken.safetensors");
    }
}
