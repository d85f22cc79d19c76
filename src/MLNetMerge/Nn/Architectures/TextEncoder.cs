using MLNetMerge.Checkpoints;
using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Nn.Architectures;

/// <summary>
/// BERT (<c>BertModel</c>) or RoBERTa (<c>RobertaModel</c>) with Hugging Face tensor names, batched forward and backward
/// over token ids with an attention mask. <c>x = LN(word[id] + position[pos] + segment[type])</c> → post-norm blocks →
/// <c>hidden</c>; embedding = <c>tanh(pooler(hidden[:,0]))</c> with a pooler, else <c>hidden[:,0]</c>.
/// Positions: BERT <c>0…T−1</c>; RoBERTa <c>pad + cumsum(id ≠ pad)</c> on real tokens and <c>pad</c> on padding.
/// </summary>
internal sealed class TextEncoder
{
    private readonly TextEncoderConfig _cfg;
    private readonly int _c;
    private readonly int _word, _pos, _type, _lnW, _lnB, _poolW = -1, _poolB = -1;
    private readonly PostNormBlock[] _blocks;
    private readonly ActivationArena _arena = new();
    private int _maxBatch, _maxTokens, _batch, _tokens;
    private int[] _ids = [], _positions = [], _types = [];
    private bool[] _mask = [];
    private bool _masked;
    private EncoderScratch? _scratch;
    private ArenaBuffer _sum, _mean, _rstd, _hidden, _pooled, _poolPre, _embedding, _dx, _dSum, _dPooled, _dPre;

