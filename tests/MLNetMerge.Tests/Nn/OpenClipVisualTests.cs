using MLNetMerge.Checkpoints;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Tests.Nn;

/// <summary>OpenCLIP's visual tower against PyTorch (nn.MultiheadAttention's fused in_proj), and its naming facts.</summary>
[TestClass]
public sealed class OpenClipVisualTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void OpenClip_InfersConfig_MatchesPyTorch_ForwardAndEveryGradient()
    {
        using var weights = EngineReference.Weights("openclip_visual");
        var cfg = VisionTransformerConfig.InferOpenClip(weights, ActivationKind.QuickGelu, headWidth: 6);
        Assert.AreEqual(24, cfg.HiddenSize);
        Assert.AreEqual(2, cfg.NumLayers);
        Assert.AreEqual(4, cfg.NumHeads);
        Assert.AreEqual(16, cfg.ImageSize);
        Assert.AreEqual(4, cfg.PatchSize);
        Assert.AreEqual(48, cfg.IntermediateSize);
        Assert.AreEqual(16, cfg.ProjectionDim);
        var model = VisionTransformer.Load(cfg, weights); // text-tower tensors (logit_scale, token_embedding) are skipped
        var io = EngineReference.Io("openclip_visual");
        model.Forward(io["input"], 2);
        double hidden = EngineReference.MaxAbsDiff(model.Hidden(2), io["hidden"]);
        double emb = EngineReference.MaxAbsDiff(model.Embedding(2), io["embedding"]);
        model.Parameters.ZeroGrad();
        model.Backward(io["dhidden"], io["dembedding"], 2);
        var (worst, name) = EngineReference.CheckGradients(io, model.Parameters, 2e-3);
        TestContext.WriteLine($"openclip_visual: forward max |Δhidden| = {hidden:E2}, max |Δembedding| = {emb:E2}; worst gradient rel. error {worst:E2} ({name})");
        Assert.IsTrue(hidden <= 1e-4 && emb <= 1e-4, $"forward errors {hidden:E3}, {emb:E3}");
    }

    [TestMethod]
    public void FusedInProj_SplitsRowsIntoQueryKeyValue_AndProjIsTransposedVisualProjection()
    {
        // Convert the OpenCLIP checkpoint to Hugging Face CLIP names by hand: in_proj_weight rows [0, C) are q_proj,
        // [C, 2C) k_proj, [2C, 3C) v_proj; visual.proj (C, E) is visual_projection.weight (E, C) transposed.
        using var open = EngineReference.Weights("openclip_visual");
        var all = EngineReference.ReadAll(open);
        const int c = 24, e = 16;
        var hf = new InMemoryCheckpoint("converted");
        void Put(string name, int[] shape, float[] v) => hf.Add(name, shape, v);
        Put("vision_model.embeddings.class_embedding", [c], all["visual.class_embedding"]);
        Put("vision_model.embeddings.patch_embedding.weight", [c, 3, 4, 4], all["visual.conv1.weight"]);
        Put("vision_model.embeddings.position_embedding.weight", [17, c], all["visual.positional_embedding"]);
        Put("vision_model.pre_layrnorm.weight", [c], all["visual.ln_pre.weight"]);
        Put("vision_model.pre_layrnorm.bias", [c], all["visual.ln_pre.bias"]);
        for (int i = 0; i < 2; i++)
        {
            string r = $"visual.transformer.resblocks.{i}.", h = $"vision_model.encoder.layers.{i}.";
            string[] qkv = ["q_proj", "k_proj", "v_proj"];
            for (int j = 0; j < 3; j++)
            {
                Put(h + $"self_attn.{qkv[j]}.weight", [c, c], all[r + "attn.in_proj_weight"].AsSpan(j * c * c, c * c).ToArray());
                Put(h + $"self_attn.{qkv[j]}.bias", [c], all[r + "attn.in_proj_bias"].AsSpan(j * c, c).ToArray());
            }
            foreach (var (from, to) in new[] { ("attn.out_proj", "self_attn.out_proj"), ("ln_1", "layer_norm1"), ("ln_2", "layer_norm2"), ("mlp.c_fc", "mlp.fc1"), ("mlp.c_proj", "mlp.fc2") })
                foreach (var kind in new[] { "weight", "bias" })
                {
                    var t = open.Tensors.Single(x => x.Name == $"{r}{from}.{kind}");
                    Put($"{h}{to}.{kind}", t.Shape, all[t.Name]);
                }
        }
        Put("vision_model.post_layernorm.weight", [c], all["visual.ln_post.weight"]);
        Put("vision_model.post_layernorm.bias", [c], all["visual.ln_post.bias"]);
        var projT = new float[e * c];
        for (int a = 0; a < c; a++) for (int b = 0; b < e; b++) projT[b * c + a] = all["visual.proj"][a * e + b];
        Put("visual_projection.weight", [e, c], projT);

        var openModel = VisionTransformer.Load(VisionTransformerConfig.InferOpenClip(open, ActivationKind.QuickGelu, headWidth: 6), open);
        var hfModel = VisionTransformer.Load(new VisionTransformerConfig
        {
            Flavor = VisionFlavor.ClipVision, ImageSize = 16, PatchSize = 4, HiddenSize = c, NumLayers = 2, NumHeads = 4,
            IntermediateSize = 48, Activation = ActivationKind.QuickGelu, LayerNormEps = 1e-5, ProjectionDim = e,
        }, hf);
        var io = EngineReference.Io("openclip_visual");
        openModel.Forward(io["input"], 2);
        hfModel.Forward(io["input"], 2);
        Assert.IsTrue(EngineReference.MaxAbsDiff(openModel.Embedding(2), hfModel.Embedding(2)) <= 1e-6);
        var names = openModel.Parameters.Layout.Entries.Select(x => x.Name).ToList();
        CollectionAssert.Contains(names, "visual.transformer.resblocks.0.attn.in_proj_weight");
        CollectionAssert.Contains(names, "visual.ln_pre.weight");
        CollectionAssert.Contains(names, "visual.ln_post.bias");
        Assert.AreEqual("[24, 16]", openModel.Parameters.Layout.Entries[openModel.Parameters.Layout.IndexOf("visual.proj")].ShapeText);
    }
}
