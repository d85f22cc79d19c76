using System.Text.Json;

namespace MLNetMerge.Nn.Architectures;

/// <summary>The encoder families the engine runs (the CLI's <c>--arch</c> values).</summary>
internal enum ArchitectureKind
{
    /// <summary>Hugging Face <c>ViTModel</c> (<c>vit</c>).</summary>
    Vit,
    /// <summary>Hugging Face <c>CLIPVisionModel</c> (<c>clip_vision</c>), with or without <c>visual_projection</c>.</summary>
    ClipVision,
    /// <summary>OpenCLIP visual tower (<c>openclip_visual</c>), configured from its tensor shapes.</summary>
    OpenClipVisual,
    /// <summary>A plain MLP (<c>mlp</c>).</summary>
    Mlp,
    /// <summary>Hugging Face <c>BertModel</c> (<c>bert</c>).</summary>
    Bert,
    /// <summary>Hugging Face <c>RobertaModel</c> (<c>roberta</c>).</summary>
    Roberta,
}

/// <summary>Reads a Hugging Face <c>config.json</c> and tells which architecture it describes.</summary>
internal static class ModelConfigFile
{
    /// <summary>Maps <c>model_type</c> to an architecture: <c>vit</c>; <c>clip</c> or <c>clip_vision_model</c>; <c>mlp</c>.</summary>
    /// <exception cref="ArgumentException">No or an unsupported <c>model_type</c>.</exception>
    public static ArchitectureKind Detect(JsonElement root)
    {
        string type = ConfigJson.Str(ConfigJson.Root(root), "model_type", "");
        return type switch
        {
            "vit" => ArchitectureKind.Vit,
            "clip" or "clip_vision_model" => ArchitectureKind.ClipVision,
            "mlp" => ArchitectureKind.Mlp,
            "bert" => ArchitectureKind.Bert,
            "roberta" or "xlm-roberta" => ArchitectureKind.Roberta,
            "" => throw new ArgumentException("config.json has no model_type."),
            _ => throw new ArgumentException($"config.json model_type '{type}' is not supported; expected vit, clip, clip_vision_model, bert, roberta or mlp."),
        };
    }

    /// <summary>Reads a config.json file and returns its architecture and its parsed configuration
    /// (<see cref="VisionTransformerConfig"/>, <see cref="TextEncoderConfig"/> or <see cref="MlpConfig"/>).</summary>
    /// <exception cref="MergeException">The file is not valid JSON or describes an unsupported model.</exception>
    public static (ArchitectureKind Kind, object Config) Load(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            var kind = Detect(root);
            object config = kind switch
            {
                ArchitectureKind.Mlp => MlpConfig.FromJson(root),
                ArchitectureKind.Bert or ArchitectureKind.Roberta => TextEncoderConfig.FromJson(root),
                _ => VisionTransformerConfig.FromJson(root),
            };
            return (kind, config);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new MergeException(path, null, e.Message, e);
        }
    }
}
