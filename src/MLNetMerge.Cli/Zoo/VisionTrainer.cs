using MLNetMerge.Tensors;
using MLNetMerge.Data;
using MLNetMerge.Nn;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Nn.Losses;
using MLNetMerge.Nn.Optim;

namespace MLNetMerge.Cli.Zoo;

/// <summary>
/// Trains an encoder (any <see cref="IDenseEncoder"/>: the zoo's ViT, or BERT through <see cref="TextDenseEncoder"/>) with a linear head on <c>f(x)</c> by softmax cross-entropy, mini-batch
/// AdamW with global-norm gradient clipping. The encoder, the head, or both are trained; a frozen head still passes
/// gradients to the encoder (<c>∂L/∂f = ∂L/∂z · W</c>). Batches come from a seeded shuffle per epoch.
/// </summary>
internal sealed class VisionTrainer
{
    private readonly IDenseEncoder _model;
    private readonly float[] _headW, _headB;                              // (K, E), (K)
    private readonly float[] _dHeadW, _dHeadB;                            // (K, E), (K)
    private readonly int _k, _e;
    private readonly Adam? _encoderOpt, _headOpt;
    private readonly float _clip;

    /// <summary>Sets up training.</summary>
    /// <param name="model">The encoder (trained in place when <paramref name="trainEncoder"/>).</param>
    /// <param name="headWeight">Head weight (K, E), trained in place when <paramref name="trainHead"/>.</param>
    /// <param name="headBias">Head bias (K).</param>
    /// <param name="trainEncoder">Update the encoder.</param>
    /// <param name="trainHead">Update the head.</param>
    /// <param name="learningRate">AdamW learning rate.</param>
    /// <param name="weightDecay">AdamW decoupled weight decay.</param>
    /// <param name="clipNorm">Global gradient-norm clip of the encoder's gradients (0 = none).</param>
    /// <param name="headLearningRate">Learning rate of the head (default: <paramref name="learningRate"/>).</param>
    public VisionTrainer(IDenseEncoder model, float[] headWeight, float[] headBias, bool trainEncoder, bool trainHead,
        double learningRate, double weightDecay, float clipNorm = 1f, double? headLearningRate = null)
    {
        _model = model;
        _headW = headWeight; _headB = headBias;
        _e = model.EmbeddingSize; _k = headBias.Length;
        if (headWeight.Length != _k * _e) throw new ArgumentException($"head weight has {headWeight.Length} values; expected {_k}×{_e}.");
        _dHeadW = new float[_k * _e]; _dHeadB = new float[_k];
        if (trainEncoder) _encoderOpt = Adam.AdamW(model.Parameters.Values.Length, learningRate, weightDecay);
        if (trainHead) _headOpt = Adam.AdamW(_k * _e + _k, headLearningRate ?? learningRate, weightDecay);
        _clip = clipNorm;
    }

    /// <summary>One pass over <paramref name="data"/> in shuffled mini-batches; returns the mean training loss.</summary>
    public double TrainEpoch(TaskDataset data, int batchSize, ulong streamKey)
    {
        ArgumentNullException.ThrowIfNull(data);
        var labels = data.RequireLabels();
        int n = data.Count, len = data.FeatureLength;
        var order = Enumerable.Range(0, n).ToArray();
        new SeededRandom(streamKey).Shuffle(order.AsSpan());
        var x = new float[batchSize * len];                              // (B, C, H, W)
        var y = new int[batchSize];                                      // (B)
        var logits = new float[batchSize * _k];                          // (B, K)
        var logp = new float[batchSize * _k];                            // (B, K)
        var dLogits = new float[batchSize * _k];                         // (B, K)
        var dEmb = new float[batchSize * _e];                            // (B, E)
        var headParams = new float[_k * _e + _k];                        // (K·E + K)
        var headGrads = new float[_k * _e + _k];                         // (K·E + K)
        double total = 0;
        for (int start = 0; start < n; start += batchSize)
        {
            int b = Math.Min(batchSize, n - start);
            for (int i = 0; i < b; i++)
            {
                data.Example(order[start + i]).CopyTo(x.AsSpan(i * len, len));
                y[i] = labels[order[start + i]];
            }
            _model.Parameters.ZeroGrad();
            _model.Forward(x.AsSpan(0, b * len), b);
            var emb = _model.Embedding(b);                                // (B, E)
            Linear.Forward<float>(logits.AsSpan(0, b * _k), emb, _headW, _headB, b, _e, _k);
            total += CrossEntropy.Forward<float>(logp.AsSpan(0, b * _k), logits.AsSpan(0, b * _k), y.AsSpan(0, b), b, _k) * b;
            Array.Clear(dLogits); Array.Clear(dEmb); Array.Clear(_dHeadW); Array.Clear(_dHeadB);
            CrossEntropy.Backward<float>(dLogits.AsSpan(0, b * _k), logp.AsSpan(0, b * _k), y.AsSpan(0, b), b, _k, 1f);
            Linear.Backward<float>(_encoderOpt is null ? default : dEmb.AsSpan(0, b * _e), _headOpt is null ? default : _dHeadW,
                _headOpt is null ? default : _dHeadB, dLogits.AsSpan(0, b * _k), emb, _headW, b, _e, _k);
            if (_encoderOpt is not null)
            {
                _model.BackwardFromEmbedding(dEmb.AsSpan(0, b * _e), b);
                if (_clip > 0) GradientClipping.ClipByGlobalNorm(_model.Parameters.Gradients, _clip);
                _encoderOpt.Step(_model.Parameters.Values, _model.Parameters.Gradients);
            }
            if (_headOpt is not null)
            {
                _headW.CopyTo(headParams, 0); _headB.CopyTo(headParams, _k * _e);
                _dHeadW.CopyTo(headGrads, 0); _dHeadB.CopyTo(headGrads, _k * _e);
                _headOpt.Step(headParams, headGrads);
                headParams.AsSpan(0, _k * _e).CopyTo(_headW); headParams.AsSpan(_k * _e).CopyTo(_headB);
            }
        }
        return total / n;
    }

