using MLNetMerge.Checkpoints;
using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Nn.Architectures;

/// <summary>
/// A ViT (<c>ViTModel</c>) or CLIP vision tower (<c>CLIPVisionModel</c> + optional <c>visual_projection</c>) with
/// Hugging Face tensor names, batched forward and backward on float32.
/// <para>ViT: <c>x = [cls; conv(img)] + pos</c> → blocks → <c>hidden = layernorm(x)</c>; embedding = <c>tanh(pooler(hidden[:,0]))</c>
/// with a pooler, else <c>hidden[:,0]</c>.</para>
/// <para>CLIP: <c>x = pre_layrnorm([class_embedding; conv(img)] + pos)</c> → blocks (QuickGELU) → <c>hidden = x</c>;
/// embedding = <c>visual_projection(post_layernorm(hidden[:,0]))</c>, or <c>post_layernorm(hidden[:,0])</c> without projection.</para>
/// </summary>
internal sealed class VisionTransformer : IDenseEncoder
{
    private readonly VisionTransformerConfig _cfg;
    private readonly int _c, _t, _np, _k;
    private readonly int _patchW, _patchB = -1, _cls, _pos, _preW = -1, _preB = -1, _normW, _normB, _poolW = -1, _poolB = -1, _projW = -1;
    private readonly PreNormBlock[] _blocks;
    private readonly ActivationArena _arena = new();
    private int _maxBatch;
    private EncoderScratch? _scratch;
    private ArenaBuffer _cols, _patches, _x0, _final, _hidden, _mean, _rstd, _pooled, _postLn, _pmean, _prstd, _poolPre, _embedding;
    private ArenaBuffer _dx, _dX0, _dPatches, _dPooled, _dPost;

    /// <summary>Declares the parameters of <paramref name="config"/> (zero-initialised).</summary>
    public VisionTransformer(VisionTransformerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        _cfg = config;
        _c = config.HiddenSize; _np = config.PatchCount; _t = config.Tokens;
        _k = config.NumChannels * config.PatchSize * config.PatchSize;
        var layout = new ParameterLayout();
        int c = _c, p = config.PatchSize;
        bool clip = config.Flavor != VisionFlavor.Vit;
        bool open = config.Flavor == VisionFlavor.OpenClipVisual;
        if (open)
        {
            // OpenCLIP state-dict order: class_embedding, positional_embedding, proj, conv1, ln_pre, resblocks, ln_post.
            _cls = layout.Add("visual.class_embedding", c);
            _pos = layout.Add("visual.positional_embedding", _t, c);
            if (config.ProjectionDim > 0) _projW = layout.Add("visual.proj", c, config.ProjectionDim); // (C, E): x @ proj
            _patchW = layout.Add("visual.conv1.weight", c, config.NumChannels, p, p);
            (_preW, _preB) = PreNormBlock.Norm(layout, "visual.ln_pre", c);
        }
        else if (clip)
        {
            _cls = layout.Add("vision_model.embeddings.class_embedding", c);
            _patchW = layout.Add("vision_model.embeddings.patch_embedding.weight", c, config.NumChannels, p, p);
            _pos = layout.Add("vision_model.embeddings.position_embedding.weight", _t, c);
            (_preW, _preB) = PreNormBlock.Norm(layout, "vision_model.pre_layrnorm", c); // sic: Hugging Face's spelling
        }
        else
        {
            // Hugging Face order: cls_token, position_embeddings, patch projection (C, Cin, P, P) + bias.
            _cls = layout.Add("embeddings.cls_token", 1, 1, c);
            _pos = layout.Add("embeddings.position_embeddings", 1, _t, c);
            _patchW = layout.Add("embeddings.patch_embeddings.projection.weight", c, config.NumChannels, p, p);
            _patchB = layout.Add("embeddings.patch_embeddings.projection.bias", c);
        }
        _blocks = new PreNormBlock[config.NumLayers];
        for (int i = 0; i < config.NumLayers; i++)
        {
            string r = $"visual.transformer.resblocks.{i}.";
            BlockNames names = open
                ? new(r + "ln_1", "", "", "", r + "attn.out_proj", r + "ln_2", r + "mlp.c_fc", r + "mlp.c_proj")
                  { FusedQkvWeight = r + "attn.in_proj_weight", FusedQkvBias = r + "attn.in_proj_bias" }
                : clip
                ? new($"vision_model.encoder.layers.{i}.layer_norm1", $"vision_model.encoder.layers.{i}.self_attn.q_proj",
                      $"vision_model.encoder.layers.{i}.self_attn.k_proj", $"vision_model.encoder.layers.{i}.self_attn.v_proj",
                      $"vision_model.encoder.layers.{i}.self_attn.out_proj", $"vision_model.encoder.layers.{i}.layer_norm2",
                      $"vision_model.encoder.layers.{i}.mlp.fc1", $"vision_model.encoder.layers.{i}.mlp.fc2")
                : new($"encoder.layer.{i}.layernorm_before", $"encoder.layer.{i}.attention.attention.query",
                      $"encoder.layer.{i}.attention.attention.key", $"encoder.layer.{i}.attention.attention.value",
                      $"encoder.layer.{i}.attention.output.dense", $"encoder.layer.{i}.layernorm_after",
                      $"encoder.layer.{i}.intermediate.dense", $"encoder.layer.{i}.output.dense");
            _blocks[i] = new PreNormBlock(layout, names, c, config.IntermediateSize, config.NumHeads, _t, config.Activation,
                config.LayerNormEps, clip || config.QkvBias);
        }
        if (open) (_normW, _normB) = PreNormBlock.Norm(layout, "visual.ln_post", c);
        else if (clip)
        {
            (_normW, _normB) = PreNormBlock.Norm(layout, "vision_model.post_layernorm", c);
            if (config.ProjectionDim > 0) _projW = layout.Add("visual_projection.weight", config.ProjectionDim, c); // no bias
        }
        else
        {
            (_normW, _normB) = PreNormBlock.Norm(layout, "layernorm", c);
            if (config.Pooler) (_poolW, _poolB) = PreNormBlock.Dense(layout, "pooler.dense", c, c, true);
        }
        Parameters = new ParameterArena(layout);
    }

