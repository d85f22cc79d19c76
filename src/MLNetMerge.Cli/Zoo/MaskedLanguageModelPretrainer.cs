using MLNetMerge.Tensors;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Nn.Optim;

namespace MLNetMerge.Cli.Zoo;

/// <summary>
/// Masked-language-model pretraining of a <see cref="TextEncoder"/> from scratch (BERT's recipe without next-sentence
/// prediction): per sequence, a seeded <see cref="MaskRatio"/> of the real, non-special tokens (at least one) is chosen;
/// of those, 80 % become <c>[MASK]</c>, 10 % a random ordinary token, 10 % stay; <see cref="MaskedLmHead"/> predicts
/// the original ids at the chosen positions from the last hidden state, and the loss is their mean cross-entropy.
/// The head's decoder is tied to the word embeddings; the head is discarded afterwards. Mini-batch AdamW with global
/// gradient-norm clipping.
/// </summary>
internal sealed class MaskedLanguageModelPretrainer
{
    private readonly TextEncoder _model;
    private readonly float[] _head, _dHead;                               // (C² + 3C + V)
    private readonly Adam _encoderOpt, _headOpt;
    private readonly int _c, _v, _wordIndex, _maskId, _firstOrdinary;
    private readonly ActivationKind _act;

    /// <summary>Sets up pretraining.</summary>
    /// <param name="model">The encoder, trained in place.</param>
    /// <param name="learningRate">AdamW learning rate.</param>
    /// <param name="weightDecay">AdamW decoupled weight decay.</param>
    /// <param name="seed">Seed of the head's initialisation.</param>
    /// <param name="maskId">Id of <c>[MASK]</c>.</param>
    /// <param name="firstOrdinaryId">Ids below this are special tokens (never chosen, never drawn as replacements).</param>
    public MaskedLanguageModelPretrainer(TextEncoder model, double learningRate, double weightDecay, ulong seed, int maskId, int firstOrdinaryId)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _c = model.Config.HiddenSize; _v = model.Config.VocabSize; _act = model.Config.Activation;
        _wordIndex = model.Parameters.Layout.IndexOf("embeddings.word_embeddings.weight");
        _maskId = maskId; _firstOrdinary = firstOrdinaryId;
        _head = new float[MaskedLmHead.ParameterCount(_c, _v)];
        _dHead = new float[_head.Length];
        MaskedLmHead.Initialize(_head, _c, new SeededRandom(seed));
        _encoderOpt = Adam.AdamW(model.Parameters.Values.Length, learningRate, weightDecay);
        _headOpt = Adam.AdamW(_head.Length, learningRate, weightDecay);
    }

    /// <summary>Share of the real, non-special tokens chosen per sequence (BERT: 0.15).</summary>
    public double MaskRatio { get; init; } = 0.15;

    /// <summary>One epoch over <paramref name="sequences"/> (N, T) token ids (0 = padding) in shuffled batches with fresh
    /// masks; returns the mean masked-token cross-entropy, and reports every <paramref name="reportEvery"/> batches the
    /// mean since the last report.</summary>
    /// <param name="sequences">Token ids (N, T).</param>
    /// <param name="tokens">T.</param>
    /// <param name="batchSize">Sequences per step.</param>
    /// <param name="streamKey">Key of the stream of this epoch's order and masks (RandomStreams.Key).</param>
    /// <param name="report">Receives (batches done, mean loss since the last report), or null.</param>
    /// <param name="reportEvery">Batches between reports.</param>
    public double TrainEpoch(int[] sequences, int tokens, int batchSize, ulong streamKey, Action<int, double>? report = null, int reportEvery = 50)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        int n = sequences.Length / tokens, t = tokens, c = _c, v = _v;
        var rng = new SeededRandom(streamKey);
        var order = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(order.AsSpan());
        int maxRows = batchSize * t;
        var ids = new int[batchSize * t];                                // (B, T) corrupted input
        var mask = new bool[batchSize * t];                              // (B, T) attention mask
        var positions = new List<int>(maxRows);                          // (M) flat positions b·T + t
        var targets = new int[maxRows];                                  // (M)
        var gathered = new float[maxRows * c];                           // (M, C)
        var dGathered = new float[maxRows * c];                          // (M, C)
        var dHidden = new float[batchSize * t * c];                      // (B, T, C)
        var logp = new float[maxRows * v]; var logits = new float[maxRows * v]; // (M, V)
        var u = new float[maxRows * c]; var a = new float[maxRows * c]; var z = new float[maxRows * c]; // (M, C)
        var mean = new float[maxRows]; var rstd = new float[maxRows];    // (M)
        var scratch = new float[MaskedLmHead.ScratchLength(maxRows, c, v)];
        var candidates = new List<int>(t);
        double total = 0, sinceReport = 0;
        int batches = 0, reportBatches = 0;
        for (int start = 0; start < n; start += batchSize)
        {
            int b = Math.Min(batchSize, n - start);
            positions.Clear();
            for (int i = 0; i < b; i++)
            {
                var row = sequences.AsSpan(order[start + i] * t, t);
                candidates.Clear();
                for (int j = 0; j < t; j++)
                {
                    ids[i * t + j] = row[j];
                    mask[i * t + j] = row[j] != 0;
                    if (row[j] >= _firstOrdinary) candidates.Add(j);
                }
                if (candidates.Count == 0) continue;
                int chosen = Math.Max(1, (int)Math.Round(candidates.Count * MaskRatio));
                for (int k = 0; k < chosen; k++)                          // partial Fisher–Yates: the first `chosen` candidates
                {
                    int r = k + rng.NextInt(candidates.Count - k);
                    (candidates[k], candidates[r]) = (candidates[r], candidates[k]);
                    int pos = i * t + candidates[k];
                    targets[positions.Count] = row[candidates[k]];
                    positions.Add(pos);
                    double roll = rng.NextDouble();
                    if (roll < 0.8) ids[pos] = _maskId;
                    else if (roll < 0.9) ids[pos] = _firstOrdinary + rng.NextInt(v - _firstOrdinary);
                }
            }
            int m = positions.Count;
            if (m == 0) continue;
            var p = _model.Parameters;
            p.ZeroGrad();
            Array.Clear(_dHead);
            _model.Forward(ids.AsSpan(0, b * t), mask.AsSpan(0, b * t), default, b, t);
            var hidden = _model.Hidden;                                   // (B, T, C)
            for (int r = 0; r < m; r++) hidden.Slice(positions[r] * c, c).CopyTo(gathered.AsSpan(r * c, c));
            float loss = MaskedLmHead.Forward<float>(logp, logits, u, a, z, mean, rstd, gathered, targets, _head, p.Value(_wordIndex), m, c, v, _act, _model.Config.LayerNormEps);
            Array.Clear(dGathered, 0, m * c);
            MaskedLmHead.Backward<float>(dGathered, _dHead, p.Gradient(_wordIndex), scratch, logp, u, a, z, mean, rstd, gathered, targets, _head,
                p.Value(_wordIndex), m, c, v, _act, 1f);
            Array.Clear(dHidden, 0, b * t * c);
            for (int r = 0; r < m; r++) dGathered.AsSpan(r * c, c).CopyTo(dHidden.AsSpan(positions[r] * c, c));
            _model.Backward(dHidden.AsSpan(0, b * t * c), default);
            GradientClipping.ClipByGlobalNorm(p.Gradients, 1f);
            GradientClipping.ClipByGlobalNorm(_dHead, 1f);
            _encoderOpt.Step(p.Values, p.Gradients);
            _headOpt.Step(_head, _dHead);
            total += loss; sinceReport += loss;
            batches++; reportBatches++;
            if (report is not null && reportBatches == reportEvery)
            {
                report(batches, sinceReport / reportBatches);
                sinceReport = 0; reportBatches = 0;
            }
        }
        if (report is not null && reportBatches > 0) report(batches, sinceReport / reportBatches);
        return total / Math.Max(1, batches);
    }
}
