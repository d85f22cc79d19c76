using System.Text;

namespace MLNetMerge.Text;

/// <summary>
/// BERT's tokenizer: basic tokenization (cleaning, optional lower-casing and accent stripping, CJK and punctuation
/// splitting; see <see cref="Options"/>), then greedy longest-match-first WordPiece over a <c>vocab.txt</c>
/// (one token per line, id = line index; continuation pieces carry the <c>##</c> prefix).
/// <c>"unaffable"</c> with a vocabulary holding <c>un</c>, <c>##aff</c>, <c>##able</c> → <c>un ##aff ##able</c>;
/// a word with no complete segmentation, or longer than <see cref="Options.MaxInputCharactersPerWord"/>, → <c>[UNK]</c>.
/// Encodings take the form <c>[CLS] A [SEP]</c> or <c>[CLS] A [SEP] B [SEP]</c> with type id 1 on <c>B [SEP]</c>.
/// </summary>
/// <example>
/// <code>
/// var tokenizer = WordPieceTokenizer.Load("vocab.txt", new WordPieceTokenizer.Options { PaddingLength = 128 });
/// TokenBatch batch = tokenizer.EncodeBatch(["a first text", "and a second"]);   // (2, 128) int64 arrays
/// </code>
/// </example>
internal sealed class WordPieceTokenizer : TextTokenizer
{
    /// <summary>Settings of a <see cref="WordPieceTokenizer"/>; the defaults are those of <c>bert-base-uncased</c>.</summary>
    public sealed class Options
    {
        /// <summary>Lower-case words before WordPiece. Default true (uncased vocabularies); set false for cased ones.</summary>
        public bool LowerCase { get; set; } = true;

        /// <summary>Strip accents (NFD, then drop nonspacing marks): <c>"Héllo"</c> → <c>"hello"</c>. Default null: follow <see cref="LowerCase"/>, as BERT does.</summary>
        public bool? StripAccents { get; set; }

        /// <summary>Make every CJK ideograph its own word. Default true.</summary>
        public bool TokenizeChineseCharacters { get; set; } = true;

        /// <summary>Token for words with no segmentation. Default <c>[UNK]</c>; must be in the vocabulary.</summary>
        public string UnknownToken { get; set; } = "[UNK]";

        /// <summary>Token opening every encoding. Default <c>[CLS]</c>.</summary>
        public string ClassificationToken { get; set; } = "[CLS]";

        /// <summary>Token closing each text of an encoding. Default <c>[SEP]</c>.</summary>
        public string SeparatorToken { get; set; } = "[SEP]";

        /// <summary>Token filling padded positions. Default <c>[PAD]</c>.</summary>
        public string PaddingToken { get; set; } = "[PAD]";

        /// <summary>Masked-language-model token, recognised when typed in the text. Default <c>[MASK]</c>.</summary>
        public string MaskToken { get; set; } = "[MASK]";

        /// <summary>Prefix of pieces that continue a word. Default <c>##</c>.</summary>
        public string ContinuingSubwordPrefix { get; set; } = "##";

        /// <summary>Words longer than this many characters become <c>[UNK]</c> without a search. Default 100.</summary>
        public int MaxInputCharactersPerWord { get; set; } = 100;

        /// <summary>Add <c>[CLS]</c> and <c>[SEP]</c> in <c>Encode</c>. Default true.</summary>
        public bool AddSpecialTokens { get; set; } = true;

        /// <summary>Map special tokens typed in the text (e.g. <c>[MASK]</c>) to their ids instead of splitting them. Default true.</summary>
        public bool SplitOnSpecialTokens { get; set; } = true;

        /// <summary>Longest encoding, special tokens included; longer input is truncated (longest text first for pairs). Default 512; null: no limit.</summary>
        public int? MaxLength { get; set; } = 512;

        /// <summary>Pad every encoding and batch to this length with <see cref="PaddingToken"/> (attention mask 0). Default null: batches pad to their longest row.</summary>
        public int? PaddingLength { get; set; }

        /// <summary>In <c>Decode</c>, remove the space BERT's splitting put before <c>. , ! ?</c> and around <c>'</c> contractions. Default true.</summary>
        public bool CleanUpTokenizationSpaces { get; set; } = true;
    }

    private readonly Dictionary<string, int> _vocabulary;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly string[] _tokens;
    private readonly BertBasicTokenizer _basic;
    private readonly SpecialTokenSplitter? _specialSplitter;
    private readonly int _unknownId;
    private readonly string _prefix;
    private readonly int _maxWordChars;
    private readonly bool _cleanUp;