    /// <summary>
    /// Builds the model a checkpoint holds and loads it: the optional parts are taken from the checkpoint
    /// (ViT <c>pooler.dense</c>; CLIP <c>visual_projection</c>, whose width must equal <c>projection_dim</c>).
    /// </summary>
    /// <exception cref="ArchitectureMismatchException">Names or shapes differ from the configuration.</exception>
    public static VisionTransformer Load(VisionTransformerConfig config, ICheckpointReader reader)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(reader);
        bool Has(string n) => reader.TryGetTensor(n, out _) || reader.TryGetTensor("vit." + n, out _);
        var cfg = config.Flavor switch
        {
            VisionFlavor.Vit => config with { Pooler = Has("pooler.dense.weight") },
            VisionFlavor.ClipVision => config with { ProjectionDim = Has("visual_projection.weight") ? config.ProjectionDim : 0 },
            _ => config with { ProjectionDim = Has("visual.proj") ? config.ProjectionDim : 0 },
        };
        var model = new VisionTransformer(cfg);
        model.Load(reader);
        return model;
    }

    /// <summary>The hyper-parameters.</summary>
    public VisionTransformerConfig Config => _cfg;

    /// <summary>Parameters and gradients, laid out by checkpoint name.</summary>
    public ParameterArena Parameters { get; }

    /// <summary>Floats per image: C·H·W.</summary>
    public int InputSize => _cfg.NumChannels * _cfg.ImageSize * _cfg.ImageSize;

    /// <inheritdoc/>
    public void BackwardFromEmbedding(ReadOnlySpan<float> dEmbedding, int batch) => Backward(default, dEmbedding, batch);

    /// <summary>Tokens per image T (patches + class token).</summary>
    public int Tokens => _t;

    /// <summary>Width of <see cref="Embedding"/>: the projection width for CLIP with a projection, else the hidden size.</summary>
    public int EmbeddingSize => _projW >= 0 ? _cfg.ProjectionDim : _c;

    /// <summary>Architecture name used in messages and by the CLI (<c>vit</c> or <c>clip_vision</c>).</summary>
    public string ArchitectureName => _cfg.Flavor switch { VisionFlavor.Vit => "vit", VisionFlavor.ClipVision => "clip_vision", _ => "openclip_visual" };

    /// <summary>Reads the parameters from a checkpoint. ViT tensors may carry a <c>vit.</c> prefix (as
    /// <c>ViTForImageClassification</c> saves them); the int64 <c>position_ids</c> buffer some CLIP checkpoints hold is
    /// ignored, and so are tensors of other towers (<c>text_model.*</c>, <c>classifier.*</c>).</summary>
    /// <exception cref="ArchitectureMismatchException">Names or shapes differ from the configuration.</exception>
    public void Load(ICheckpointReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        string prefix = _cfg.Flavor == VisionFlavor.Vit && !reader.TryGetTensor(Parameters.Layout.Entries[0].Name, out _)
            && reader.TryGetTensor("vit." + Parameters.Layout.Entries[0].Name, out _) ? "vit." : "";
        Parameters.Load(reader, ArchitectureName, prefix, name => name.EndsWith("position_ids", StringComparison.Ordinal)
            || (_cfg.Flavor == VisionFlavor.ClipVision && !name.StartsWith("vision_model.", StringComparison.Ordinal) && !name.StartsWith("visual_projection.", StringComparison.Ordinal))
            || (_cfg.Flavor == VisionFlavor.OpenClipVisual && !name.StartsWith("visual.", StringComparison.Ordinal))
            || (_cfg.Flavor == VisionFlavor.Vit && (name.StartsWith("classifier.", StringComparison.Ordinal) || (!_cfg.Pooler && name.StartsWith("pooler.", StringComparison.Ordinal)))));
    }

    private void EnsureCapacity(int batch)
    {
        if (batch <= _maxBatch) return;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        _maxBatch = batch;
        var a = _arena;
        a.Reset(); // re-plan every buffer for the larger shape
        int btc = batch * _t * _c, bc = batch * _c;
        _cols = a.Reserve(batch * _np * _k); _patches = a.Reserve(batch * _np * _c); _x0 = a.Reserve(btc);
        foreach (var blk in _blocks) blk.Plan(a, batch);
        _final = a.Reserve(btc); _hidden = a.Reserve(btc); _mean = a.Reserve(batch * _t); _rstd = a.Reserve(batch * _t);
        _pooled = a.Reserve(bc); _postLn = a.Reserve(bc); _pmean = a.Reserve(batch); _prstd = a.Reserve(batch);
        _poolPre = a.Reserve(bc); _embedding = a.Reserve(batch * EmbeddingSize);
        _scratch = new EncoderScratch(a, batch, _t, _c, _cfg.IntermediateSize);
        _dx = a.Reserve(btc); _dX0 = a.Reserve(btc); _dPatches = a.Reserve(batch * _np * _c); _dPooled = a.Reserve(bc); _dPost = a.Reserve(bc);
    }

    private ReadOnlySpan<float> Opt(int index) => index < 0 ? default : Parameters.Value(index);
    private Span<float> OptGrad(int index) => index < 0 ? default : Parameters.Gradient(index);

    /// <summary>Runs the encoder on a batch; read the results with <see cref="Hidden"/> and <see cref="Embedding"/>.</summary>
    /// <param name="images">Pixel values (B, Cin, H, W), already normalised as the model expects.</param>
    /// <param name="batch">B.</param>
    public void Forward(ReadOnlySpan<float> images, int batch)
    {
        EnsureCapacity(batch);
        var p = Parameters; var a = _arena;
        int s = _cfg.ImageSize, n = batch * _t, nc = n * _c, bc = batch * _c;
        if (images.Length < batch * _cfg.NumChannels * s * s) throw new ArgumentException($"expected {batch}×{_cfg.NumChannels}×{s}×{s} pixel values, got {images.Length}.", nameof(images));
        var patches = a.Span(_patches, batch * _np * _c);                 // (B, Np, C)
        PatchEmbedding.Forward<float>(patches, a.Span(_cols, batch * _np * _k), images, p.Value(_patchW), Opt(_patchB),
            batch, _cfg.NumChannels, s, s, _cfg.PatchSize, _c);
        bool clip = _cfg.Flavor != VisionFlavor.Vit;
        var x0 = a.Span(clip ? _x0 : FirstInput, nc);                      // (B, T, C)
        ClassToken.Forward<float>(x0, p.Value(_cls), patches, batch, _np, _c);
        Layers.Embedding.AddPositions<float>(x0, p.Value(_pos), batch, _t, _c);
        if (clip)
            LayerNorm.Forward<float>(a.Span(FirstInput, nc), a.Span(_mean, n), a.Span(_rstd, n), x0, p.Value(_preW), p.Value(_preB), n, _c, _cfg.LayerNormEps);
        for (int i = 0; i < _blocks.Length; i++)
            _blocks[i].Forward(p, a, a.Span(i + 1 < _blocks.Length ? _blocks[i + 1].Input : _final, nc), batch);
        var final = a.Span(_final, nc);                                   // (B, T, C)
        var pooled = a.Span(_pooled, bc);                                 // (B, C)
        var emb = a.Span(_embedding, batch * EmbeddingSize);              // (B, E)
        if (clip)
        {
            final.CopyTo(a.Span(_hidden, nc));
            Pooling.ClsForward<float>(pooled, final, batch, _t, _c);
            var post = a.Span(_postLn, bc);                               // (B, C)
            LayerNorm.Forward<float>(post, a.Span(_pmean, batch), a.Span(_prstd, batch), pooled, p.Value(_normW), p.Value(_normB), batch, _c, _cfg.LayerNormEps);
            if (_projW >= 0 && _cfg.Flavor == VisionFlavor.OpenClipVisual) Projection.Forward<float>(emb, post, p.Value(_projW), batch, _c, EmbeddingSize);
            else if (_projW >= 0) Linear.Forward<float>(emb, post, p.Value(_projW), default, batch, _c, EmbeddingSize);
            else post.CopyTo(emb);
        }
        else
        {
            var hidden = a.Span(_hidden, nc);
            LayerNorm.Forward<float>(hidden, a.Span(_mean, n), a.Span(_rstd, n), final, p.Value(_normW), p.Value(_normB), n, _c, _cfg.LayerNormEps);
            Pooling.ClsForward<float>(pooled, hidden, batch, _t, _c);
            if (_poolW >= 0)
            {
                var pre = a.Span(_poolPre, bc);
                Linear.Forward<float>(pre, pooled, p.Value(_poolW), p.Value(_poolB), batch, _c, _c);
                Activation.Forward<float>(ActivationKind.Tanh, emb, pre);
            }
            else pooled.CopyTo(emb);
        }
    }

    private ArenaBuffer FirstInput => _blocks.Length > 0 ? _blocks[0].Input : _final;

    /// <summary>Last hidden state (B, T, C) of the latest <see cref="Forward"/> (ViT: after the final layernorm; CLIP: before post_layernorm).</summary>
    public ReadOnlySpan<float> Hidden(int batch) => _arena.Span(_hidden, batch * _t * _c);

    /// <summary>Pooled embedding (B, E) of the latest <see cref="Forward"/> (ViT pooler output or CLS; CLIP image embedding).</summary>
    public ReadOnlySpan<float> Embedding(int batch) => _arena.Span(_embedding, batch * EmbeddingSize);

    /// <summary>Backward of the latest <see cref="Forward"/>; adds into <see cref="ParameterArena.Gradients"/>.</summary>
    /// <param name="dHidden">∂L/∂hidden (B, T, C), or empty.</param>
    /// <param name="dEmbedding">∂L/∂embedding (B, E), or empty.</param>
    /// <param name="batch">B (as in the forward pass).</param>
    public void Backward(ReadOnlySpan<float> dHidden, ReadOnlySpan<float> dEmbedding, int batch)
    {
        var p = Parameters; var a = _arena; var s = _scratch!;
        int n = batch * _t, nc = n * _c, bc = batch * _c;
        bool clip = _cfg.Flavor != VisionFlavor.Vit;
        var dx = a.Span(_dx, nc);                                         // (B, T, C)
        var dPooled = a.Span(_dPooled, bc); dPooled.Clear();              // (B, C)
        if (clip)
        {
            if (dHidden.IsEmpty) dx.Clear(); else dHidden[..nc].CopyTo(dx);
            if (!dEmbedding.IsEmpty)
            {
                var dPost = a.Span(_dPost, bc);                           // (B, C)
                if (_projW >= 0 && _cfg.Flavor == VisionFlavor.OpenClipVisual) { dPost.Clear(); Projection.Backward<float>(dPost, p.Gradient(_projW), dEmbedding, a.Span(_postLn, bc), p.Value(_projW), batch, _c, EmbeddingSize); }
                else if (_projW >= 0) { dPost.Clear(); Linear.Backward<float>(dPost, p.Gradient(_projW), default, dEmbedding, a.Span(_postLn, bc), p.Value(_projW), batch, _c, EmbeddingSize); }
                else dEmbedding[..bc].CopyTo(dPost);
                LayerNorm.Backward<float>(dPooled, p.Gradient(_normW), p.Gradient(_normB), a.Span(s.NormScratch), dPost,
                    a.Span(_pooled, bc), a.Span(_pmean, batch), a.Span(_prstd, batch), p.Value(_normW), batch, _c);
                Pooling.ClsBackward<float>(dx, dPooled, batch, _t, _c);
            }
        }
        else
        {
            var dHid = a.Span(_dX0, nc);                                  // (B, T, C) gradient of the hidden state
            if (dHidden.IsEmpty) dHid.Clear(); else dHidden[..nc].CopyTo(dHid);
            if (!dEmbedding.IsEmpty)
            {
                if (_poolW >= 0)
                {
                    var dPre = a.Span(_dPost, bc); dPre.Clear();
                    Activation.Backward<float>(ActivationKind.Tanh, dPre, dEmbedding[..bc], a.Span(_poolPre, bc));
                    Linear.Backward<float>(dPooled, p.Gradient(_poolW), p.Gradient(_poolB), dPre, a.Span(_pooled, bc), p.Value(_poolW), batch, _c, _c);
                }
                else dEmbedding[..bc].CopyTo(dPooled);
                Pooling.ClsBackward<float>(dHid, dPooled, batch, _t, _c);
            }
            dx.Clear();
            LayerNorm.Backward<float>(dx, p.Gradient(_normW), p.Gradient(_normB), a.Span(s.NormScratch), dHid,
                a.Span(_final, nc), a.Span(_mean, n), a.Span(_rstd, n), p.Value(_normW), n, _c);
        }
        for (int i = _blocks.Length - 1; i >= 0; i--) _blocks[i].Backward(p, a, s, dx, batch);
        var dX0 = dx;
        if (clip)
        {
            dX0 = a.Span(_dX0, nc); dX0.Clear();
            LayerNorm.Backward<float>(dX0, p.Gradient(_preW), p.Gradient(_preB), a.Span(s.NormScratch), dx,
                a.Span(_x0, nc), a.Span(_mean, n), a.Span(_rstd, n), p.Value(_preW), n, _c);
        }
        Layers.Embedding.AddPositionsBackward<float>(p.Gradient(_pos), dX0, batch, _t, _c);
        var dPatches = a.Span(_dPatches, batch * _np * _c); dPatches.Clear(); // (B, Np, C)
        ClassToken.Backward<float>(p.Gradient(_cls), dPatches, dX0, batch, _np, _c);
        PatchEmbedding.Backward<float>(default, p.Gradient(_patchW), OptGrad(_patchB), default, dPatches,
            a.Span(_cols, batch * _np * _k), p.Value(_patchW), batch, _cfg.NumChannels, _cfg.ImageSize, _cfg.ImageSize, _cfg.PatchSize, _c);
    }
}
