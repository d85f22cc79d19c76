namespace MLNetMerge.Text;

/// <summary>
/// One encoded sequence (or sequence pair) as a model consumes it: token ids with the special tokens in place,
/// the tokens' strings, segment (token type) ids, and the attention mask (1 for real tokens, 0 for padding).
/// All four arrays have the same length.
/// </summary>
/// <param name="Ids">Token ids, e.g. <c>[CLS] hello [SEP] [PAD]</c> → <c>101 7592 102 0</c>.</param>
/// <param name="Tokens">The vocabulary string of each id.</param>
/// <param name="TypeIds">Segment of each token: 0 for the first text (and its special tokens), 1 for the second in BERT; 0 throughout in RoBERTa.</param>
/// <param name="AttentionMask">1 for tokens the model attends to, 0 for padding.</param>
internal sealed record TokenEncoding(int[] Ids, string[] Tokens, int[] TypeIds, int[] AttentionMask)
{
    /// <summary>Number of positions, padding included.</summary>
    public int Length => Ids.Length;
}
