namespace MLNetMerge.Text;

/// <summary>
/// A batch of encoded texts padded to one length, as row-major int64 arrays of shape (BatchSize, SequenceLength) —
/// the layout of the <c>input_ids</c>, <c>attention_mask</c> and <c>token_type_ids</c> inputs of BERT and RoBERTa
/// models, ready for <see cref="Data.NpyFile.Write(string, ReadOnlySpan{long}, int[])"/>.
/// </summary>
internal sealed class TokenBatch
{
    internal TokenBatch(int batchSize, int sequenceLength, long[] inputIds, long[] attentionMask, long[] tokenTypeIds)
    {
        BatchSize = batchSize;
        SequenceLength = sequenceLength;
        InputIds = inputIds;
        AttentionMask = attentionMask;
        TokenTypeIds = tokenTypeIds;
    }

    /// <summary>Number of texts (or pairs).</summary>
    public int BatchSize { get; }

    /// <summary>Positions per row: the configured padding length, or the longest encoding if that is longer or none is configured.</summary>
    public int SequenceLength { get; }

    /// <summary>Token ids, padding ids after each text's end. // (B, T)</summary>
    public long[] InputIds { get; }

    /// <summary>1 for real tokens, 0 for padding. // (B, T)</summary>
    public long[] AttentionMask { get; }

    /// <summary>Segment ids (0 or 1), 0 on padding. // (B, T)</summary>
    public long[] TokenTypeIds { get; }

    /// <summary>The shape of each array: <c>[BatchSize, SequenceLength]</c>.</summary>
    public int[] Shape => [BatchSize, SequenceLength];
}