    private WordPieceTokenizer(IReadOnlyList<string> lines, Options options, string source)
        : this(BuildVocabulary(lines), options, source) { }

    private WordPieceTokenizer((Dictionary<string, int> Vocab, string[] Tokens) v, Options o, string source)
        : base(Layout(v.Vocab, o, source), SpecialIds(v.Vocab, o), v.Vocab.TryGetValue(o.PaddingToken, out int pad) ? pad : null, o.MaxLength, o.PaddingLength)
    {
        _vocabulary = v.Vocab;
        _lookup = _vocabulary.GetAlternateLookup<ReadOnlySpan<char>>();
        _tokens = v.Tokens;
        if (!_vocabulary.TryGetValue(o.UnknownToken, out _unknownId))
            throw new CheckpointFormatException(source, null, $"the vocabulary has no unknown token '{o.UnknownToken}'; set Options.UnknownToken to the one it uses.");
        _basic = new BertBasicTokenizer(o.LowerCase, o.StripAccents ?? o.LowerCase, o.TokenizeChineseCharacters);
        if (o.SplitOnSpecialTokens) _specialSplitter = new SpecialTokenSplitter(SpecialPairs(_vocabulary, o));
        _prefix = o.ContinuingSubwordPrefix;
        _maxWordChars = o.MaxInputCharactersPerWord;
        _cleanUp = o.CleanUpTokenizationSpaces;
    }

    /// <summary>Loads a <c>vocab.txt</c> (UTF-8, one token per line, id = line index).</summary>
    /// <exception cref="CheckpointFormatException">The vocabulary lacks the unknown token, or (with <see cref="Options.AddSpecialTokens"/>) <c>[CLS]</c> or <c>[SEP]</c>.</exception>
    public static WordPieceTokenizer Load(string vocabPath, Options? options = null)
    {
        ArgumentNullException.ThrowIfNull(vocabPath);
        using var stream = File.OpenRead(vocabPath);
        return new WordPieceTokenizer(ReadLines(stream), options ?? new Options(), vocabPath);
    }

    /// <summary>Loads a <c>vocab.txt</c> from a stream.</summary>
    /// <exception cref="CheckpointFormatException">The vocabulary lacks a required special token.</exception>
    public static WordPieceTokenizer Load(Stream vocabStream, Options? options = null)
    {
        ArgumentNullException.ThrowIfNull(vocabStream);
        return new WordPieceTokenizer(ReadLines(vocabStream), options ?? new Options(), "vocab stream");
    }

    /// <summary>Creates a tokenizer over an in-memory vocabulary; the id of each token is its index.</summary>
    /// <exception cref="CheckpointFormatException">The vocabulary lacks a required special token.</exception>
    public static WordPieceTokenizer Create(IEnumerable<string> vocabulary, Options? options = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        return new WordPieceTokenizer([.. vocabulary], options ?? new Options(), "in-memory vocabulary");
    }

    /// <inheritdoc/>
    public override int VocabularySize => _tokens.Length;

    /// <summary>The tokens in id order.</summary>
    public IReadOnlyList<string> Vocabulary => _tokens;

    /// <inheritdoc/>
    public override bool TryGetId(string token, out int id) => _vocabulary.TryGetValue(token, out id);

    /// <inheritdoc/>
    public override string? IdToToken(int id) => (uint)id < (uint)_tokens.Length ? _tokens[id] : null;

    private protected override void AppendIds(string text, List<int> ids)
    {
        if (_specialSplitter is null)
        {
            AppendTextIds(text, ids);
            return;
        }
        _specialSplitter.Split(text, segment => AppendTextIds(segment, ids), (id, _) => ids.Add(id));
    }

    private void AppendTextIds(string text, List<int> ids)
    {
        var words = new List<string>();
        _basic.Split(text, words);
        foreach (string word in words) AppendWordPieces(word, ids);
    }

