namespace MLNetMerge.Nn.Architectures;

/// <summary>
/// A <see cref="TextEncoder"/> seen as an <see cref="IDenseEncoder"/>, so the evaluation, merging and training code written
/// for dense inputs runs on text: each example is a row of <see cref="InputSize"/> token ids stored as floats
/// (<c>id = (int)x</c>); the padding id (<c>pad_token_id</c>, 0 in BERT) gives attention mask false, every other id true;
/// token types are 0. <see cref="Embedding"/> is the encoder's pooled embedding (the tanh pooler when the model has one,
/// else the <c>[CLS]</c> hidden state), the vector a classification head reads.
/// </summary>
public sealed class TextDenseEncoder : IDenseEncoder
{
    private readonly TextEncoder _model;
    private int[] _ids = [];                                              // (B, T)
    private bool[] _mask = [];                                            // (B, T)

    /// <summary>Wraps <paramref name="model"/> for sequences of <paramref name="sequenceLength"/> tokens.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The length is not positive or exceeds the model's positions.</exception>
    public TextDenseEncoder(TextEncoder model, int sequenceLength)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        int limit = model.Config.MaxPositions - (model.Config.Flavor == TextFlavor.Roberta ? model.Config.PadTokenId + 1 : 0);
        if (sequenceLength <= 0 || sequenceLength > limit)
            throw new ArgumentOutOfRangeException(nameof(sequenceLength), $"sequence length {sequenceLength} must be in [1, {limit}] for this model.");
        InputSize = sequenceLength;
    }

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
    }

    /// <inheritdoc />
    public ReadOnlySpan<float> Embedding(int batch) => _model.Embedding[..(batch * EmbeddingSize)];

    /// <inheritdoc />
    public void BackwardFromEmbedding(ReadOnlySpan<float> dEmbedding, int batch) => _model.Backward(default, dEmbedding[..(batch * EmbeddingSize)]);
}