    /// <summary>
    /// Hugging Face's ViT/BERT initialisation, seeded: linear, patch, class-token, embedding and position tensors
    /// ~ N(0, 0.02²) (normal, not truncated), biases 0, layer-norm weights 1 (<c>layernorm</c>, <c>LayerNorm</c>, <c>layer_norm</c>).
    /// </summary>
    public static void Initialize(ParameterArena parameters, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var rng = new SeededRandom(seed);
        for (int i = 0; i < parameters.Layout.Entries.Count; i++)
        {
            var e = parameters.Layout.Entries[i];
            var v = parameters.Value(i);
            bool norm = e.Name.Contains("layernorm", StringComparison.OrdinalIgnoreCase) || e.Name.Contains("layer_norm", StringComparison.Ordinal);
            if (e.Name.EndsWith(".bias", StringComparison.Ordinal)) v.Clear();
            else if (norm) v.Fill(1f);
            else rng.FillGaussian(v, 0.02f);
        }
    }

    /// <summary>
    /// Fits a linear head on fixed embeddings (a linear probe): full-batch AdamW on softmax cross-entropy for
    /// <paramref name="steps"/> steps from a zero head.
    /// </summary>
    /// <param name="embeddings">Embeddings (N, E).</param>
    /// <param name="labels">Labels (N).</param>
    /// <param name="classCount">K.</param>
    /// <param name="steps">Optimiser steps.</param>
    /// <param name="learningRate">Learning rate.</param>
    /// <param name="weightDecay">Decoupled weight decay.</param>
    /// <returns>Weight (K, E) and bias (K).</returns>
    public static (float[] Weight, float[] Bias) LinearProbe(float[] embeddings, int[] labels, int classCount, int steps = 300,
        double learningRate = 0.05, double weightDecay = 1e-3)
    {
        int n = labels.Length, e = embeddings.Length / n, k = classCount;
        var p = new float[k * e + k];                                     // (K·E + K) weight then bias
        var g = new float[k * e + k];
        var logits = new float[n * k]; var logp = new float[n * k]; var dLogits = new float[n * k]; // (N, K)
        var opt = Adam.AdamW(p.Length, learningRate, weightDecay);
        for (int s = 0; s < steps; s++)
        {
            var w = p.AsSpan(0, k * e); var b = p.AsSpan(k * e);
            Linear.Forward<float>(logits, embeddings, w, b, n, e, k);
            CrossEntropy.Forward<float>(logp, logits, labels, n, k);
            Array.Clear(dLogits); Array.Clear(g);
            CrossEntropy.Backward<float>(dLogits, logp, labels, n, k, 1f);
            Linear.Backward<float>(default, g.AsSpan(0, k * e), g.AsSpan(k * e), dLogits, embeddings, w, n, e, k);
            opt.Step(p, g);
        }
        return (p[..(k * e)], p[(k * e)..]);
    }
}
