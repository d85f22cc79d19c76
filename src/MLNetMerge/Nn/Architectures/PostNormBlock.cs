using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Nn.Architectures;

/// <summary>
/// One post-norm transformer block (BERT, RoBERTa): <c>h = LN1(x + O(Attn(x)))</c>, <c>y = LN2(h + FC2(act(FC1(h))))</c>,
/// with separate q/k/v projections and a key padding mask. Hugging Face names under <c>encoder.layer.{i}.</c>.
/// </summary>
internal sealed class PostNormBlock
{
    private readonly int _c, _inter, _heads;
    private readonly ActivationKind _act;
    private readonly double _eps;
    private readonly int _qW, _qB, _kW, _kB, _vW, _vB, _oW, _oB, _ln1W, _ln1B, _fc1W, _fc1B, _fc2W, _fc2B, _ln2W, _ln2B;
    private ArenaBuffer _x, _qkv, _probs, _attOut, _s1, _h, _mean1, _rstd1, _pre, _actOut, _s2, _mean2, _rstd2;

    public PostNormBlock(ParameterLayout layout, string prefix, int channels, int intermediate, int heads, ActivationKind activation, double eps)
    {
        _c = channels; _inter = intermediate; _heads = heads; _act = activation; _eps = eps;
        (_qW, _qB) = PreNormBlock.Dense(layout, prefix + "attention.self.query", channels, channels, true);
        (_kW, _kB) = PreNormBlock.Dense(layout, prefix + "attention.self.key", channels, channels, true);
        (_vW, _vB) = PreNormBlock.Dense(layout, prefix + "attention.self.value", channels, channels, true);
        (_oW, _oB) = PreNormBlock.Dense(layout, prefix + "attention.output.dense", channels, channels, true);
        (_ln1W, _ln1B) = PreNormBlock.Norm(layout, prefix + "attention.output.LayerNorm", channels);
        (_fc1W, _fc1B) = PreNormBlock.Dense(layout, prefix + "intermediate.dense", intermediate, channels, true);
        (_fc2W, _fc2B) = PreNormBlock.Dense(layout, prefix + "output.dense", channels, intermediate, true);
        (_ln2W, _ln2B) = PreNormBlock.Norm(layout, prefix + "output.LayerNorm", channels);
    }

    /// <summary>The block's input buffer (B, T, C).</summary>
    public ArenaBuffer Input => _x;

    /// <summary>Reserves activations for <paramref name="maxBatch"/> sequences of <paramref name="maxTokens"/> tokens.</summary>
    public void Plan(ActivationArena arena, int maxBatch, int maxTokens)
    {
        int btc = maxBatch * maxTokens * _c, bt = maxBatch * maxTokens, bti = maxBatch * maxTokens * _inter;
        _x = arena.Reserve(btc); _qkv = arena.Reserve(3 * btc); _probs = arena.Reserve(maxBatch * _heads * maxTokens * maxTokens);
        _attOut = arena.Reserve(btc); _s1 = arena.Reserve(btc); _h = arena.Reserve(btc); _mean1 = arena.Reserve(bt); _rstd1 = arena.Reserve(bt);
        _pre = arena.Reserve(bti); _actOut = arena.Reserve(bti); _s2 = arena.Reserve(btc); _mean2 = arena.Reserve(bt); _rstd2 = arena.Reserve(bt);
    }

    /// <summary>Forward from <see cref="Input"/> into <paramref name="output"/> (B, T, C).</summary>
    public void Forward(ParameterArena p, ActivationArena a, Span<float> output, ReadOnlySpan<bool> keyMask, int batch, int tokens)
    {
        int n = batch * tokens, nc = n * _c, ni = n * _inter;
        var x = a.Span(_x, nc);                                            // (B, T, C)
        var qkv = a.Span(_qkv, 3 * nc);                                    // q, k, v (B, T, C) back to back
        Span<float> q = qkv[..nc], k = qkv.Slice(nc, nc), v = qkv.Slice(2 * nc, nc);
        FusedLinear.Forward(q, default, x, p.Value(_qW), p.Value(_qB), n, _c, _c);
        FusedLinear.Forward(k, default, x, p.Value(_kW), p.Value(_kB), n, _c, _c);
        FusedLinear.Forward(v, default, x, p.Value(_vW), p.Value(_vB), n, _c, _c);
        var att = a.Span(_attOut, nc);                                     // (B, T, C)
        Attention.Forward<float>(att, a.Span(_probs, batch * _heads * tokens * tokens), q, k, v, keyMask, batch, tokens, _c, _heads, _c);
        var s1 = a.Span(_s1, nc);                                          // (B, T, C): x + O(att) + b
        FusedLinear.Forward(s1, default, att, p.Value(_oW), p.Value(_oB), n, _c, _c, residual: x);
        var h = a.Span(_h, nc);                                            // (B, T, C)
        LayerNorm.Forward<float>(h, a.Span(_mean1, n), a.Span(_rstd1, n), s1, p.Value(_ln1W), p.Value(_ln1B), n, _c, _eps);
        var pre = a.Span(_pre, ni);                                        // (B, T, I)
        var act = a.Span(_actOut, ni);                                     // (B, T, I)
        FusedLinear.Forward(pre, act, h, p.Value(_fc1W), p.Value(_fc1B), n, _c, _inter, _act);
        var s2 = a.Span(_s2, nc);                                          // (B, T, C): h + FC2(act) + b
        FusedLinear.Forward(s2, default, act, p.Value(_fc2W), p.Value(_fc2B), n, _inter, _c, residual: h);
        LayerNorm.Forward<float>(output[..nc], a.Span(_mean2, n), a.Span(_rstd2, n), s2, p.Value(_ln2W), p.Value(_ln2B), n, _c, _eps);
    }

