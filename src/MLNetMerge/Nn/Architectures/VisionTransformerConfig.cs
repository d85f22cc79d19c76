using System.Text.Json;
using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Nn.Architectures;

/// <summary>Which published vision transformer a <see cref="VisionTransformer"/> follows (naming and block details).</summary>
internal enum VisionFlavor
{
    /// <summary>Hugging Face <c>ViTModel</c> (<c>model_type: vit</c>): patch conv with bias, final layernorm, optional tanh pooler.</summary>
    Vit,
    /// <summary>Hugging Face <c>CLIPVisionModel</c> (<c>model_type: clip_vision_model</c> or <c>clip</c>): bias-free patch conv,
    /// <c>pre_layrnorm</c>, <c>post_layernorm</c> on the CLS token, optional bias-free <c>visual_projection</c>.</summary>
    ClipVision,
    /// <summary>OpenCLIP's visual tower (<c>visual.*</c>, how the model-merging literature stores CLIP task checkpoints):
    /// fused <c>attn.in_proj_weight</c>, <c>ln_pre</c>, <c>ln_post</c> on the CLS token, and <c>proj</c> (C, E) applied as <c>x @ proj</c>.</summary>
    OpenClipVisual,
}

/// <summary>Hyper-parameters of a ViT or CLIP vision tower, with Hugging Face's names and defaults.</summary>
internal sealed record VisionTransformerConfig
{
    /// <summary>Naming and block details.</summary>
    public VisionFlavor Flavor { get; init; } = VisionFlavor.Vit;
    /// <summary>Square image side (<c>image_size</c>).</summary>
    public int ImageSize { get; init; } = 224;
    /// <summary>Square patch side (<c>patch_size</c>).</summary>
    public int PatchSize { get; init; } = 16;
    /// <summary>Image channels (<c>num_channels</c>).</summary>
    public int NumChannels { get; init; } = 3;
    /// <summary>Width C (<c>hidden_size</c>).</summary>
    public int HiddenSize { get; init; } = 768;
    /// <summary>Blocks (<c>num_hidden_layers</c>).</summary>
    public int NumLayers { get; init; } = 12;
    /// <summary>Attention heads (<c>num_attention_heads</c>).</summary>
    public int NumHeads { get; init; } = 12;
    /// <summary>MLP width (<c>intermediate_size</c>).</summary>
    public int IntermediateSize { get; init; } = 3072;
    /// <summary>MLP activation (<c>hidden_act</c>).</summary>
    public ActivationKind Activation { get; init; } = ActivationKind.GeluErf;
    /// <summary>Layer-norm epsilon (<c>layer_norm_eps</c>; 1e-12 for ViT, 1e-5 for CLIP).</summary>
    public double LayerNormEps { get; init; } = 1e-12;
    /// <summary>Bias on the q/k/v projections (ViT <c>qkv_bias</c>; always true for CLIP).</summary>
    public bool QkvBias { get; init; } = true;
    /// <summary>ViT only: a pooler (<c>pooler.dense</c> + tanh on the CLS token).</summary>
    public bool Pooler { get; init; }
    /// <summary>CLIP and OpenCLIP: width of the bias-free <c>visual_projection</c> / <c>proj</c> (<c>projection_dim</c>), 0 for none.</summary>
    public int ProjectionDim { get; init; }

    /// <summary>Patches per image.</summary>
    public int PatchCount => (ImageSize / PatchSize) * (ImageSize / PatchSize);

    /// <summary>Tokens per image (patches + class token).</summary>
    public int Tokens => PatchCount + 1;

    /// <summary>Checks divisibility and positivity.</summary>
    /// <exception cref="ArgumentException">A field is inconsistent.</exception>
    public void Validate()
    {
        if (ImageSize <= 0 || PatchSize <= 0 || ImageSize % PatchSize != 0) throw new ArgumentException($"image_size {ImageSize} must be a positive multiple of patch_size {PatchSize}.");
        if (HiddenSize <= 0 || NumHeads <= 0 || HiddenSize % NumHeads != 0) throw new ArgumentException($"hidden_size {HiddenSize} must be a positive multiple of num_attention_heads {NumHeads}.");
        if (NumLayers < 0 || IntermediateSize <= 0 || NumChannels <= 0) throw new ArgumentException("num_hidden_layers, intermediate_size and num_channels must be positive.");
    }

