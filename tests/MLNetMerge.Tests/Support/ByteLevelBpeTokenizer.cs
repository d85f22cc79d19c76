using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace MLNetMerge.Text;

/// <summary>
/// GPT-2 / RoBERTa byte-level BPE over a <c>vocab.json</c> (token → id) and a <c>merges.txt</c> (one merge
/// <c>left right</c> per line, rank = line order; an initial <c>#version</c> line is skipped). Text is cut by GPT-2's
/// pre-tokenization pattern; each piece's UTF-8 bytes become characters of <see cref="ByteLevelAlphabet"/> (space →
/// <c>Ġ</c>); then, repeatedly, the adjacent pair with the lowest merge rank is merged everywhere in the piece until no
/// ranked pair is left. Any byte sequence is representable (an emoji becomes its byte characters where no merge joins
/// them), so there are no unknown words. Encodings take RoBERTa's form <c>&lt;s&gt; A &lt;/s&gt;</c> or
/// <c>&lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;</c>, type ids 0.
/// </summary>
/// <example>
/// <code>
/// var tokenizer = ByteLevelBpeTokenizer.Load("vocab.json", "merges.txt");
/// TokenEncoding e = tokenizer.Encode("Hello world");   // &lt;s&gt; Hello Ġworld &lt;/s&gt;
/// </code>
/// </example>
internal sealed class ByteLevelBpeTokenizer : TextTokenizer
{
    /// <summary>Settings of a <see cref="ByteLevelBpeTokenizer"/>; the defaults are those of <c>roberta-base</c>.</summary>
    public sealed class Options
    {
        /// <summary>Prepend a space to text that does not start with one, so a first word is tokenized like any other (<c>Ġhello</c>). Default false.</summary>
        public bool AddPrefixSpace { get; set; }

        /// <summary>Token opening every encoding. Default <c>&lt;s&gt;</c>.</summary>
        public string BeginningOfSequenceToken { get; set; } = "<s>";

        /// <summary>Token closing each text (and, doubled, separating a pair). Default <c>&lt;/s&gt;</c>.</summary>
        public string EndOfSequenceToken { get; set; } = "</s>";

        /// <summary>Token filling padded positions. Default <c>&lt;pad&gt;</c>; padding is an error if the vocabulary lacks it.</summary>
        public string PaddingToken { get; set; } = "<pad>";

        /// <summary>Token for symbols missing from the vocabulary. Default <c>&lt;unk&gt;</c>; optional.</summary>
        public string UnknownToken { get; set; } = "<unk>";

        /// <summary>Masked-language-model token; when typed in the text it absorbs the whitespace before it, as RoBERTa's does. Default <c>&lt;mask&gt;</c>.</summary>
        public string MaskToken { get; set; } = "<mask>";

        /// <summary>Add the sequence tokens in <c>Encode</c>. Default true; set false for GPT-2, which uses none.</summary>
        public bool AddSpecialTokens { get; set; } = true;

        /// <summary>Map special tokens typed in the text to their ids instead of splitting them. Default true.</summary>
        public bool SplitOnSpecialTokens { get; set; } = true;

        /// <summary>Longest encoding, special tokens included; longer input is truncated (longest text first for pairs). Default 512; null: no limit.</summary>
        public int? MaxLength { get; set; } = 512;

        /// <summary>Pad every encoding and batch to this length (attention mask 0). Default null: batches pad to their longest row.</summary>
        public int? PaddingLength { get; set; }

        /// <summary>Pre-tokenized pieces whose BPE result is kept for reuse. Default 10 000.</summary>
        public int CacheCapacity { get; set; } = 10_000;
    }

    private readonly Dictionary<string, int> _vocabulary;
    private readonly Dictionary<(string Left, string Right), int> _mergeRanks;
    private readonly string?[] _tokens;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly SpecialTokenSplitter? _specialSplitter;
    private readonly string _maskToken;
    private readonly int? _unknownId;
    private readonly bool _addPrefixSpace;
    private readonly int _cacheCapacity;
    private readonly string _source;