    /// <summary>Backward: <paramref name="dx"/> holds ∂L/∂output on entry and ∂L/∂input on exit; parameter gradients are added.</summary>
    public void Backward(ParameterArena p, ActivationArena a, EncoderScratch s, Span<float> dx, int batch, int tokens)
    {
        int n = batch * tokens, nc = n * _c, ni = n * _inter;
        dx = dx[..nc];
        var dS2 = a.Span(s.DMid, nc); dS2.Clear();                         // (B, T, C)
        LayerNorm.Backward<float>(dS2, p.Gradient(_ln2W), p.Gradient(_ln2B), a.Span(s.NormScratch), dx,
            a.Span(_s2, nc), a.Span(_mean2, n), a.Span(_rstd2, n), p.Value(_ln2W), n, _c);
        var dAct = a.Span(s.DWide1, ni); dAct.Clear();                     // (B, T, I)
        Linear.Backward<float>(dAct, p.Gradient(_fc2W), p.Gradient(_fc2B), dS2, a.Span(_actOut, ni), p.Value(_fc2W), n, _inter, _c);
        var dH = a.Span(s.DNorm, nc); dS2.CopyTo(dH);                      // (B, T, C): residual path
        var dPre = a.Span(s.DWide2, ni); dPre.Clear();                     // (B, T, I)
        Activation.Backward<float>(_act, dPre, dAct, a.Span(_pre, ni));
        Linear.Backward<float>(dH, p.Gradient(_fc1W), p.Gradient(_fc1B), dPre, a.Span(_h, nc), p.Value(_fc1W), n, _c, _inter);
        var dS1 = dS2; dS1.Clear();                                        // reuse: (B, T, C)
        LayerNorm.Backward<float>(dS1, p.Gradient(_ln1W), p.Gradient(_ln1B), a.Span(s.NormScratch), dH,
            a.Span(_s1, nc), a.Span(_mean1, n), a.Span(_rstd1, n), p.Value(_ln1W), n, _c);
        var dAtt = a.Span(s.DAttOut, nc); dAtt.Clear();                    // (B, T, C)
        Linear.Backward<float>(dAtt, p.Gradient(_oW), p.Gradient(_oB), dS1, a.Span(_attOut, nc), p.Value(_oW), n, _c, _c);
        var dqkv = a.Span(s.DQkv, 3 * nc); dqkv.Clear();
        Span<float> dq = dqkv[..nc], dk = dqkv.Slice(nc, nc), dv = dqkv.Slice(2 * nc, nc);
        var qkv = a.Span(_qkv, 3 * nc);
        Attention.Backward<float>(dq, dk, dv, a.Span(s.AttentionScratch), dAtt, a.Span(_probs, batch * _heads * tokens * tokens),
            qkv[..nc], qkv.Slice(nc, nc), qkv.Slice(2 * nc, nc), batch, tokens, _c, _heads, _c);
        dS1.CopyTo(dx);
        var x = a.Span(_x, nc);
        Linear.Backward<float>(dx, p.Gradient(_qW), p.Gradient(_qB), dq, x, p.Value(_qW), n, _c, _c);
        Linear.Backward<float>(dx, p.Gradient(_kW), p.Gradient(_kB), dk, x, p.Value(_kW), n, _c, _c);
        Linear.Backward<float>(dx, p.Gradient(_vW), p.Gradient(_vB), dv, x, p.Value(_vW), n, _c, _c);
    }
}
