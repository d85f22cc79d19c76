using MLNetMerge.Nn.Architectures;
using static MLNetMerge.Export.OnnxGraphBuilder;

namespace MLNetMerge.Export;

/// <summary>
/// The engine's encoders (<see cref="VisionTransformer"/>, <see cref="Mlp"/>) as ONNX graphs from the input
/// <c>pixel_values</c> to the pooled embedding (B, E), following their forward passes step by step.
/// </summary>
internal static class EncoderGraphs
{
    /// <summary>
    /// ViT: <c>x = [cls; conv(img)] + pos</c> → pre-norm blocks → <c>LN</c>; embedding = <c>tanh(pooler(h[:,0]))</c> or <c>h[:,0]</c>.
    /// CLIP: <c>x = pre_LN([class_embedding; conv(img)] + pos)</c> → blocks → embedding = <c>proj(post_LN(h[:,0]))</c> or without proj.
    /// OpenCLIP visual: as CLIP with OpenCLIP's names, fused q/k/v (<c>in_proj_weight</c>, split in three) and
    /// <c>embedding = post_LN(h[:,0]) @ proj</c> with <c>proj</c> (C, E).
    /// Returns the embedding value and its width.
    /// </summary>
    public static (string Embedding, int Width) Vision(OnnxGraphBuilder g, WeightSource w, VisionTransformerConfig cfg, string pixels)
    {
        bool open = cfg.Flavor == VisionFlavor.OpenClipVisual;
        bool clip = cfg.Flavor != VisionFlavor.Vit;
        int c = cfg.HiddenSize, p = cfg.PatchSize, t = cfg.Tokens;
        string patchW = open ? "visual.conv1.weight" : clip ? "vision_model.embeddings.patch_embedding.weight" : "embeddings.patch_embeddings.projection.weight";
        var convInputs = new List<string> { pixels, g.Weight(patchW, w, c, cfg.NumChannels, p, p) };
        if (!clip) convInputs.Add(g.Weight("embeddings.patch_embeddings.projection.bias", w, c));
        string conv = g.Node("Conv", convInputs.ToArray(), Ints("kernel_shape", p, p), Ints("strides", p, p));         // (B, C, S/P, S/P)
        string patches = g.Node("Transpose", [g.Node("Reshape", [conv, g.Int64s(0, c, -1)])], Ints("perm", 0, 2, 1)); // (B, Np, C)

        string clsName = open ? "visual.class_embedding" : clip ? "vision_model.embeddings.class_embedding" : "embeddings.cls_token";
        string cls = clip ? g.Weight(clsName, w, c) : g.Weight(clsName, w, 1, 1, c);
        string cls3 = g.Node("Reshape", [cls, g.Int64s(1, 1, c)]);                                                     // (1, 1, C)
        string batch = g.Node("Slice", [g.Node("Shape", [pixels]), g.Int64s(0), g.Int64s(1)]);                        // (1,) = [B]
        string clsB = g.Node("Expand", [cls3, g.Node("Concat", [batch, g.Int64s(1, c)], Int("axis", 0))]);             // (B, 1, C)
        string x = g.Node("Concat", [clsB, patches], Int("axis", 1));                                                  // (B, T, C)
        string posName = open ? "visual.positional_embedding" : clip ? "vision_model.embeddings.position_embedding.weight" : "embeddings.position_embeddings";
        x = g.Node("Add", [x, clip ? g.Weight(posName, w, t, c) : g.Weight(posName, w, 1, t, c)]);
        if (clip) x = OnnxLayers.LayerNorm(g, w, x, open ? "visual.ln_pre" : "vision_model.pre_layrnorm", c, cfg.LayerNormEps);

        for (int i = 0; i < cfg.NumLayers; i++)
        {
            string L(string s) => open ? $"visual.transformer.resblocks.{i}.{s}" : clip ? $"vision_model.encoder.layers.{i}.{s}" : $"encoder.layer.{i}.{s}";
            string ln1 = OnnxLayers.LayerNorm(g, w, x, L(open ? "ln_1" : clip ? "layer_norm1" : "layernorm_before"), c, cfg.LayerNormEps);
            string q, k, v;
            if (open)
            {
                // nn.MultiheadAttention: in_proj_weight (3C, C) rows [W_q; W_k; W_v], in_proj_bias (3C).
                string qkv = OnnxLayers.Linear(g, w, ln1, L("attn.in_proj_weight"), L("attn.in_proj_bias"), 3 * c, c);      // (B, T, 3C)
                var parts = g.Node("Split", [qkv, g.Int64s(c, c, c)], 3, Int("axis", -1));
                (q, k, v) = (parts[0], parts[1], parts[2]);
            }
            else
            {
                bool qkvBias = clip || cfg.QkvBias;
                string Proj(string name) => OnnxLayers.Linear(g, w, ln1, name + ".weight", qkvBias ? name + ".bias" : null, c, c);
                q = Proj(L(clip ? "self_attn.q_proj" : "attention.attention.query"));
                k = Proj(L(clip ? "self_attn.k_proj" : "attention.attention.key"));
                v = Proj(L(clip ? "self_attn.v_proj" : "attention.attention.value"));
            }
            string att = OnnxLayers.Attention(g, q, k, v, c, cfg.NumHeads);
            string o = L(open ? "attn.out_proj" : clip ? "self_attn.out_proj" : "attention.output.dense");
            string mid = g.Node("Add", [x, OnnxLayers.Linear(g, w, att, o + ".weight", o + ".bias", c, c)]);
            string ln2 = OnnxLayers.LayerNorm(g, w, mid, L(open ? "ln_2" : clip ? "layer_norm2" : "layernorm_after"), c, cfg.LayerNormEps);
            string fc1 = L(open ? "mlp.c_fc" : clip ? "mlp.fc1" : "intermediate.dense"), fc2 = L(open ? "mlp.c_proj" : clip ? "mlp.fc2" : "output.dense");
            string h = OnnxLayers.Activation(g, cfg.Activation, OnnxLayers.Linear(g, w, ln2, fc1 + ".weight", fc1 + ".bias", cfg.IntermediateSize, c));
            x = g.Node("Add", [mid, OnnxLayers.Linear(g, w, h, fc2 + ".weight", fc2 + ".bias", c, cfg.IntermediateSize)]);
        }

        if (clip)
        {
            string pooled = g.Node("Gather", [x, g.Int64s(0)], Int("axis", 1));                       // (B, 1, C)
            pooled = g.Node("Reshape", [pooled, g.Int64s(0, c)]);                                        // (B, C)
            string post = OnnxLayers.LayerNorm(g, w, pooled, open ? "visual.ln_post" : "vision_model.post_layernorm", c, cfg.LayerNormEps);
            if (cfg.ProjectionDim <= 0) return (post, c);
            return open
                ? (g.Node("MatMul", [post, g.Weight("visual.proj", w, c, cfg.ProjectionDim)]), cfg.ProjectionDim)  // x @ proj, proj (C, E)
                : (OnnxLayers.Dense2D(g, w, post, "visual_projection.weight", null, cfg.ProjectionDim, c), cfg.ProjectionDim);
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
