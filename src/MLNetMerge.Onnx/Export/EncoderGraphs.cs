using MLNetMerge.Nn.Architectures;
using static MLNetMerge.Onnx.Export.OnnxGraphBuilder;

namespace MLNetMerge.Onnx.Export;

/// <summary>
/// The engine's encoders (<see cref="VisionTransformer"/>, <see cref="Mlp"/>) as ONNX graphs from the input
/// <c>pixel_values</c> to the pooled embedding (B, E), following their forward passes step by step.
/// </summary>
internal static class EncoderGraphs
{
    /// <summary>
    /// ViT: <c>x = [cls; conv(img)] + pos</c> → pre-norm blocks → <c>LN</c>; embedding = <c>tanh(pooler(h[:,0]))</c> or <c>h[:,0]</c>.
    /// CLIP: <c>x = pre_LN([class_embedding; conv(img)] + pos)</c> → blocks → embedding = <c>proj(post_LN(h[:,0]))</c> or without proj.
    /// Returns the embedding value and its width.
    /// </summary>
    public static (string Embedding, int Width) Vision(OnnxGraphBuilder g, WeightSource w, VisionTransformerConfig cfg, string pixels)
    {
        bool clip = cfg.Flavor == VisionFlavor.ClipVision;
        int c = cfg.HiddenSize, p = cfg.PatchSize, t = cfg.Tokens;
        string patchW = clip ? "vision_model.embeddings.patch_embedding.weight" : "embeddings.patch_embeddings.projection.weight";
        var convInputs = new List<string> { pixels, g.Weight(patchW, w, c, cfg.NumChannels, p, p) };
        if (!clip) convInputs.Add(g.Weight("embeddings.patch_embeddings.projection.bias", w, c));
        string conv = g.Node("Conv", convInputs.ToArray(), Ints("kernel_shape", p, p), Ints("strides", p, p));         // (B, C, S/P, S/P)
        string patches = g.Node("Transpose", [g.Node("Reshape", [conv, g.Int64s(0, c, -1)])], Ints("perm", 0, 2, 1)); // (B, Np, C)

        string clsName = clip ? "vision_model.embeddings.class_embedding" : "embeddings.cls_token";
        string cls = clip ? g.Weight(clsName, w, c) : g.Weight(clsName, w, 1, 1, c);
        string cls3 = g.Node("Reshape", [cls, g.Int64s(1, 1, c)]);                                                     // (1, 1, C)
        string batch = g.Node("Slice", [g.Node("Shape", [pixels]), g.Int64s(0), g.Int64s(1)]);                        // (1,) = [B]
        string clsB = g.Node("Expand", [cls3, g.Node("Concat", [batch, g.Int64s(1, c)], Int("axis", 0))]);             // (B, 1, C)
        string x = g.Node("Concat", [clsB, patches], Int("axis", 1));                                                  // (B, T, C)
        string posName = clip ? "vision_model.embeddings.position_embedding.weight" : "embeddings.position_embeddings";
        x = g.Node("Add", [x, clip ? g.Weight(posName, w, t, c) : g.Weight(posName, w, 1, t, c)]);
        if (clip) x = OnnxLayers.LayerNorm(g, w, x, "vision_model.pre_layrnorm", c, cfg.LayerNormEps);

        for (int i = 0; i < cfg.NumLayers; i++)
        {
            string L(string s) => clip ? $"vision_model.encoder.layers.{i}.{s}" : $"encoder.layer.{i}.{s}";
            string ln1 = OnnxLayers.LayerNorm(g, w, x, L(clip ? "layer_norm1" : "layernorm_before"), c, cfg.LayerNormEps);
            bool qkvBias = clip || cfg.QkvBias;
            string Proj(string name) => OnnxLayers.Linear(g, w, ln1, name + ".weight", qkvBias ? name + ".bias" : null, c, c);
            string q = Proj(L(clip ? "self_attn.q_proj" : "attention.attention.query"));
            string k = Proj(L(clip ? "self_attn.k_proj" : "attention.attention.key"));
            string v = Proj(L(clip ? "self_attn.v_proj" : "attention.attention.value"));
            string att = OnnxLayers.Attention(g, q, k, v, c, cfg.NumHeads);
            string o = L(clip ? "self_attn.out_proj" : "attention.output.dense");
            string mid = g.Node("Add", [x, OnnxLayers.Linear(g, w, att, o + ".weight", o + ".bias", c, c)]);
            string ln2 = OnnxLayers.LayerNorm(g, w, mid, L(clip ? "layer_norm2" : "layernorm_after"), c, cfg.LayerNormEps);
            string fc1 = L(clip ? "mlp.fc1" : "intermediate.dense"), fc2 = L(clip ? "mlp.fc2" : "output.dense");
            string h = OnnxLayers.Activation(g, cfg.Activation, OnnxLayers.Linear(g, w, ln2, fc1 + ".weight", fc1 + ".bias", cfg.IntermediateSize, c));
            x = g.Node("Add", [mid, OnnxLayers.Linear(g, w, h, fc2 + ".weight", fc2 + ".bias", c, cfg.IntermediateSize)]);
        }

        if (clip)
        {
            string pooled = g.Node("Gather", [x, g.Int64s(0)], Int("axis", 1));                       // (B, 1, C)
            pooled = g.Node("Reshape", [pooled, g.Int64s(0, c)]);                                        // (B, C)
            string post = OnnxLayers.LayerNorm(g, w, pooled, "vision_model.post_layernorm", c, cfg.LayerNormEps);
            return cfg.ProjectionDim > 0
                ? (OnnxLayers.Dense2D(g, w, post, "visual_projection.weight", null, cfg.ProjectionDim, c), cfg.ProjectionDim)
                : (post, c);
        }
        string hidden = OnnxLayers.LayerNorm(g, w, x, "layernorm", c, cfg.LayerNormEps);
        string cls0 = g.Node("Reshape", [g.Node("Gather", [hidden, g.Int64s(0)], Int("axis", 1)), g.Int64s(0, c)]); // (B, C)
        if (!cfg.Pooler) return (cls0, c);
        return (g.Node("Tanh", [OnnxLayers.Dense2D(g, w, cls0, "pooler.dense.weight", "pooler.dense.bias", c, c)]), c);
    }

    /// <summary>MLP: <c>h_{i+1} = act(h_i W_iᵀ + b_i)</c>, the last layer without activation; the output is the embedding.</summary>
    public static (string Embedding, int Width) Mlp(OnnxGraphBuilder g, WeightSource w, MlpConfig cfg, string input)
    {
        int[] sizes = [cfg.InputSize, .. cfg.HiddenSizes, cfg.OutputSize];
        string h = input;
        for (int i = 0; i + 1 < sizes.Length; i++)
        {
            h = OnnxLayers.Dense2D(g, w, h, $"layers.{i}.weight", $"layers.{i}.bias", sizes[i + 1], sizes[i]);
            if (i + 2 < sizes.Length) h = OnnxLayers.Activation(g, cfg.Activation, h);
        }
        return (h, cfg.OutputSize);
    }
}
