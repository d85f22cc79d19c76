namespace MLNetMerge.Checkpoints.Onnx.Import;

/// <summary>
/// The hyper-parameters an import read from a graph, with Hugging Face's names: what <c>config.json</c> will say.
/// </summary>
/// <param name="Architecture"><c>bert</c>, <c>vit</c> or <c>clip_vision</c>.</param>
/// <param name="HiddenSize">Width C (<c>hidden_size</c>).</param>
/// <param name="NumLayers">Blocks (<c>num_hidden_layers</c>).</param>
/// <param name="NumHeads">Attention heads (<c>num_attention_heads</c>).</param>
/// <param name="IntermediateSize">MLP width (<c>intermediate_size</c>).</param>
/// <param name="HiddenAct">MLP activation (<c>hidden_act</c>: <c>gelu</c>, <c>gelu_new</c>, <c>quick_gelu</c>, <c>relu</c>).</param>
/// <param name="LayerNormEps">Layer-norm ε (<c>layer_norm_eps</c>).</param>
/// <param name="VocabSize">BERT: vocabulary rows.</param>
/// <param name="MaxPositions">BERT: position rows.</param>
/// <param name="TypeVocabSize">BERT: segment rows.</param>
/// <param name="Pooler">BERT and ViT: the tanh pooler is present.</param>
/// <param name="ImageSize">ViT/CLIP: image side.</param>
/// <param name="PatchSize">ViT/CLIP: patch side.</param>
/// <param name="NumChannels">ViT/CLIP: image channels.</param>
/// <param name="ProjectionDim">CLIP: width of <c>visual_projection</c>, 0 for none.</param>
internal sealed record ImportedConfig(string Architecture, int HiddenSize, int NumLayers, int NumHeads, int IntermediateSize, string HiddenAct,
    double LayerNormEps, int VocabSize = 0, int MaxPositions = 0, int TypeVocabSize = 0, bool Pooler = false, int ImageSize = 0,
    int PatchSize = 0, int NumChannels = 0, int ProjectionDim = 0)
{
    /// <summary>
    /// Every tensor of the Hugging Face state dict this configuration describes (names under <paramref name="prefix"/>,
    /// shapes as Hugging Face stores them: Linear weights <c>[out, in]</c>), in state-dict order: <c>BertModel</c>,
    /// <c>ViTModel</c> or <c>CLIPVisionModel[WithProjection]</c>, the layouts the engine's encoders declare.
    /// </summary>
    public List<(string Name, int[] Shape)> Layout(string prefix)
    {
        int c = HiddenSize, i = IntermediateSize;
        var l = new List<(string, int[])>();
        void Dense(string n, int outDim, int inDim, bool bias = true) { l.Add((n + ".weight", [outDim, inDim])); if (bias) l.Add((n + ".bias", [outDim])); }
        void Norm(string n) { l.Add((n + ".weight", [c])); l.Add((n + ".bias", [c])); }
        int tokens = PatchSize > 0 ? (ImageSize / PatchSize) * (ImageSize / PatchSize) + 1 : 0;
        switch (Architecture)
        {
            case "bert":
                l.Add((prefix + "embeddings.word_embeddings.weight", [VocabSize, c]));
                l.Add((prefix + "embeddings.position_embeddings.weight", [MaxPositions, c]));
                l.Add((prefix + "embeddings.token_type_embeddings.weight", [TypeVocabSize, c]));
                Norm(prefix + "embeddings.LayerNorm");
                for (int k = 0; k < NumLayers; k++)
                {
                    string p = $"{prefix}encoder.layer.{k}.";
                    Dense(p + "attention.self.query", c, c); Dense(p + "attention.self.key", c, c); Dense(p + "attention.self.value", c, c);
                    Dense(p + "attention.output.dense", c, c); Norm(p + "attention.output.LayerNorm");
                    Dense(p + "intermediate.dense", i, c); Dense(p + "output.dense", c, i); Norm(p + "output.LayerNorm");
                }
                if (Pooler) Dense(prefix + "pooler.dense", c, c);
                break;
            case "vit":
                l.Add((prefix + "embeddings.cls_token", [1, 1, c]));
                l.Add((prefix + "embeddings.position_embeddings", [1, tokens, c]));
                l.Add((prefix + "embeddings.patch_embeddings.projection.weight", [c, NumChannels, PatchSize, PatchSize]));
                l.Add((prefix + "embeddings.patch_embeddings.projection.bias", [c]));
                for (int k = 0; k < NumLayers; k++)
                {
                    string p = $"{prefix}encoder.layer.{k}.";
                    Norm(p + "layernorm_before");
                    Dense(p + "attention.attention.query", c, c); Dense(p + "attention.attention.key", c, c); Dense(p + "attention.attention.value", c, c);
                    Dense(p + "attention.output.dense", c, c); Norm(p + "layernorm_after");
                    Dense(p + "intermediate.dense", i, c); Dense(p + "output.dense", c, i);
                }
                Norm(prefix + "layernorm");
                if (Pooler) Dense(prefix + "pooler.dense", c, c);
                break;
            default:
                l.Add(("vision_model.embeddings.class_embedding", [c]));
                l.Add(("vision_model.embeddings.patch_embedding.weight", [c, NumChannels, PatchSize, PatchSize]));
                l.Add(("vision_model.embeddings.position_embedding.weight", [tokens, c]));
                Norm("vision_model.pre_layrnorm");
                for (int k = 0; k < NumLayers; k++)
                {
                    string p = $"vision_model.encoder.layers.{k}.";
                    Norm(p + "layer_norm1");
                    Dense(p + "self_attn.q_proj", c, c); Dense(p + "self_attn.k_proj", c, c); Dense(p + "self_attn.v_proj", c, c); Dense(p + "self_attn.out_proj", c, c);
                    Norm(p + "layer_norm2");
                    Dense(p + "mlp.fc1", i, c); Dense(p + "mlp.fc2", c, i);
                }
                Norm("vision_model.post_layernorm");
                if (ProjectionDim > 0) Dense("visual_projection", ProjectionDim, c, bias: false);
                break;
        }
        return l;
    }

    /// <summary>The Hugging Face <c>config.json</c> fields.</summary>
    public Dictionary<string, object> ToJson()
    {
        var json = new Dictionary<string, object>();
        if (Architecture == "bert")
        {
            json["model_type"] = "bert";
            json["architectures"] = new[] { "BertModel" };
            json["vocab_size"] = VocabSize;
        }
        else if (Architecture == "vit")
        {
            json["model_type"] = "vit";
            json["architectures"] = new[] { "ViTModel" };
        }
        else
        {
            json["model_type"] = "clip_vision_model";
            json["architectures"] = new[] { ProjectionDim > 0 ? "CLIPVisionModelWithProjection" : "CLIPVisionModel" };
        }
        json["hidden_size"] = HiddenSize; json["num_hidden_layers"] = NumLayers; json["num_attention_heads"] = NumHeads;
        json["intermediate_size"] = IntermediateSize; json["hidden_act"] = HiddenAct; json["layer_norm_eps"] = LayerNormEps;
        if (Architecture == "bert")
        {
            json["max_position_embeddings"] = MaxPositions; json["type_vocab_size"] = TypeVocabSize; json["pad_token_id"] = 0;
        }
        else
        {
            json["image_size"] = ImageSize; json["patch_size"] = PatchSize; json["num_channels"] = NumChannels;
            if (Architecture == "vit") json["qkv_bias"] = true;
            else if (ProjectionDim > 0) json["projection_dim"] = ProjectionDim;
        }
        return json;
    }
}
