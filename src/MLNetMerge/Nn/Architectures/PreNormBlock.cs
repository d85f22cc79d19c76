using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Nn.Architectures;

/// <summary>
/// Checkpoint module names of one pre-norm transformer block (each gets <c>.weight</c> / <c>.bias</c> appended). With
/// <see cref="FusedQkvWeight"/> set, q/k/v come from one (3C, C) projection stored under those full tensor names
/// (PyTorch <c>nn.MultiheadAttention</c>'s <c>in_proj_weight</c> rows are [W_q; W_k; W_v]) and Query/Key/Value are unused.
/// </summary>
internal sealed record BlockNames(string Norm1, string Query, string Key, string Value, string Output, string Norm2, string Fc1, string Fc2)
{
    public string? FusedQkvWeight { get; init; }
    public string? FusedQkvBias { get; init; }
}

/// <summary>
/// One pre-norm transformer block (ViT, CLIP): <c>m = x + O(Attn(LN1(x)))</c>, <c>y = m + FC2(act(FC1(LN2(m))))</c>,
/// with separate q/k/v projections. Holds its parameter indices and its activation buffers (for a maximum batch).
/// </summary>
internal sealed class PreNormBlock
{
    private readonly int _c, _inter, _heads, _tokens;
    private readonly ActivationKind _act;
    private readonly double _eps;
    private readonly bool _fused;
    private readonly int _ln1W, _ln1B, _qW = -1, _qB = -1, _kW = -1, _kB = -1, _vW = -1, _vB = -1, _qkvW = -1, _qkvB = -1;
    private readonly int _oW, _oB, _ln2W, _ln2B, _fc1W, _fc1B, _fc2W, _fc2B;
    private ArenaBuffer _x, _ln1, _mean1, _rstd1, _qkv, _probs, _attOut, _mid, _ln2, _mean2, _rstd2, _pre, _actOut;

    public PreNormBlock(ParameterLayout layout, BlockNames names, int channels, int intermediate, int heads, int tokens,
        ActivationKind activation, double eps, bool qkvBias)
    {
        _c = channels; _inter = intermediate; _heads = heads; _tokens = tokens; _act = activation; _eps = eps;
        (_ln1W, _ln1B) = Norm(layout, names.Norm1, channels);
        _fused = names.FusedQkvWeight is not null;
        if (_fused)
        {
            _qkvW = layout.Add(names.FusedQkvWeight!, 3 * channels, channels);
            if (qkvBias) _qkvB = layout.Add(names.FusedQkvBias!, 3 * channels);
        }
        else
        {
            (_qW, _qB) = Dense(layout, names.Query, channels, channels, qkvBias);
            (_kW, _kB) = Dense(layout, names.Key, channels, channels, qkvBias);
            (_vW, _vB) = Dense(layout, names.Value, channels, channels, qkvBias);
        }
        (_oW, _oB) = Dense(layout, names.Output, channels, channels, true);
        (_ln2W, _ln2B) = Norm(layout, names.Norm2, channels);
        (_fc1W, _fc1B) = Dense(layout, names.Fc1, intermediate, channels, true);
        (_fc2W, _fc2B) = Dense(layout, names.Fc2, channels, intermediate, true);
    }

    internal static (int W, int B) Norm(ParameterLayout layout, string name, int c)
        => (layout.Add(name + ".weight", c), layout.Add(name + ".bias", c));

    internal static (int W, int B) Dense(ParameterLayout layout, string name, int outDim, int inDim, bool bias)
        => (layout.Add(name + ".weight", outDim, inDim), bias ? layout.Add(name + ".bias", outDim) : -1);

    /// <summary>The block's input buffer (B, T, C); the caller writes it before <see cref="Forward"/>.</summary>
    public ArenaBuffer Input => _x;

    /// <summary>Reserves this block's activations for <paramref name="maxBatch"/> sequences.</summary>
    public void Plan(ActivationArena arena, int maxBatch)
    {
        int btc = maxBatch * _tokens * _c, bt = maxBatch * _tokens, bti = maxBatch * _tokens * _inter;
        _x = arena.Reserve(btc); _ln1 = arena.Reserve(btc); _mean1 = arena.Reserve(bt); _rstd1 = arena.Reserve(bt);
        _qkv = arena.Reserve(3 * btc);
        _probs = arena.Reserve(maxBatch * _heads * _tokens * _tokens); _attOut = arena.Reserve(btc); _mid = arena.Reserve(btc);
        _ln2 = arena.Reserve(btc); _mean2 = arena.Reserve(bt); _rstd2 = arena.Reserve(bt);
        _pre = arena.Reserve(bti); _actOut = arena.Reserve(bti);
    }

