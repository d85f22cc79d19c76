using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Nn;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Encoders;

/// <summary>
/// The one owner of what a family's encoder is: the architecture (from <c>config.json</c>'s <c>model_type</c>), its parsed
/// hyper-parameters, the prefix under which the encoder's tensors sit in the checkpoints (<c>""</c>, <c>vit.</c>,
/// <c>bert.</c>, …), and for text encoders the tokenizer and pooling settings (<see cref="TextSettings"/>), all read
/// from the model's own files. Everything that runs an encoder (evaluation, alignment, export, <c>embed</c>) gets it
/// from here; nothing else guesses prefixes or parses <c>model_type</c>.
/// </summary>
internal sealed class ModelArchitecture
{
    /// <summary>Tensor-name prefixes under which Hugging Face checkpoints keep the encoder: the bare model, then the
    /// task models' wrappers (<c>ViTForImageClassification</c> → <c>vit.</c>, <c>BertFor…</c> → <c>bert.</c>, …).</summary>
    public static readonly IReadOnlyList<string> Prefixes = ["", "vit.", "bert.", "roberta.", "model.", "encoder."];

    private readonly object _config;

    private ModelArchitecture(ArchitectureKind kind, object config, string? configPath, string prefix, TextSettings? text)
    {
        Kind = kind;
        _config = config;
        ConfigPath = configPath;
        Prefix = prefix;
        Text = text;
        // Read when the family opens: a malformed file fails then, not when a merge output carrying it is read.
        Image = Vision is { } v ? ImagePreprocessing.Read(Directory, v.NumChannels) : null;
    }

    /// <summary>The architecture.</summary>
    public ArchitectureKind Kind { get; }

    /// <summary>The <c>config.json</c> it was read from (absolute), or null for an OpenCLIP tower inferred from its tensors.</summary>
    public string? ConfigPath { get; }

    /// <summary>Prefix of the encoder tensors in the family's checkpoints.</summary>
    public string Prefix { get; }

    /// <summary>Tokenizer and pooling settings of a text encoder; null for vision and MLP encoders.</summary>
    public TextSettings? Text { get; }

    /// <summary>A vision encoder's pixel normalisation from its image processor's settings, or null (text and MLP
    /// encoders, or no <c>preprocessor_config.json</c>).</summary>
    public ImagePreprocessing? Image { get; }

    /// <summary>Vision hyper-parameters (ViT, CLIP vision, OpenCLIP visual), or null.</summary>
    public VisionTransformerConfig? Vision => _config as VisionTransformerConfig;

    /// <summary>Text hyper-parameters (BERT, RoBERTa; pooler as the checkpoint has it), or null.</summary>
    public TextEncoderConfig? TextConfig => _config as TextEncoderConfig;

    /// <summary>MLP hyper-parameters, or null.</summary>
    public MlpConfig? Mlp => _config as MlpConfig;

    /// <summary>Whether the encoder reads token ids.</summary>
    public bool IsText => Text is not null;

    /// <summary>The folder holding the model's files (<c>config.json</c>, tokenizer files), or null.</summary>
    public string? Directory => ConfigPath is null ? null : Path.GetDirectoryName(ConfigPath);

    /// <summary>The model's description files present in <see cref="Directory"/> (relative names): <c>config.json</c> and
    /// the tokenizer and pooling files, or a vision encoder's image processor settings (<c>preprocessor_config.json</c>).
    /// Merge outputs carry them, so a merged model describes itself.</summary>
    public IReadOnlyList<string> ModelFiles =>
        Directory is not { } dir ? []
        : new[] { Path.GetFileName(ConfigPath!) }.Concat(IsText ? TextSettings.FileNames : Vision is not null ? [ImagePreprocessing.FileName] : [])
            .Where(f => File.Exists(Path.Combine(dir, f))).ToList();

    /// <summary>A new encoder of this architecture with zero weights (its own buffers).</summary>
    public IDenseEncoder CreateEncoder() => _config switch
    {
        VisionTransformerConfig v => new VisionTransformer(v),
        MlpConfig m => new Mlp(m),
        TextEncoderConfig t => new TextDenseEncoder(new TextEncoder(t), Text!.SequenceLength, Text.Pooling),
        _ => throw new InvalidOperationException($"architecture {Kind} has no encoder."),
    };

    /// <summary>The <c>config.json</c> beside <paramref name="checkpointPath"/> (inside it, for a directory), or null.</summary>
    public static string? ConfigBeside(string checkpointPath)
    {
        string dir = System.IO.Directory.Exists(checkpointPath) ? checkpointPath : Path.GetDirectoryName(Path.GetFullPath(checkpointPath)) ?? ".";
        string candidate = Path.Combine(dir, "config.json");
        return File.Exists(candidate) ? Path.GetFullPath(candidate) : null;
    }

