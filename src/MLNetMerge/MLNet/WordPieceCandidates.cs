using System.Text;
using MLNetMerge.Text;

namespace MLNetMerge.MLNet;

/// <summary>
/// Step 1 of the savable WordPiece tokenization, which needs no vocabulary: BERT's basic tokenization of a text (the
/// project's <see cref="BertBasicTokenizer"/>), then, per word, every piece WordPiece could ever look up. The pieces
/// are mapped to ids by ML.NET's <c>MapValue</c> (whose saved model holds the vocabulary), and step 2
/// (<see cref="WordPieceSelection"/>) replays greedy longest-match-first on the ids.
/// <para>Candidates: first the four tokens step 2 needs the ids of (<c>[CLS] [SEP] [PAD] [UNK]</c>), then per unit:</para>
/// <list type="bullet">
/// <item>a word of n runes (code n ≥ 1): for start s = 0..n−1, end e = n down to s+1, the runes [s, e), with the
/// <c>##</c> prefix when s &gt; 0 — n(n+1)/2 pieces, in exactly the order greedy matching tries them;</item>
/// <item>a word of more than <see cref="MaxRunesPerWord"/> runes (code 0): no pieces, it becomes <c>[UNK]</c>;</item>
/// <item>a special token typed in the text, e.g. <c>[MASK]</c> (code −(m+1)): the token itself, then m word units
/// with the basic tokenization of its text, used when the vocabulary lacks it (the project's tokenizer splits on a
/// special token only when the vocabulary has it).</item>
/// </list>
/// At most <see cref="MaxUnits"/> words and typed special tokens are emitted: each gives at least one token and no
/// supported sequence length keeps more.
/// </summary>
internal static class WordPieceCandidates
{
    /// <summary>Tokens whose ids lead the candidates: <c>[CLS] [SEP] [PAD] [UNK]</c> (BERT's names).</summary>
    public static readonly string[] Specials = ["[CLS]", "[SEP]", "[PAD]", "[UNK]"];

    /// <summary>Special tokens recognised when typed in the text (those of <see cref="Specials"/> and <c>[MASK]</c>).</summary>
    public static readonly string[] Typed = ["[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"];

    /// <summary>Continuation prefix of WordPiece pieces.</summary>
    public const string Prefix = "##";

    /// <summary>Words longer than this many runes are <c>[UNK]</c> (BERT's <c>max_input_chars_per_word</c>).</summary>
    public const int MaxRunesPerWord = 100;

    /// <summary>Most units emitted per text (the longest supported sequence).</summary>
    public const int MaxUnits = 512;

    private static readonly SpecialTokenSplitter Splitter = new(Typed.Select((t, i) => (t, i)));

    /// <summary>Appends the candidates and the unit codes of <paramref name="text"/>.</summary>
    public static void Build(string text, BertBasicTokenizer basic, List<string> candidates, List<int> structure)
    {
        candidates.AddRange(Specials);
        var words = new List<string>();
        var boundaries = new List<int>();
        int units = 0; // top-level units (words, typed special tokens): each gives at least one token
        Splitter.Split(text ?? "", segment =>
        {
            words.Clear();
            basic.Split(segment, words);
            foreach (string word in words)
            {
                if (units++ >= MaxUnits) return;
                AddWord(word, candidates, structure, boundaries);
            }
        }, (_, token) =>
        {
            if (units++ >= MaxUnits) return;
            int at = structure.Count;
            structure.Add(0);
            candidates.Add(token);
            words.Clear();
            basic.Split(token, words);
            foreach (string word in words) AddWord(word, candidates, structure, boundaries);
            structure[at] = -(structure.Count - at - 1) - 1;
        });
    }

    private static void AddWord(string word, List<string> candidates, List<int> structure, List<int> boundaries)
    {
        boundaries.Clear();
        for (int i = 0; i < word.Length; i += char.IsSurrogatePair(word, i) ? 2 : 1) boundaries.Add(i); // rune starts
        boundaries.Add(word.Length);
        int n = boundaries.Count - 1;
        if (n > MaxRunesPerWord)
        {
            structure.Add(0);
            return;
        }
        structure.Add(n);
        var sb = new StringBuilder(word.Length + Prefix.Length);
        for (int s = 0; s < n; s++)
            for (int e = n; e > s; e--)
            {
                sb.Clear();
                if (s > 0) sb.Append(Prefix);
                sb.Append(word, boundaries[s], boundaries[e] - boundaries[s]);
                candidates.Add(sb.ToString());
            }
    }
}
