using System.Text.Json;
using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Nn.Architectures;

/// <summary>Which published text encoder a <see cref="TextEncoder"/> follows.</summary>
internal enum TextFlavor
{
    /// <summary>Hugging Face <c>BertModel</c> (<c>model_type: bert</c>): positions 0…T−1.</summary>
    Bert,
    /// <summary>Hugging Face <c>RobertaModel</c> (<c>model_type: roberta</c>): positions count real tokens from
    /// <c>pad_token_id + 1</c>; padding tokens get position <c>pad_token_id</c>.</summary>
    Roberta,
}

/// <summary>Hyper-parameters of a BERT or RoBERTa encoder, with Hugging Face's names and defaults.</summary>
internal sealed record TextEncoderConfig
{
    /// <summary>BERT or RoBERTa.</summary>
    public TextFlavor Flavor { get; init; } = TextFlavor.Bert;
    /// <summary>Vocabulary rows (<c>vocab_size</c>).</summary>
    public int VocabSize { get; init; } = 30522;
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
    /// <summary>Layer-norm epsilon (<c>layer_norm_eps</c>: 1e-12 BERT, 1e-5 RoBERTa).</summary>
    public double LayerNormEps { get; init; } = 1e-12;
    /// <summary>Position table rows (<c>max_position_embeddings</c>: 512 BERT, 514 RoBERTa).</summary>
    public int MaxPositions { get; init; } = 512;
    /// <summary>Segment table rows (<c>type_vocab_size</c>: 2 BERT, 1 RoBERTa).</summary>
    public int TypeVocabSize { get; init; } = 2;
    /// <summary>Padding token id (<c>pad_token_id</c>: 0 BERT, 1 RoBERTa).</summary>
    public int PadTokenId { get; init; }
    /// <summary>Whether the checkpoint has the tanh pooler (<c>pooler.dense</c>); set from the checkpoint by <see cref="TextEncoder.Load(TextEncoderConfig, Checkpoints.ICheckpointReader)"/>.</summary>
    public bool Pooler { get; init; } = true;

    /// <summary>Reads a Hugging Face config.json with <c>model_type</c> <c>bert</c> or <c>roberta</c>.</summary>
    /// <exception cref="ArgumentException">Another model type.</exception>
    public static TextEncoderConfig FromJson(JsonElement root)
    {
        ConfigJson.Root(root);
        string type = ConfigJson.Str(root, "model_type", "");
        bool roberta = type switch
        {
            "bert" => false,
            "roberta" or "xlm-roberta" => true,
            _ => throw new ArgumentException($"config.json model_type '{type}' is not a text encoder; expected bert or roberta."),
        };
        return new TextEncoderConfig
        {
            Flavor = roberta ? TextFlavor.Roberta : TextFlavor.Bert,
            VocabSize = ConfigJson.Int(root, "vocab_size", roberta ? 50265 : 30522),
            HiddenSize = ConfigJson.Int(root, "hidden_size", 768),
            NumLayers = ConfigJson.Int(root, "num_hidden_layers", 12),
            NumHeads = ConfigJson.Int(root, "num_attention_heads", 12),
            IntermediateSize = ConfigJson.Int(root, "intermediate_size", 3072),
            Activation = Layers.Activation.Parse(ConfigJson.Str(root, "hidden_act", "gelu")),
            LayerNormEps = ConfigJson.Positive(root, "layer_norm_eps", roberta ? 1e-5 : 1e-12),
            MaxPositions = ConfigJson.Int(root, "max_position_embeddings", roberta ? 514 : 512),
            TypeVocabSize = ConfigJson.Int(root, "type_vocab_size", roberta ? 1 : 2),
            PadTokenId = ConfigJson.Int(root, "pad_token_id", roberta ? 1 : 0, min: 0, nullable: true),
        };
    }
}
