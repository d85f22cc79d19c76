using System.Text.Json;

namespace MLNetMerge.Nn.Architectures;

/// <summary>The encoder families the engine runs (the CLI's <c>--arch</c> values).</summary>
public enum ArchitectureKind
{
    /// <summary>Hugging Face <c>ViTModel</c> (<c>vit</c>).</summary>
    Vit,
    /// <summary>Hugging Face <c>CLIPVisionModel</c> (<c>clip_vision</c>), with or without <c>visual_projection</c>.</summary>
    ClipVision,
    /// <summary>OpenCLIP visual tower (<c>openclip_visual</c>), configured from its tensor shapes.</summary>
    OpenClipVisual,
    /// <summary>A plain MLP (<c>mlp</c>).</summary>
    Mlp,
}

/// <summary>Reads a Hugging Face <c>config.json</c> and tells which architecture it describes.</summary>
public static class ModelConfigFile
{
    /// <summary>Maps <c>model_type</c> to an architecture: <c>vit</c>; <c>clip</c> or <c>clip_vision_model</c>; <c>mlp</c>.</summary>
    /// <exception cref="ArgumentException">No or an unsupported <c>model_type</c>.</exception>
    public static ArchitectureKind Detect(JsonElement root)
    {
        string type = VisionTransformerConfig.Str(root, "model_type", "");
        return type switch
        {
            "vit" => ArchitectureKind.Vit,
            "clip" or "clip_vision_model" => ArchitectureKind.ClipVision,
            "mlp" => ArchitectureKind.Mlp,
            "" => throw new ArgumentException("config.json has no model_type."),
            _ => throw new ArgumentException($"config.json model_type '{type}' is not supported; expected vit, clip, clip_vision_model or mlp."),
        };
    }

    /// <summary>Reads a config.json file and returns its architecture and its parsed configuration
    /// (<see cref="VisionTransformerConfig"/> or <see cref="MlpConfig"/>).</summary>
    /// <exception cref="MergeException">The file is not valid JSON or describes an unsupported model.</exception>
    public static (ArchitectureKind Kind, object Config) Load(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            var kind = Detect(root);
            object config = kind == ArchitectureKind.Mlp ? MlpConfig.FromJson(root) : VisionTransformerConfig.FromJson(root);
            return (kind, config);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new MergeException(path, null, e.Message, e);
        }
    }
}
