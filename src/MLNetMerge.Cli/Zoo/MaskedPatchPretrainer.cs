using MLNetMerge.Tensors;
using MLNetMerge.Data;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Nn.Optim;

namespace MLNetMerge.Cli.Zoo;

/// <summary>
/// Label-free pretraining by masked-patch reconstruction (SimMIM-style, single channel): per image a seeded random
/// half of the patches is blanked (pixels set to 0) at the input; a linear decoder (C → P²) reads each masked patch's
/// token from the last hidden state and predicts its original pixels; the loss is the mean squared error over the
/// masked pixels, <c>L = (1/|M|·P²) Σ_{t∈M} ‖W·h_t + b − x_t‖²</c>. The decoder is discarded afterwards.
/// </summary>
internal sealed class MaskedPatchPretrainer
{
    private readonly VisionTransformer _model;
    private readonly float[] _decoder;                                    // (P²·C + P²) weight (P², C) then bias (P²)
    private readonly float[] _dDecoder;                                   // same layout
    private readonly Adam _encoderOpt, _decoderOpt;
    private readonly int _c, _p, _pp, _grid, _t;

    /// <summary>Sets up pretraining of <paramref name="model"/> (single channel, square patches).</summary>
    public MaskedPatchPretrainer(VisionTransformer model, double learningRate, double weightDecay, ulong seed)
    {
        _model = model;
        var cfg = model.Config;
        if (cfg.NumChannels != 1) throw new ArgumentException("masked-patch pretraining here expects single-channel images.");
        _c = cfg.HiddenSize; _p = cfg.PatchSize; _pp = _p * _p; _grid = cfg.ImageSize / _p; _t = model.Tokens;
        _decoder = new float[_pp * _c + _pp];
        _dDecoder = new float[_decoder.Length];
        new SeededRandom(seed).FillGaussian(_decoder.AsSpan(0, _pp * _c), 0.02f);
        _encoderOpt = Adam.AdamW(model.Parameters.Values.Length, learningRate, weightDecay);
        _decoderOpt = Adam.AdamW(_decoder.Length, learningRate, weightDecay);
    }

    /// <summary>Share of patches masked per image.</summary>
    public double MaskRatio { get; init; } = 0.5;

    /// <summary>One epoch over <paramref name="pool"/> (N, 1, S, S) in shuffled batches with fresh masks; returns the mean loss.</summary>
    public double TrainEpoch(TaskDataset pool, int batchSize, ulong streamKey)
    {
        ArgumentNullException.ThrowIfNull(pool);
        int n = pool.Count, len = pool.FeatureLength, s = _grid * _p, np = _grid * _grid;
        int masked = Math.Max(1, (int)Math.Round(np * MaskRatio));
        var rng = new SeededRandom(streamKey);
        var order = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(order.AsSpan());
        var x = new float[batchSize * len];                              // (B, 1, S, S) masked input
        var mask = new bool[batchSize * np];                             // (B, Np)
        var target = new float[batchSize * np * _pp];                    // (B, Np, P²) original patch pixels
        var pred = new float[np * _pp];                                  // (Np, P²) one image's predictions
        var dPred = new float[np * _pp];                                 // (Np, P²)
        var dHidden = new float[batchSize * _t * _c];                    // (B, T, C)
        var patchOrder = Enumerable.Range(0, np).ToArray();
        double total = 0;
        int batches = 0;
        for (int start = 0; start < n; start += batchSize)
        {
            int b = Math.Min(batchSize, n - start);
            Array.Clear(mask);
            for (int i = 0; i < b; i++)
            {
                var img = pool.Example(order[start + i]);
                img.CopyTo(x.AsSpan(i * len, len));
                rng.Shuffle(patchOrder.AsSpan());
                for (int m = 0; m < masked; m++) mask[i * np + patchOrder[m]] = true;
                for (int q = 0; q < np; q++)
                {
                    int pr = q / _grid, pc = q % _grid;
                    for (int r = 0; r < _p; r++)
                        for (int c = 0; c < _p; c++)
                        {
                            int pix = (pr * _p + r) * s + pc * _p + c;
                            target[(i * np + q) * _pp + r * _p + c] = img[pix];
                            if (mask[i * np + q]) x[i * len + pix] = 0f;
                        }
                }
            }
            _model.Parameters.ZeroGrad();
            Array.Clear(_dDecoder);
            Array.Clear(dHidden);
            _model.Forward(x.AsSpan(0, b * len), b);
            var hidden = _model.Hidden(b);                                // (B, T, C)
            var w = _decoder.AsSpan(0, _pp * _c); var bias = _decoder.AsSpan(_pp * _c);
            float scale = 2f / (b * masked * _pp);
            double loss = 0;
            for (int i = 0; i < b; i++)
            {
                var tokens = hidden.Slice((i * _t + 1) * _c, np * _c);     // (Np, C) patch tokens (token 0 is the class token)
                Linear.Forward<float>(pred, tokens, w, bias, np, _c, _pp);
                Array.Clear(dPred);
                for (int q = 0; q < np; q++)
                {
                    if (!mask[i * np + q]) continue;
                    for (int j = 0; j < _pp; j++)
                    {
                        float diff = pred[q * _pp + j] - target[(i * np + q) * _pp + j];
                        loss += diff * diff;
                        dPred[q * _pp + j] = scale * diff;
                    }
                }
                Linear.Backward<float>(dHidden.AsSpan((i * _t + 1) * _c, np * _c), _dDecoder.AsSpan(0, _pp * _c), _dDecoder.AsSpan(_pp * _c),
                    dPred, tokens, w, np, _c, _pp);
            }
            _model.Backward(dHidden.AsSpan(0, b * _t * _c), default, b);
            GradientClipping.ClipByGlobalNorm(_model.Parameters.Gradients, 1f);
            _encoderOpt.Step(_model.Parameters.Values, _model.Parameters.Gradients);
            _decoderOpt.Step(_decoder, _dDecoder);
            total += loss / (b * masked * _pp);
            batches++;
        }
        return total / batches;
    }
}
