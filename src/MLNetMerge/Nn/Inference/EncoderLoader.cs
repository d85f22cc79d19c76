using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Nn.Inference;

/// <summary>A loaded encoder: exactly one of <see cref="Dense"/> (image/feature input) and <see cref="Text"/> (token input).</summary>
/// <param name="Kind">The architecture.</param>
/// <param name="Dense">ViT, CLIP vision, OpenCLIP visual or MLP.</param>
/// <param name="Text">BERT or RoBERTa.</param>
public sealed record LoadedEncoder(ArchitectureKind Kind, IDenseEncoder? Dense, TextEncoder? Text);

/// <summary>Builds and loads an encoder from a checkpoint, an architecture name and a Hugging Face config.json.</summary>
public static class EncoderLoader
{
    /// <summary>Parses a CLI architecture name: <c>vit</c>, <c>clip_vision</c>, <c>openclip_visual</c>, <c>bert</c>, <c>roberta</c>, <c>mlp</c>.</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static ArchitectureKind ParseArchitecture(string name) => name switch
    {
        "vit" => ArchitectureKind.Vit,
        "clip_vision" or "clip" => ArchitectureKind.ClipVision,
        "openclip_visual" or "openclip" => ArchitectureKind.OpenClipVisual,
        "bert" => ArchitectureKind.Bert,
        "roberta" => ArchitectureKind.Roberta,
        "mlp" => ArchitectureKind.Mlp,
        _ => throw new ArgumentException($"unknown architecture '{name}'; expected vit, clip_vision, openclip_visual, bert, roberta or mlp."),
    };

    /// <summary>
    /// Opens <paramref name="modelPath"/> (any checkpoint the library reads) and loads it as <paramref name="architecture"/>
    /// (null: the config's <c>model_type</c>). The config defaults to <c>config.json</c> beside the checkpoint (or inside it,
    /// for a directory); OpenCLIP needs none (its shapes say everything but the activation).
    /// </summary>
    /// <exception cref="MergeException">Missing or unsupported config, or a checkpoint that does not fit (<see cref="ArchitectureMismatchException"/>).</exception>
    public static LoadedEncoder Load(string modelPath, string? architecture, string? configPath = null, ActivationKind openClipActivation = ActivationKind.QuickGelu)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        configPath ??= DefaultConfig(modelPath);
        JsonElement? config = null;
        if (configPath is not null && File.Exists(configPath))
        {
            try { config = JsonDocument.Parse(File.ReadAllText(configPath)).RootElement; }
            catch (JsonException e) { throw new MergeException(configPath, null, "config.json is not valid JSON: " + e.Message, e); }
        }
        try
        {
            ArchitectureKind kind = architecture is not null ? ParseArchitecture(architecture)
                : config is { } c ? ModelConfigFile.Detect(c)
                : throw new ArgumentException("give --arch, or a config.json with model_type.");
            JsonElement Need() => config ?? throw new ArgumentException($"architecture {kind} needs a config.json (looked for {configPath ?? "none"}).");
            using var reader = CheckpointReader.Open(modelPath);
            switch (kind)
            {
                case ArchitectureKind.Vit:
                case ArchitectureKind.ClipVision:
                {
                    var cfg = VisionTransformerConfig.FromJson(Need());
                    var want = kind == ArchitectureKind.Vit ? VisionFlavor.Vit : VisionFlavor.ClipVision;
                    if (cfg.Flavor != want) throw new ArgumentException($"config.json describes {cfg.Flavor}, not {want}.");
                    return new LoadedEncoder(kind, VisionTransformer.Load(cfg, reader), null);
                }
                case ArchitectureKind.OpenClipVisual:
                    return new LoadedEncoder(kind, VisionTransformer.Load(VisionTransformerConfig.InferOpenClip(reader, openClipActivation), reader), null);
                case ArchitectureKind.Mlp:
                {
                    var mlp = new Mlp(MlpConfig.FromJson(Need()));
                    mlp.Load(reader);
                    return new LoadedEncoder(kind, mlp, null);
                }
                default:
                {
                    var cfg = TextEncoderConfig.FromJson(Need());
                    return new LoadedEncoder(kind, null, TextEncoder.Load(cfg, reader));
                }
            }
        }
        catch (ArgumentException e)
        {
            throw new MergeException(configPath ?? modelPath, null, e.Message, e);
        }
    }

    private static string? DefaultConfig(string modelPath)
    {
        string dir = Directory.Exists(modelPath) ? modelPath : Path.GetDirectoryName(Path.GetFullPath(modelPath)) ?? ".";
        string candidate = Path.Combine(dir, "config.json");
        return File.Exists(candidate) ? candidate : null;
    }
}