    private static ReadOnlySpan<float> Bias(ParameterArena p, int index) => index < 0 ? default : p.Value(index);
    private static Span<float> BiasGrad(ParameterArena p, int index) => index < 0 ? default : p.Gradient(index);

    /// <summary>Forward from <see cref="Input"/> into <paramref name="output"/> (B, T, C).</summary>
    public void Forward(ParameterArena p, ActivationArena a, Span<float> output, int batch)
    {
        int n = batch * _tokens, nc = n * _c, ni = n * _inter;
        var x = a.Span(_x, nc);                    // (B, T, C)
        var ln1 = a.Span(_ln1, nc);                // (B, T, C)
        LayerNorm.Forward<float>(ln1, a.Span(_mean1, n), a.Span(_rstd1, n), x, p.Value(_ln1W), p.Value(_ln1B), n, _c, _eps);
        var qkv = a.Span(_qkv, 3 * nc);            // fused: (B, T, 3C); separate: q, k, v (B, T, C) back to back
        int stride = _fused ? 3 * _c : _c;
        Span<float> q, k, v;
        if (_fused)
        {
            FusedLinear.Forward(qkv, default, ln1, p.Value(_qkvW), Bias(p, _qkvB), n, _c, 3 * _c);
            q = qkv; k = qkv[_c..]; v = qkv[(2 * _c)..];
        }
        else
        {
            q = qkv[..nc]; k = qkv.Slice(nc, nc); v = qkv.Slice(2 * nc, nc);
            FusedLinear.Forward(q, default, ln1, p.Value(_qW), Bias(p, _qB), n, _c, _c);
            FusedLinear.Forward(k, default, ln1, p.Value(_kW), Bias(p, _kB), n, _c, _c);
            FusedLinear.Forward(v, default, ln1, p.Value(_vW), Bias(p, _vB), n, _c, _c);
        }
        var att = a.Span(_attOut, nc);             // (B, T, C)
        Attention.Forward<float>(att, a.Span(_probs, batch * _heads * _tokens * _tokens), q, k, v, default, batch, _tokens, _c, _heads, stride);
        var mid = a.Span(_mid, nc);                // (B, T, C): x + O(att) + b
        FusedLinear.Forward(mid, default, att, p.Value(_oW), p.Value(_oB), n, _c, _c, residual: x);
        var ln2 = a.Span(_ln2, nc);                // (B, T, C)
        LayerNorm.Forward<float>(ln2, a.Span(_mean2, n), a.Span(_rstd2, n), mid, p.Value(_ln2W), p.Value(_ln2B), n, _c, _eps);
        var pre = a.Span(_pre, ni);                // (B, T, I)
        var act = a.Span(_actOut, ni);             // (B, T, I)
        FusedLinear.Forward(pre, act, ln2, p.Value(_fc1W), p.Value(_fc1B), n, _c, _inter, _act);
        FusedLinear.Forward(output[..nc], default, act, p.Value(_fc2W), p.Value(_fc2B), n, _inter, _c, residual: mid); // mid + FC2(act) + b
    }