    private ByteLevelBpeTokenizer(Dictionary<string, int> vocab, Dictionary<(string, string), int> ranks, Options o, string source)
        : base(Layout(vocab, o, source), SpecialPairs(vocab, o).Select(p => p.Id), vocab.TryGetValue(o.PaddingToken, out int pad) ? pad : null, o.MaxLength, o.PaddingLength)
    {
        _vocabulary = vocab;
        _mergeRanks = ranks;
        int size = vocab.Count == 0 ? 0 : vocab.Values.Max() + 1;
        _tokens = new string?[size];
        foreach (var (token, id) in vocab)
        {
            if (id < 0) throw new CheckpointFormatException(source, null, $"token '{token}' has negative id {id}.");
            _tokens[id] = token;
        }
        _unknownId = vocab.TryGetValue(o.UnknownToken, out int unk) ? unk : null;
        if (o.SplitOnSpecialTokens) _specialSplitter = new SpecialTokenSplitter(SpecialPairs(vocab, o));
        _maskToken = o.MaskToken;
        _addPrefixSpace = o.AddPrefixSpace;
        _cacheCapacity = o.CacheCapacity;
        _source = source;
    }

    /// <summary>Loads <c>vocab.json</c> and <c>merges.txt</c>.</summary>
    /// <exception cref="CheckpointFormatException">A file is malformed (the message names it and the line), or a required special token is missing.</exception>
    public static ByteLevelBpeTokenizer Load(string vocabPath, string mergesPath, Options? options = null)
    {
        ArgumentNullException.ThrowIfNull(vocabPath);
        ArgumentNullException.ThrowIfNull(mergesPath);
        using var vocab = File.OpenRead(vocabPath);
        using var merges = File.OpenRead(mergesPath);
        return new ByteLevelBpeTokenizer(ReadVocabulary(vocab, vocabPath), ReadMerges(merges, mergesPath), options ?? new Options(), vocabPath);
    }

    /// <summary>Loads the two files from streams.</summary>
    /// <exception cref="CheckpointFormatException">A stream is malformed, or a required special token is missing.</exception>
    public static ByteLevelBpeTokenizer Load(Stream vocabStream, Stream mergesStream, Options? options = null)
    {
        ArgumentNullException.ThrowIfNull(vocabStream);
        ArgumentNullException.ThrowIfNull(mergesStream);
        return new ByteLevelBpeTokenizer(ReadVocabulary(vocabStream, "vocab stream"), ReadMerges(mergesStream, "merges stream"), options ?? new Options(), "vocab stream");
    }

    /// <summary>Creates a tokenizer from an in-memory vocabulary and merges (rank = position in <paramref name="merges"/>).</summary>
    /// <exception cref="CheckpointFormatException">A required special token is missing.</exception>
    public static ByteLevelBpeTokenizer Create(IReadOnlyDictionary<string, int> vocabulary, IEnumerable<(string Left, string Right)> merges, Options? options = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(merges);
        var ranks = new Dictionary<(string, string), int>();
        foreach (var m in merges) ranks.TryAdd(m, ranks.Count);
        return new ByteLevelBpeTokenizer(new Dictionary<string, int>(vocabulary, StringComparer.Ordinal), ranks, options ?? new Options(), "in-memory vocabulary");
    }

    /// <inheritdoc/>
    public override int VocabularySize => _tokens.Length;