    /// <summary>The architecture of <paramref name="checkpoint"/>: its <c>config.json</c> (<paramref name="configPath"/>, else
    /// beside the checkpoint), the prefix its encoder tensors sit under, and the text settings beside the config.</summary>
    /// <param name="checkpoint">A checkpoint of the family (the base).</param>
    /// <param name="configPath">The config; null: beside the checkpoint.</param>
    /// <param name="kind">Forces the architecture (the CLI's <c>--arch</c>); null: the config's <c>model_type</c>.</param>
    /// <param name="openClipActivation">Activation of an OpenCLIP tower (its tensors do not say).</param>
    /// <exception cref="MergeException">No config where one is needed, an unsupported <c>model_type</c>, invalid JSON, or a
    /// checkpoint without the encoder's tensors under any known prefix.</exception>
    public static ModelArchitecture Load(ICheckpointReader checkpoint, string? configPath = null, ArchitectureKind? kind = null,
        ActivationKind openClipActivation = ActivationKind.QuickGelu)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (kind == ArchitectureKind.OpenClipVisual)
            return WithPrefix(checkpoint.Path, Has(checkpoint), ArchitectureKind.OpenClipVisual, VisionTransformerConfig.InferOpenClip(checkpoint, openClipActivation), null, null);
        return Load(checkpoint.Path, Has(checkpoint), configPath is null ? ConfigBeside(checkpoint.Path) : Path.GetFullPath(configPath), kind);
    }

    /// <summary>The architecture described by <paramref name="configPath"/> for weights whose tensor names
    /// <paramref name="hasTensor"/> answers for (a checkpoint, a merged model held in memory, a saved merge output).</summary>
    /// <param name="weights">What the weights are, for messages (a folder or file).</param>
    /// <param name="hasTensor">Whether a tensor of that name exists.</param>
    /// <param name="configPath">The <c>config.json</c> (absolute), or null when none was found.</param>
    /// <param name="kind">Forces the architecture; null: the config's <c>model_type</c>.</param>
    /// <exception cref="MergeException">No config, an unsupported <c>model_type</c>, invalid JSON, or weights without the
    /// encoder's tensors under any known prefix.</exception>
    public static ModelArchitecture Load(string weights, Func<string, bool> hasTensor, string? configPath, ArchitectureKind? kind = null)
    {
        ArgumentNullException.ThrowIfNull(hasTensor);
        if (configPath is null || !File.Exists(configPath))
            throw new NoEncoderException(configPath ?? weights, null,
                $"no config.json {(configPath is null ? "beside the checkpoint" : "at this path")}; running the encoder needs its architecture (Hugging Face config.json with model_type).");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(configPath));
            var root = doc.RootElement;
            var detected = Detect(root);
            if (kind is { } k && k != detected)
                throw new ArgumentException($"model_type says {Name(detected)}, not the requested {Name(k)}.");
            object config;
            TextSettings? text = null;
            switch (detected)
            {
                case ArchitectureKind.Mlp:
                    config = MlpConfig.FromJson(root);
                    break;
                case ArchitectureKind.Bert or ArchitectureKind.Roberta:
                {
                    var t = TextEncoderConfig.FromJson(root);
                    int positions = t.MaxPositions - (t.Flavor == TextFlavor.Roberta ? t.PadTokenId + 1 : 0);
                    text = TextSettings.Read(Path.GetDirectoryName(configPath)!, positions);
                    config = t;
                    break;
                }
                default:
                {
                    var v = VisionTransformerConfig.FromJson(root);
                    var want = detected == ArchitectureKind.Vit ? VisionFlavor.Vit : VisionFlavor.ClipVision;
                    if (v.Flavor != want) throw new ArgumentException($"config.json describes {v.Flavor}, not {want}.");
                    config = v;
                    break;
                }
            }
            return WithPrefix(weights, hasTensor, detected, config, configPath, text);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new MergeException(configPath, null, e.Message, e);
        }
    }

    private static Func<string, bool> Has(ICheckpointReader reader) => name => reader.TryGetTensor(name, out _);

    /// <summary>Maps <c>model_type</c> to an architecture: <c>vit</c>; <c>clip</c> or <c>clip_vision_model</c>; <c>bert</c>;
    /// <c>roberta</c> or <c>xlm-roberta</c>; <c>mlp</c>.</summary>
    /// <exception cref="ArgumentException">No or an unsupported <c>model_type</c>.</exception>
    public static ArchitectureKind Detect(JsonElement config)
    {
        string type = Nn.Architectures.ConfigJson.Str(Nn.Architectures.ConfigJson.Root(config), "model_type", "");
        return type switch
        {
            "vit" => ArchitectureKind.Vit,
            "clip" or "clip_vision_model" => ArchitectureKind.ClipVision,
            "mlp" => ArchitectureKind.Mlp,
            "bert" => ArchitectureKind.Bert,
            "roberta" or "xlm-roberta" => ArchitectureKind.Roberta,
            "" => throw new ArgumentException("config.json has no model_type."),
            _ => throw new ArgumentException($"config.json model_type '{type}' is not supported; expected vit, clip, clip_vision_model, bert, roberta, xlm-roberta or mlp."),
        };
    }

    /// <summary>Parses a CLI architecture name: <c>vit</c>, <c>clip_vision</c>, <c>openclip_visual</c>, <c>bert</c>, <c>roberta</c>, <c>mlp</c>.</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static ArchitectureKind Parse(string name) => name switch
    {
        "vit" => ArchitectureKind.Vit,
        "clip_vision" or "clip" => ArchitectureKind.ClipVision,
        "openclip_visual" or "openclip" => ArchitectureKind.OpenClipVisual,
        "bert" => ArchitectureKind.Bert,
        "roberta" => ArchitectureKind.Roberta,
        "mlp" => ArchitectureKind.Mlp,
        _ => throw new ArgumentException($"unknown architecture '{name}'; expected vit, clip_vision, openclip_visual, bert, roberta or mlp."),
    };

    /// <summary>The architecture's name as the CLI and configs write it.</summary>
    public static string Name(ArchitectureKind kind) => kind switch
    {
        ArchitectureKind.Vit => "vit",
        ArchitectureKind.ClipVision => "clip_vision",
        ArchitectureKind.OpenClipVisual => "openclip_visual",
        ArchitectureKind.Bert => "bert",
        ArchitectureKind.Roberta => "roberta",
        _ => "mlp",
    };

    private static ModelArchitecture WithPrefix(string weights, Func<string, bool> has, ArchitectureKind kind, object config, string? configPath, TextSettings? text)
    {
        // A text checkpoint decides whether the model has a pooler; the prefix is found before, from the embeddings.
        var probe = new ModelArchitecture(kind, config, configPath, "", text).CreateEncoder();
        string first = probe.Parameters.Layout.Entries[0].Name;
        string prefix = Prefixes.FirstOrDefault(p => has(p + first))
            ?? throw new MergeException(weights, first,
                $"is missing; the {Name(kind)} encoder{(configPath is null ? "" : " of " + configPath)} needs it (looked with no prefix and with {string.Join(", ", Prefixes.Skip(1))}).");
        // Optional parts exist exactly when the weights hold them (as Hugging Face's loaders decide): the text and ViT
        // poolers, CLIP's and OpenCLIP's visual projections.
        bool Has(string name) => has(prefix + name) || has(name);
        config = config switch
        {
            TextEncoderConfig t => t with { Pooler = Has("pooler.dense.weight") },
            VisionTransformerConfig { Flavor: VisionFlavor.Vit } v => v with { Pooler = Has("pooler.dense.weight") },
            VisionTransformerConfig { Flavor: VisionFlavor.ClipVision } v => v with { ProjectionDim = Has("visual_projection.weight") ? v.ProjectionDim : 0 },
            VisionTransformerConfig v => v with { ProjectionDim = Has("visual.proj") ? v.ProjectionDim : 0 },
            _ => config,
        };
        CheckNoDeeperBlock(weights, has, prefix, probe.Parameters.Layout, config, configPath);
        return new ModelArchitecture(kind, config, configPath, prefix, text);
    }

    /// <summary>Refuses weights holding a transformer block past the config's <c>num_hidden_layers</c>: the encoder would
    /// run without it, ignoring its tensors (the first tensor of the last block, renumbered one further, must be absent).</summary>
    private static void CheckNoDeeperBlock(string weights, Func<string, bool> has, string prefix, Nn.ParameterLayout layout, object config, string? configPath)
    {
        int layers = config switch { TextEncoderConfig t => t.NumLayers, VisionTransformerConfig v => v.NumLayers, _ => 0 };
        if (layers <= 0) return;
        var last = new System.Text.RegularExpressions.Regex($@"(^|\.)(layer|layers|resblocks)\.{layers - 1}\.", System.Text.RegularExpressions.RegexOptions.CultureInvariant);
        if (layout.Entries.Select(e => e.Name).FirstOrDefault(n => last.IsMatch(n)) is not { } name) return;
        string next = last.Replace(name, m => $"{m.Groups[1].Value}{m.Groups[2].Value}.{layers}.", 1);
        if (has(prefix + next))
            throw new MergeException(weights, prefix + next, $"is transformer block {layers}'s, but {configPath ?? "the config"} says num_hidden_layers {layers}: " +
                "the weights have more blocks than the config, and the encoder would run without them.");
    }
}