    /// <summary>
    /// Backward: on entry <paramref name="dx"/> (B, T, C) holds ∂L/∂output, on exit ∂L/∂input; parameter gradients are added.
    /// </summary>
    public void Backward(ParameterArena p, ActivationArena a, EncoderScratch s, Span<float> dx, int batch)
    {
        int n = batch * _tokens, nc = n * _c, ni = n * _inter;
        dx = dx[..nc];
        // y = mid + FC2(act(FC1(LN2(mid))))
        var dAct = a.Span(s.DWide1, ni); dAct.Clear();    // (B, T, I)
        Linear.Backward<float>(dAct, p.Gradient(_fc2W), p.Gradient(_fc2B), dx, a.Span(_actOut, ni), p.Value(_fc2W), n, _inter, _c);
        var dPre = a.Span(s.DWide2, ni); dPre.Clear();    // (B, T, I)
        Activation.Backward<float>(_act, dPre, dAct, a.Span(_pre, ni));
        var dLn = a.Span(s.DNorm, nc); dLn.Clear();       // (B, T, C)
        Linear.Backward<float>(dLn, p.Gradient(_fc1W), p.Gradient(_fc1B), dPre, a.Span(_ln2, nc), p.Value(_fc1W), n, _c, _inter);
        var dMid = a.Span(s.DMid, nc); dx.CopyTo(dMid);   // (B, T, C)
        LayerNorm.Backward<float>(dMid, p.Gradient(_ln2W), p.Gradient(_ln2B), a.Span(s.NormScratch), dLn,
            a.Span(_mid, nc), a.Span(_mean2, n), a.Span(_rstd2, n), p.Value(_ln2W), n, _c);
        // mid = x + O(Attn(q, k, v))
        var dAtt = a.Span(s.DAttOut, nc); dAtt.Clear();   // (B, T, C)
        Linear.Backward<float>(dAtt, p.Gradient(_oW), p.Gradient(_oB), dMid, a.Span(_attOut, nc), p.Value(_oW), n, _c, _c);
        var dqkv = a.Span(s.DQkv, 3 * nc); dqkv.Clear(); // laid out like the q/k/v buffer
        var qkv = a.Span(_qkv, 3 * nc);
        var ln1 = a.Span(_ln1, nc);
        var probs = a.Span(_probs, batch * _heads * _tokens * _tokens);
        dLn.Clear();
        if (_fused)
        {
            Attention.Backward<float>(dqkv, dqkv[_c..], dqkv[(2 * _c)..], a.Span(s.AttentionScratch), dAtt, probs,
                qkv, qkv[_c..], qkv[(2 * _c)..], batch, _tokens, _c, _heads, 3 * _c);
            Linear.Backward<float>(dLn, p.Gradient(_qkvW), BiasGrad(p, _qkvB), dqkv, ln1, p.Value(_qkvW), n, _c, 3 * _c);
        }
        else
        {
            Span<float> dq = dqkv[..nc], dk = dqkv.Slice(nc, nc), dv = dqkv.Slice(2 * nc, nc);
            Attention.Backward<float>(dq, dk, dv, a.Span(s.AttentionScratch), dAtt, probs,
                qkv[..nc], qkv.Slice(nc, nc), qkv.Slice(2 * nc, nc), batch, _tokens, _c, _heads, _c);
            Linear.Backward<float>(dLn, p.Gradient(_qW), BiasGrad(p, _qB), dq, ln1, p.Value(_qW), n, _c, _c);
            Linear.Backward<float>(dLn, p.Gradient(_kW), BiasGrad(p, _kB), dk, ln1, p.Value(_kW), n, _c, _c);
            Linear.Backward<float>(dLn, p.Gradient(_vW), BiasGrad(p, _vB), dv, ln1, p.Value(_vW), n, _c, _c);
        }
        dMid.CopyTo(dx);
        LayerNorm.Backward<float>(dx, p.Gradient(_ln1W), p.Gradient(_ln1B), a.Span(s.NormScratch), dLn,
            a.Span(_x, nc), a.Span(_mean1, n), a.Span(_rstd1, n), p.Value(_ln1W), n, _c);
    }
}

/// <summary>Gradient workspaces shared by every block of an encoder (only one block runs backward at a time).</summary>
internal sealed class EncoderScratch
{
    public ArenaBuffer DMid, DNorm, DAttOut, DQkv, DWide1, DWide2, AttentionScratch, NormScratch;

    public EncoderScratch(ActivationArena arena, int maxBatch, int tokens, int channels, int intermediate)
    {
        int btc = maxBatch * tokens * channels, bti = maxBatch * tokens * intermediate;
        DMid = arena.Reserve(btc); DNorm = arena.Reserve(btc); DAttOut = arena.Reserve(btc);
        DQkv = arena.Reserve(3 * btc);
        DWide1 = arena.Reserve(bti); DWide2 = arena.Reserve(bti);
        AttentionScratch = arena.Reserve(Attention.ScratchLength(tokens)); NormScratch = arena.Reserve(2 * channels);
    }
}
