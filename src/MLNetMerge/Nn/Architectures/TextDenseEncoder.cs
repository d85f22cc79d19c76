using MLNetMerge.Nn.Inference;
using MLNetMerge.Nn.Layers;

namespace MLNetMerge.Nn.Architectures;

/// <summary>
/// A <see cref="TextEncoder"/> seen as an <see cref="IDenseEncoder"/>, so the evaluation, merging and training code written
/// for dense inputs runs on text: each example is a row of <see cref="InputSize"/> token ids stored as floats
/// (<c>id = (int)x</c>); the padding id (<c>pad_token_id</c>, 0 in BERT) gives attention mask false, every other id true;
/// token types are 0. <see cref="Embedding"/> is the vector a classification head reads, pooled as <see cref="Pooling"/>
/// says: the encoder's own pooled output (the tanh pooler when the model has one, else the <c>[CLS]</c> hidden state),
/// the <c>[CLS]</c> hidden state, or the mean of the last hidden states over real tokens,
/// <c>e_b = (1/Σ_t m_bt) Σ_t m_bt·h_bt</c>, as sentence-transformers pools.
/// </summary>
internal sealed class TextDenseEncoder : IDenseEncoder
{
    private readonly TextEncoder _model;
    private int[] _ids = [];                                              // (B, T)
    private bool[] _mask = [];                                            // (B, T)
    private float[] _pooled = [];                                         // (B, C) for Cls and Mean
    private float[] _dHidden = [];                                        // (B, T, C) for Cls and Mean
    private int _batch;

    /// <summary>Wraps <paramref name="model"/> for sequences of <paramref name="sequenceLength"/> tokens.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The length is not positive or exceeds the model's positions.</exception>
    /// <param name="model">The encoder.</param>
    /// <param name="sequenceLength">Tokens per example T.</param>
    /// <param name="pooling">How the hidden states become the embedding.</param>
    public TextDenseEncoder(TextEncoder model, int sequenceLength, TextPooling pooling = TextPooling.Pooler)
    {
        Pooling = pooling;
        _model = model ?? throw new ArgumentNullException(nameof(model));
        int limit = model.Config.MaxPositions - (model.Config.Flavor == TextFlavor.Roberta ? model.Config.PadTokenId + 1 : 0);
        if (sequenceLength <= 0 || sequenceLength > limit)
            throw new ArgumentOutOfRangeException(nameof(sequenceLength), $"sequence length {sequenceLength} must be in [1, {limit}] for this model.");
        InputSize = sequenceLength;
    }

    /// <summary>How the hidden states become <see cref="Embedding"/>.</summary>
    public TextPooling Pooling { get; }

    /// <summary>The wrapped encoder.</summary>
    public TextEncoder Model => _model;

    /// <inheritdoc />
    public string ArchitectureName => _model.ArchitectureName;

    /// <inheritdoc />
    public ParameterArena Parameters => _model.Parameters;

    /// <summary>Tokens per example T.</summary>
    public int InputSize { get; }

    /// <inheritdoc />
    public int EmbeddingSize => _model.EmbeddingSize;

    /// <summary>Runs a batch of token-id rows (B, T) stored as floats.</summary>
    /// <exception cref="ArgumentException">A value is not an integer id inside the vocabulary.</exception>
    public void Forward(ReadOnlySpan<float> input, int batch)
    {
        int t = InputSize, n = batch * t, vocab = _model.Config.VocabSize, pad = _model.Config.PadTokenId;
        if (input.Length < n) throw new ArgumentException($"expected {batch}×{t} token ids, got {input.Length} values.", nameof(input));
        if (_ids.Length < n) { _ids = new int[n]; _mask = new bool[n]; }
        for (int i = 0; i < n; i++)
        {
            float x = input[i];
            int id = (int)x;
            if (id != x || (uint)id >= (uint)vocab)
                throw new ArgumentException($"value {x} at example {i / t}, position {i % t} is not a token id in [0, {vocab}).", nameof(input));
            _ids[i] = id;
            _mask[i] = id != pad;
        }
        _model.Forward(_ids.AsSpan(0, n), _mask.AsSpan(0, n), default, batch, t);
        _batch = batch;
        if (Pooling == TextPooling.Pooler) return;
        int c = EmbeddingSize;
        if (_pooled.Length < batch * c) { _pooled = new float[batch * c]; _dHidden = new float[batch * t * c]; }
        var pooled = _pooled.AsSpan(0, batch * c);                        // (B, C)
        if (Pooling == TextPooling.Cls) Layers.Pooling.ClsForward<float>(pooled, _model.Hidden, batch, t, c);
        else Layers.Pooling.MeanForward<float>(pooled, _model.Hidden, _mask.AsSpan(0, n), batch, t, c);
    }

    /// <inheritdoc />
    public ReadOnlySpan<float> Embedding(int batch) =>
        Pooling == TextPooling.Pooler ? _model.Embedding[..(batch * EmbeddingSize)] : _pooled.AsSpan(0, batch * EmbeddingSize);

    /// <summary>Backward of the latest <see cref="Forward"/> from ∂L/∂embedding (B, E); adds into the parameter gradients.</summary>
    /// <exception cref="ArgumentException"><paramref name="batch"/> is not the latest forward's batch.</exception>
    public void BackwardFromEmbedding(ReadOnlySpan<float> dEmbedding, int batch)
    {
        if (batch != _batch) throw new ArgumentException($"backward of {batch} examples after a forward of {_batch}.", nameof(batch));
        int c = EmbeddingSize, t = InputSize;
        if (Pooling == TextPooling.Pooler) { _model.Backward(default, dEmbedding[..(batch * c)]); return; }
        var dHidden = _dHidden.AsSpan(0, batch * t * c);                  // (B, T, C)
        dHidden.Clear();
        if (Pooling == TextPooling.Cls) Layers.Pooling.ClsBackward<float>(dHidden, dEmbedding[..(batch * c)], batch, t, c);
        else Layers.Pooling.MeanBackward<float>(dHidden, dEmbedding[..(batch * c)], _mask.AsSpan(0, batch * t), batch, t, c);
        _model.Backward(dHidden, default);
    }
}