    /// <summary>Declares the parameters of <paramref name="config"/> (zero-initialised).</summary>
    public TextEncoder(TextEncoderConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.HiddenSize % config.NumHeads != 0) throw new ArgumentException($"hidden_size {config.HiddenSize} must be a multiple of num_attention_heads {config.NumHeads}.");
        _cfg = config;
        _c = config.HiddenSize;
        var layout = new ParameterLayout();
        _word = layout.Add("embeddings.word_embeddings.weight", config.VocabSize, _c);
        _pos = layout.Add("embeddings.position_embeddings.weight", config.MaxPositions, _c);
        _type = layout.Add("embeddings.token_type_embeddings.weight", config.TypeVocabSize, _c);
        (_lnW, _lnB) = PreNormBlock.Norm(layout, "embeddings.LayerNorm", _c);
        _blocks = new PostNormBlock[config.NumLayers];
        for (int i = 0; i < _blocks.Length; i++)
            _blocks[i] = new PostNormBlock(layout, $"encoder.layer.{i}.", _c, config.IntermediateSize, config.NumHeads, config.Activation, config.LayerNormEps);
        if (config.Pooler) (_poolW, _poolB) = PreNormBlock.Dense(layout, "pooler.dense", _c, _c, true);
        Parameters = new ParameterArena(layout);
    }

    /// <summary>Builds the encoder a checkpoint holds (pooler taken from the checkpoint) and loads it.</summary>
    /// <exception cref="ArchitectureMismatchException">Names or shapes differ from the configuration.</exception>
    public static TextEncoder Load(TextEncoderConfig config, ICheckpointReader reader)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(reader);
        string prefix = Prefix(config, reader);
        var model = new TextEncoder(config with { Pooler = reader.TryGetTensor(prefix + "pooler.dense.weight", out _) });
        model.Load(reader);
        return model;
    }

    private static string Prefix(TextEncoderConfig config, ICheckpointReader reader)
    {
        string own = config.Flavor == TextFlavor.Bert ? "bert." : "roberta.";
        return !reader.TryGetTensor("embeddings.word_embeddings.weight", out _) && reader.TryGetTensor(own + "embeddings.word_embeddings.weight", out _) ? own : "";
    }

    /// <summary>The hyper-parameters.</summary>
    public TextEncoderConfig Config => _cfg;

    /// <summary>Parameters and gradients, laid out by checkpoint name.</summary>
    public ParameterArena Parameters { get; }

    /// <summary>Architecture name (<c>bert</c> or <c>roberta</c>).</summary>
    public string ArchitectureName => _cfg.Flavor == TextFlavor.Bert ? "bert" : "roberta";

    /// <summary>Width of <see cref="Embedding"/> (the hidden size).</summary>
    public int EmbeddingSize => _c;

    /// <summary>Reads the parameters; accepts a <c>bert.</c>/<c>roberta.</c> prefix (task models), skips heads outside it and
    /// the <c>position_ids</c>/<c>token_type_ids</c> buffers.</summary>
    /// <exception cref="ArchitectureMismatchException">Names or shapes differ from the configuration.</exception>
    public void Load(ICheckpointReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        Parameters.Load(reader, ArchitectureName, Prefix(_cfg, reader), name => name.EndsWith("position_ids", StringComparison.Ordinal)
            || name.EndsWith("token_type_ids", StringComparison.Ordinal) || (!_cfg.Pooler && name.StartsWith("pooler.", StringComparison.Ordinal))
            || name.StartsWith("classifier.", StringComparison.Ordinal) || name.StartsWith("lm_head.", StringComparison.Ordinal) || name.StartsWith("cls.", StringComparison.Ordinal));
    }

    /// <summary>Position ids of one batch as the architecture defines them (BERT: 0…T−1; RoBERTa: offset by the padding index).</summary>
    /// <param name="positions">Output (B, T).</param>
    /// <param name="ids">Token ids (B, T).</param>
    /// <param name="batch">B.</param>
    /// <param name="tokens">T.</param>
    public void PositionIds(Span<int> positions, ReadOnlySpan<int> ids, int batch, int tokens)
    {
        int pad = _cfg.PadTokenId;
        for (int b = 0; b < batch; b++)
        {
            int count = 0;
            for (int t = 0; t < tokens; t++)
            {
                int i = b * tokens + t;
                if (_cfg.Flavor == TextFlavor.Bert) positions[i] = t;
                else positions[i] = ids[i] != pad ? pad + ++count : pad;
            }
        }
    }

    private void EnsureCapacity(int batch, int tokens)
    {
        if (batch <= _maxBatch && tokens <= _maxTokens) return;
        _maxBatch = Math.Max(batch, _maxBatch); _maxTokens = Math.Max(tokens, _maxTokens);
        int b = _maxBatch, t = _maxTokens, btc = b * t * _c, bc = b * _c;
        _ids = new int[b * t]; _positions = new int[b * t]; _types = new int[b * t]; _mask = new bool[b * t];
        var a = _arena;
        a.Reset(); // re-plan every buffer for the larger shape
        _sum = a.Reserve(btc); _mean = a.Reserve(b * t); _rstd = a.Reserve(b * t);
        foreach (var blk in _blocks) blk.Plan(a, b, t);
        _hidden = a.Reserve(btc); _pooled = a.Reserve(bc); _poolPre = a.Reserve(bc); _embedding = a.Reserve(bc);
        _scratch = new EncoderScratch(a, b, t, _c, _cfg.IntermediateSize);
        _dx = a.Reserve(btc); _dSum = a.Reserve(btc); _dPooled = a.Reserve(bc); _dPre = a.Reserve(bc);
    }

    /// <summary>Runs the encoder on a batch of token ids.</summary>
    /// <param name="ids">Token ids (B, T).</param>
    /// <param name="attentionMask">(B, T): true = real token; empty = every token attends.</param>
    /// <param name="tokenTypeIds">Segment ids (B, T), or empty for all zeros.</param>
    /// <param name="batch">B.</param>
    /// <param name="tokens">T (at most <c>max_position_embeddings</c>, less the RoBERTa offset).</param>
    public void Forward(ReadOnlySpan<int> ids, ReadOnlySpan<bool> attentionMask, ReadOnlySpan<int> tokenTypeIds, int batch, int tokens)
    {
        EnsureCapacity(batch, tokens);
        int n = batch * tokens, nc = n * _c, bc = batch * _c;
        _batch = batch; _tokens = tokens;
        ids[..n].CopyTo(_ids);
        PositionIds(_positions, ids, batch, tokens);
        foreach (int pos in _positions.AsSpan(0, n))
            if (pos >= _cfg.MaxPositions) throw new ArgumentException($"sequence of {tokens} tokens needs position {pos}; the model has {_cfg.MaxPositions} positions.");
        if (tokenTypeIds.IsEmpty) Array.Clear(_types); else tokenTypeIds[..n].CopyTo(_types);
        _masked = !attentionMask.IsEmpty;
        if (_masked) attentionMask[..n].CopyTo(_mask);
        var p = Parameters; var a = _arena;
        var sum = a.Span(_sum, nc);                                          // (B, T, C)
        Layers.Embedding.Forward<float>(sum, _ids.AsSpan(0, n), p.Value(_word), _c, accumulate: false);
        Layers.Embedding.Forward<float>(sum, _positions.AsSpan(0, n), p.Value(_pos), _c, accumulate: true);
        Layers.Embedding.Forward<float>(sum, _types.AsSpan(0, n), p.Value(_type), _c, accumulate: true);
        var mask = _masked ? (ReadOnlySpan<bool>)_mask.AsSpan(0, n) : default;
        LayerNorm.Forward<float>(a.Span(_blocks.Length > 0 ? _blocks[0].Input : _hidden, nc), a.Span(_mean, n), a.Span(_rstd, n), sum,
            p.Value(_lnW), p.Value(_lnB), n, _c, _cfg.LayerNormEps);
        for (int i = 0; i < _blocks.Length; i++)
            _blocks[i].Forward(p, a, a.Span(i + 1 < _blocks.Length ? _blocks[i + 1].Input : _hidden, nc), mask, batch, tokens);
        var hidden = a.Span(_hidden, nc);
        var pooled = a.Span(_pooled, bc);
        Pooling.ClsForward<float>(pooled, hidden, batch, tokens, _c);
        var emb = a.Span(_embedding, bc);
        if (_poolW >= 0)
        {
            var pre = a.Span(_poolPre, bc);
            Linear.Forward<float>(pre, pooled, p.Value(_poolW), p.Value(_poolB), batch, _c, _c);
            Activation.Forward<float>(ActivationKind.Tanh, emb, pre);
        }
        else pooled.CopyTo(emb);
    }

    /// <summary>Last hidden state (B, T, C) of the latest <see cref="Forward"/>.</summary>
    public ReadOnlySpan<float> Hidden => _arena.Span(_hidden, _batch * _tokens * _c);

    /// <summary>Pooled embedding (B, C) of the latest <see cref="Forward"/> (pooler output, or the CLS hidden state).</summary>
    public ReadOnlySpan<float> Embedding => _arena.Span(_embedding, _batch * _c);

    /// <summary>Backward of the latest <see cref="Forward"/>; adds into <see cref="ParameterArena.Gradients"/>.</summary>
    /// <param name="dHidden">∂L/∂hidden (B, T, C), or empty.</param>
    /// <param name="dEmbedding">∂L/∂embedding (B, C), or empty.</param>
    public void Backward(ReadOnlySpan<float> dHidden, ReadOnlySpan<float> dEmbedding)
    {
        int batch = _batch, tokens = _tokens, n = batch * tokens, nc = n * _c, bc = batch * _c;
        var p = Parameters; var a = _arena; var s = _scratch!;
        var dx = a.Span(_dx, nc);                                            // (B, T, C)
        if (dHidden.IsEmpty) dx.Clear(); else dHidden[..nc].CopyTo(dx);
        if (!dEmbedding.IsEmpty)
        {
            var dPooled = a.Span(_dPooled, bc);                              // (B, C)
            if (_poolW >= 0)
            {
                var dPre = a.Span(_dPre, bc); dPre.Clear();
                Activation.Backward<float>(ActivationKind.Tanh, dPre, dEmbedding[..bc], a.Span(_poolPre, bc));
                dPooled.Clear();
                Linear.Backward<float>(dPooled, p.Gradient(_poolW), p.Gradient(_poolB), dPre, a.Span(_pooled, bc), p.Value(_poolW), batch, _c, _c);
            }
            else dEmbedding[..bc].CopyTo(dPooled);
            Pooling.ClsBackward<float>(dx, dPooled, batch, tokens, _c);
        }
        for (int i = _blocks.Length - 1; i >= 0; i--) _blocks[i].Backward(p, a, s, dx, batch, tokens);
        var dSum = a.Span(_dSum, nc); dSum.Clear();                          // (B, T, C)
        LayerNorm.Backward<float>(dSum, p.Gradient(_lnW), p.Gradient(_lnB), a.Span(s.NormScratch), dx,
            a.Span(_sum, nc), a.Span(_mean, n), a.Span(_rstd, n), p.Value(_lnW), n, _c);
        Layers.Embedding.Backward<float>(p.Gradient(_word), dSum, _ids.AsSpan(0, n), _c);
        Layers.Embedding.Backward<float>(p.Gradient(_pos), dSum, _positions.AsSpan(0, n), _c);
        Layers.Embedding.Backward<float>(p.Gradient(_type), dSum, _types.AsSpan(0, n), _c);
    }
}