    /// <summary>Number of merges.</summary>
    public int MergeCount => _mergeRanks.Count;

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
        var segments = new List<(string Text, int Id)>(); // Id < 0: ordinary text
        _specialSplitter.Split(text, segment => segments.Add((segment, -1)), (id, special) =>
        {
            // The mask token absorbs the whitespace before it ("Hello <mask>" → Hello <mask>), as RoBERTa's lstrip does.
            if (special == _maskToken && segments.Count > 0 && segments[^1].Id < 0)
                segments[^1] = (segments[^1].Text.TrimEnd(), -1);
            segments.Add((special, id));
        });
        foreach (var (segment, id) in segments)
        {
            if (id >= 0) ids.Add(id);
            else if (segment.Length > 0) AppendTextIds(segment, ids);
        }
    }

    private void AppendTextIds(string text, List<int> ids)
    {
        if (_addPrefixSpace && !text.StartsWith(' ')) text = " " + text;
        var pieces = new List<string>();
        Gpt2PreTokenizer.Split(text, pieces);
        foreach (string piece in pieces) ids.AddRange(EncodePiece(piece));
    }

    /// <summary>BPE of one pre-tokenized piece: bytes → alphabet characters → lowest-rank merges until none applies → ids.</summary>
    private int[] EncodePiece(string piece)
    {
        if (_cache.TryGetValue(piece, out var cached)) return cached;
        string mapped = ByteLevelAlphabet.Encode(Encoding.UTF8.GetBytes(piece));
        var word = new List<string>(mapped.Length);
        foreach (char c in mapped) word.Add(c.ToString());
        var next = new List<string>(mapped.Length);
        while (word.Count > 1)
        {
            int bestRank = int.MaxValue, best = -1;
            for (int i = 0; i + 1 < word.Count; i++)
                if (_mergeRanks.TryGetValue((word[i], word[i + 1]), out int rank) && rank < bestRank) { bestRank = rank; best = i; }
            if (best < 0) break;
            string left = word[best], right = word[best + 1];
            next.Clear();
            for (int i = 0; i < word.Count; i++) // merge every occurrence, left to right, without overlap
            {
                if (i + 1 < word.Count && word[i] == left && word[i + 1] == right)
                {
                    next.Add(left + right);
                    i++;
                }
                else next.Add(word[i]);
            }
            (word, next) = (next, word);
        }
        var result = new int[word.Count];
        for (int i = 0; i < word.Count; i++)
        {
            if (_vocabulary.TryGetValue(word[i], out int id)) result[i] = id;
            else result[i] = _unknownId ?? throw new CheckpointFormatException(_source, null, $"symbol '{word[i]}' (from \"{piece}\") is not in the vocabulary, which has no unknown token (Options.UnknownToken).");
        }
        if (_cache.Count < _cacheCapacity) _cache.TryAdd(piece, result);
        return result;
    }

    /// <summary>Concatenates the tokens, maps alphabet characters back to bytes and decodes UTF-8 (invalid sequences → U+FFFD); special tokens appear as written.</summary>
    private protected override string DecodeCore(IReadOnlyList<int> ids)
    {
        var bytes = new List<byte>();
        Span<byte> utf8 = stackalloc byte[4];
        foreach (int id in ids)
        {
            string token = IdToToken(id) ?? "";
            if (IsSpecialId(id))
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(token));
                continue;
            }
            foreach (Rune r in token.EnumerateRunes())
            {
                if (r.IsBmp && ByteLevelAlphabet.TryCharToByte((char)r.Value, out byte b)) bytes.Add(b);
                else bytes.AddRange(utf8[..r.EncodeToUtf8(utf8)].ToArray()); // a token outside the byte alphabet stands for itself
            }
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }

    private static Dictionary<string, int> ReadVocabulary(Stream stream, string source)
    {
        try
        {
            var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(stream)
                ?? throw new CheckpointFormatException(source, null, "vocab.json is null; expected an object mapping tokens to ids.");
            return new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(source, null, $"vocab.json is not an object mapping tokens to integer ids: {e.Message}", e);
        }
    }

    private static Dictionary<(string, string), int> ReadMerges(Stream stream, string source)
    {
        var ranks = new Dictionary<(string, string), int>();
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        int lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal)) continue;
            if (line.Length == 0) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new CheckpointFormatException(source, null, $"line {lineNumber} is \"{line}\"; expected two symbols separated by one space.");
            ranks.TryAdd((parts[0], parts[1]), ranks.Count); // a repeated merge keeps its first (lowest) rank
        }
        return ranks;
    }

    private static SpecialTokenLayout Layout(Dictionary<string, int> vocab, Options o, string source)
    {
        if (!o.AddSpecialTokens) return SpecialTokenLayout.None;
        int bos = vocab.TryGetValue(o.BeginningOfSequenceToken, out int b) ? b
            : throw new CheckpointFormatException(source, null, $"the vocabulary has no '{o.BeginningOfSequenceToken}'; set Options.BeginningOfSequenceToken, or AddSpecialTokens = false (GPT-2).");
        int eos = vocab.TryGetValue(o.EndOfSequenceToken, out int e) ? e
            : throw new CheckpointFormatException(source, null, $"the vocabulary has no '{o.EndOfSequenceToken}'; set Options.EndOfSequenceToken, or AddSpecialTokens = false (GPT-2).");
        return new SpecialTokenLayout([bos], [eos], [eos], [eos], SecondTypeId: 0);
    }

    private static IEnumerable<(string Text, int Id)> SpecialPairs(Dictionary<string, int> vocab, Options o)
    {
        foreach (string token in new[] { o.BeginningOfSequenceToken, o.EndOfSequenceToken, o.PaddingToken, o.UnknownToken, o.MaskToken })
            if (vocab.TryGetValue(token, out int id)) yield return (token, id);
    }
}
