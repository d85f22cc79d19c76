using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Tests.Nn;

[TestClass]
public sealed class MlpTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Mlp_MatchesPyTorch_ForwardAndEveryGradient()
    {
        var cfg = MlpConfig.FromJson(EngineReference.Config("mlp"));
        Assert.AreEqual(ActivationKind.GeluTanh, cfg.Activation);
        var model = new Mlp(cfg);
        using (var weights = EngineReference.Weights("mlp")) model.Load(weights);
        var io = EngineReference.Io("mlp");
        model.Forward(io["input"], 4);
        double fwd = EngineReference.MaxAbsDiff(model.Output(4), io["hidden"]);
        model.Backward(io["dhidden"], 4);
        var (worst, name) = EngineReference.CheckGradients(io, model.Parameters, 2e-3);
        TestContext.WriteLine($"mlp: forward max abs error {fwd:E2}; worst gradient rel. error {worst:E2} ({name})");
        Assert.IsTrue(fwd <= 1e-4, $"forward max abs error {fwd:E3}");
    }
}

[TestClass]
public sealed class ModelConfigFileTests
{
    [TestMethod]
    public void Detect_ReadsModelType()
    {
        Assert.AreEqual(ArchitectureKind.Vit, ModelConfigFile.Load(Path.Combine(EngineReference.Dir, "vit.config.json")).Kind);
        var (kind, config) = ModelConfigFile.Load(Path.Combine(EngineReference.Dir, "clip_vision.config.json"));
        Assert.AreEqual(ArchitectureKind.ClipVision, kind);
        Assert.AreEqual(16, ((VisionTransformerConfig)config).ProjectionDim);
        Assert.AreEqual(ArchitectureKind.Mlp, ModelConfigFile.Load(Path.Combine(EngineReference.Dir, "mlp.config.json")).Kind);
        var roberta = ModelConfigFile.Load(Path.Combine(EngineReference.Dir, "roberta.config.json"));
        Assert.AreEqual(ArchitectureKind.Roberta, roberta.Kind);
        Assert.AreEqual(1, ((TextEncoderConfig)roberta.Config).PadTokenId);
        Assert.ThrowsExactly<ArgumentException>(() => ModelConfigFile.Detect(System.Text.Json.JsonDocument.Parse("{\"model_type\":\"gpt2\"}").RootElement));
    }
}