    /// <summary>
    /// Reads a Hugging Face config.json: <c>model_type</c> <c>vit</c>, <c>clip_vision_model</c>, or <c>clip</c> (its
    /// <c>vision_config</c> plus top-level <c>projection_dim</c>). Absent fields take the library defaults of that model type.
    /// </summary>
    /// <exception cref="ArgumentException">Another model type.</exception>
    public static VisionTransformerConfig FromJson(JsonElement root)
    {
        ConfigJson.Root(root);
        string type = ConfigJson.Str(root, "model_type", "");
        switch (type)
        {
            case "vit":
                return new VisionTransformerConfig
                {
                    Flavor = VisionFlavor.Vit,
                    ImageSize = ConfigJson.Int(root, "image_size", 224), PatchSize = ConfigJson.Int(root, "patch_size", 16), NumChannels = ConfigJson.Int(root, "num_channels", 3),
                    HiddenSize = ConfigJson.Int(root, "hidden_size", 768), NumLayers = ConfigJson.Int(root, "num_hidden_layers", 12),
                    NumHeads = ConfigJson.Int(root, "num_attention_heads", 12), IntermediateSize = ConfigJson.Int(root, "intermediate_size", 3072),
                    Activation = Layers.Activation.Parse(ConfigJson.Str(root, "hidden_act", "gelu")), LayerNormEps = ConfigJson.Positive(root, "layer_norm_eps", 1e-12),
                    QkvBias = ConfigJson.Bool(root, "qkv_bias", true),
                };
            case "clip_vision_model":
            case "clip":
            {
                var v = type == "clip" && root.TryGetProperty("vision_config", out var vc) ? ConfigJson.Root(vc, "vision_config") : root;
                return new VisionTransformerConfig
                {
                    Flavor = VisionFlavor.ClipVision,
                    ImageSize = ConfigJson.Int(v, "image_size", 224), PatchSize = ConfigJson.Int(v, "patch_size", 32), NumChannels = ConfigJson.Int(v, "num_channels", 3),
                    HiddenSize = ConfigJson.Int(v, "hidden_size", 768), NumLayers = ConfigJson.Int(v, "num_hidden_layers", 12),
                    NumHeads = ConfigJson.Int(v, "num_attention_heads", 12), IntermediateSize = ConfigJson.Int(v, "intermediate_size", 3072),
                    Activation = Layers.Activation.Parse(ConfigJson.Str(v, "hidden_act", "quick_gelu")), LayerNormEps = ConfigJson.Positive(v, "layer_norm_eps", 1e-5),
                    ProjectionDim = ConfigJson.Int(root, "projection_dim", ConfigJson.Int(v, "projection_dim", 512, min: 0), min: 0),
                };
            }
            default:
                throw new ArgumentException($"config.json model_type '{type}' is not a vision transformer; expected vit, clip_vision_model or clip.");
        }
    }

    /// <summary>
    /// Reads an OpenCLIP visual tower's hyper-parameters from its tensor shapes (OpenCLIP checkpoints carry no config):
    /// width from <c>visual.class_embedding</c>, patch and channels from <c>visual.conv1.weight</c>, image side from the
    /// position rows (<c>(side/patch)² + 1</c>), layers by counting <c>visual.transformer.resblocks.{i}</c>, MLP width from
    /// <c>c_fc</c>, projection from <c>visual.proj</c>, and heads as width/64 (OpenCLIP's head width). The activation is
    /// not stored: QuickGELU for OpenAI's weights (the default), GELU for LAION's.
    /// </summary>
    /// <exception cref="ArchitectureMismatchException">A tensor the inference needs is absent.</exception>
    public static VisionTransformerConfig InferOpenClip(Checkpoints.ICheckpointReader reader, ActivationKind activation = ActivationKind.QuickGelu, int headWidth = 64)
    {
        ArgumentNullException.ThrowIfNull(reader);
        int[] Shape(string name) => reader.TryGetTensor(name, out var t) ? t.Shape
            : throw new ArchitectureMismatchException(reader.Path, "openclip_visual", [name], [], []);
        int width = Shape("visual.class_embedding")[0];
        var conv = Shape("visual.conv1.weight");
        int tokens = Shape("visual.positional_embedding")[0];
        int grid = (int)Math.Round(Math.Sqrt(tokens - 1));
        int layers = 0;
        while (reader.TryGetTensor($"visual.transformer.resblocks.{layers}.ln_1.weight", out _)) layers++;
        int inter = Shape("visual.transformer.resblocks.0.mlp.c_fc.weight")[0];
        int proj = reader.TryGetTensor("visual.proj", out var pt) ? pt.Shape[1] : 0;
        return new VisionTransformerConfig
        {
            Flavor = VisionFlavor.OpenClipVisual, HiddenSize = width, NumChannels = conv[1], PatchSize = conv[2], ImageSize = grid * conv[2],
            NumLayers = layers, NumHeads = Math.Max(1, width / headWidth), IntermediateSize = inter, Activation = activation,
            LayerNormEps = 1e-5, ProjectionDim = proj,
        };
    }

}
