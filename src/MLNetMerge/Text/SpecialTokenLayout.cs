namespace MLNetMerge.Text;

/// <summary>
/// Where a model family puts its special tokens around one text or a pair:
/// single <c>Prefix A AfterFirst</c>, pair <c>Prefix A AfterFirst BeforeSecond B AfterSecond</c>.
/// BERT: <c>[CLS] A [SEP]</c> / <c>[CLS] A [SEP] B [SEP]</c> with type id 1 on <c>B [SEP]</c>;
/// RoBERTa: <c>&lt;s&gt; A &lt;/s&gt;</c> / <c>&lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;</c> with type id 0 throughout.
/// </summary>
internal sealed record SpecialTokenLayout(int[] Prefix, int[] AfterFirst, int[] BeforeSecond, int[] AfterSecond, int SecondTypeId)
{
    /// <summary>No special tokens at all.</summary>
    public static SpecialTokenLayout None { get; } = new([], [], [], [], 0);

    /// <summary>Special tokens added around a single text.</summary>
    public int SingleCount => Prefix.Length + AfterFirst.Length;

    /// <summary>Special tokens added around a pair.</summary>
    public int PairCount => SingleCount + BeforeSecond.Length + AfterSecond.Length;
}