    /// <summary>
    /// Greedy longest-match-first: from the start of the word, take the longest prefix in the vocabulary, then the
    /// longest <c>##</c>-prefixed continuation, and so on; if some position has no match, the whole word is <c>[UNK]</c>.
    /// </summary>
    private void AppendWordPieces(string word, List<int> ids)
    {
        if (word.Length > _maxWordChars && CountRunes(word) > _maxWordChars)
        {
            ids.Add(_unknownId);
            return;
        }
        int mark = ids.Count;
        Span<char> keyBuffer = word.Length + _prefix.Length <= 256 ? stackalloc char[word.Length + _prefix.Length] : new char[word.Length + _prefix.Length];
        _prefix.CopyTo(keyBuffer);
        int start = 0;
        while (start < word.Length)
        {
            int end = word.Length, found = -1;
            while (start < end)
            {
                ReadOnlySpan<char> piece = word.AsSpan(start, end - start);
                scoped ReadOnlySpan<char> key;
                if (start > 0)
                {
                    piece.CopyTo(keyBuffer[_prefix.Length..]);
                    key = keyBuffer[..(_prefix.Length + piece.Length)];
                }
                else key = piece;
                if (_lookup.TryGetValue(key, out found)) break;
                found = -1;
                end -= char.IsLowSurrogate(word[end - 1]) && end - 2 >= start ? 2 : 1; // never split a surrogate pair
            }
            if (found < 0)
            {
                ids.RemoveRange(mark, ids.Count - mark);
                ids.Add(_unknownId);
                return;
            }
            ids.Add(found);
            start = end;
        }
    }

    /// <summary>Joins tokens with spaces, glues <c>##</c> pieces to their predecessor, then optionally cleans up spaces.</summary>
    private protected override string DecodeCore(IReadOnlyList<int> ids)
    {
        var sb = new StringBuilder();
        foreach (int id in ids)
        {
            string token = IdToToken(id) ?? "";
            if (sb.Length > 0 && token.StartsWith(_prefix, StringComparison.Ordinal) && token.Length > _prefix.Length)
            {
                sb.Append(token, _prefix.Length, token.Length - _prefix.Length);
                continue;
            }
            if (sb.Length > 0) sb.Append(' ');
            sb.Append(token);
        }
        string text = sb.ToString().Trim();
        return _cleanUp ? CleanUpSpaces(text) : text;
    }

    /// <summary>Hugging Face's <c>clean_up_tokenization</c>: <c>" ." → "."</c>, <c>" ?"</c>, <c>" !"</c>, <c>" ,"</c>, <c>" ' " → "'"</c>, <c>" n't"</c>, <c>" 'm"</c>, <c>" 's"</c>, <c>" 've"</c>, <c>" 're"</c>.</summary>
    internal static string CleanUpSpaces(string text) => text
        .Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",")
        .Replace(" ' ", "'").Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" 's", "'s")
        .Replace(" 've", "'ve").Replace(" 're", "'re");

    private static int CountRunes(string s)
    {
        int n = 0;
        foreach (var _ in s.EnumerateRunes()) n++;
        return n;
    }

    private static List<string> ReadLines(Stream stream)
    {
        var lines = new List<string>();
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        while (reader.ReadLine() is { } line) lines.Add(line); // ReadLine drops "\n" and "\r\n"
        return lines;
    }

    private static (Dictionary<string, int>, string[]) BuildVocabulary(IReadOnlyList<string> lines)
    {
        var vocab = new Dictionary<string, int>(lines.Count, StringComparer.Ordinal);
        var tokens = new string[lines.Count];
        for (int i = 0; i < lines.Count; i++)
        {
            tokens[i] = lines[i];
            vocab[lines[i]] = i; // a repeated line maps to its last id, as BERT's load_vocab does
        }
        return (vocab, tokens);
    }

    private static SpecialTokenLayout Layout(Dictionary<string, int> vocab, Options o, string source)
    {
        if (!o.AddSpecialTokens) return SpecialTokenLayout.None;
        int cls = Require(vocab, o.ClassificationToken, nameof(Options.ClassificationToken), source);
        int sep = Require(vocab, o.SeparatorToken, nameof(Options.SeparatorToken), source);
        return new SpecialTokenLayout([cls], [sep], [], [sep], SecondTypeId: 1);
    }

    private static int Require(Dictionary<string, int> vocab, string token, string option, string source) =>
        vocab.TryGetValue(token, out int id) ? id
            : throw new CheckpointFormatException(source, null, $"the vocabulary has no '{token}'; set Options.{option} to the token it uses, or AddSpecialTokens = false.");

    private static IEnumerable<(string Text, int Id)> SpecialPairs(Dictionary<string, int> vocab, Options o)
    {
        foreach (string token in new[] { o.ClassificationToken, o.SeparatorToken, o.PaddingToken, o.UnknownToken, o.MaskToken })
            if (vocab.TryGetValue(token, out int id)) yield return (token, id);
    }

    private static IEnumerable<int> SpecialIds(Dictionary<string, int> vocab, Options o) => SpecialPairs(vocab, o).Select(p => p.Id);
}
