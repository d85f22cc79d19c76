using System.Text;
using MLNetMerge.Data;
using MLNetMerge.Text;

namespace MLNetMerge.Cli.Zoo;

/// <summary>How <see cref="WordPieceVocabularyBuilder"/> scores a candidate merge of adjacent pieces a, b.</summary>
internal enum WordPieceMergeCriterion
{
    /// <summary><c>count(ab)</c>: the most frequent pair, as in BPE.</summary>
    Frequency,

    /// <summary><c>count(ab) / (count(a) · count(b))</c>: WordPiece's likelihood criterion, favouring pairs whose parts rarely occur apart.</summary>
    Likelihood,
}

/// <summary>
/// Builds a WordPiece vocabulary (<c>vocab.txt</c>) from a corpus:
/// <list type="number">
/// <item>split every text into words with BERT's basic tokenization (same options as <see cref="WordPieceTokenizer"/>) and count them;</item>
/// <item>start from the special tokens, then every character seen (in code point order), then each character's <c>##</c> form;</item>
/// <item>write each word as its first character followed by <c>##</c> characters, and repeatedly merge the adjacent pair with the
/// best score (<see cref="WordPieceMergeCriterion"/>) in every word, adding the merged piece, until the vocabulary reaches
/// <see cref="Options.VocabularySize"/> or no pair occurs <see cref="Options.MinPairFrequency"/> times.</item>
/// </list>
/// Ties are broken by higher pair count, then the merged string, left piece and right piece in ordinal order, so the
/// result depends only on the word counts, not on corpus order. Every character seen is kept even when that exceeds the
/// target size. Scores are compared exactly (128-bit cross-multiplication).
/// </summary>
internal static class WordPieceVocabularyBuilder
{
    /// <summary>Settings of the builder; the defaults match <see cref="WordPieceTokenizer.Options"/>.</summary>
    internal sealed class Options
    {
        /// <summary>Target number of tokens, special tokens included. Default 30 000.</summary>
        public int VocabularySize { get; set; } = 30_000;

        /// <summary>Tokens placed first, in this order. Default <c>[PAD] [UNK] [CLS] [SEP] [MASK]</c>.</summary>
        public IReadOnlyList<string> SpecialTokens { get; set; } = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

        /// <summary>Score of a candidate merge. Default <see cref="WordPieceMergeCriterion.Likelihood"/>.</summary>
        public WordPieceMergeCriterion Criterion { get; set; } = WordPieceMergeCriterion.Likelihood;

        /// <summary>A pair must occur at least this often (counting word frequency) to be merged. Default 2.</summary>
        public int MinPairFrequency { get; set; } = 2;

        /// <summary>Lower-case words. Default true.</summary>
        public bool LowerCase { get; set; } = true;

        /// <summary>Strip accents; default null follows <see cref="LowerCase"/>.</summary>
        public bool? StripAccents { get; set; }

        /// <summary>Make CJK ideographs single words. Default true.</summary>
        public bool TokenizeChineseCharacters { get; set; } = true;

        /// <summary>Prefix of continuation pieces. Default <c>##</c>.</summary>
        public string ContinuingSubwordPrefix { get; set; } = "##";

        /// <summary>Words longer than this many characters are ignored (the tokenizer maps them to <c>[UNK]</c>). Default 100.</summary>
        public int MaxInputCharactersPerWord { get; set; } = 100;
    }

    /// <summary>Builds the vocabulary; the returned list is in id order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size or frequency option is not positive.</exception>
    public static IReadOnlyList<string> Build(IEnumerable<string> corpus, Options? options = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        var o = options ?? new Options();
        if (o.VocabularySize <= 0) throw new ArgumentOutOfRangeException(nameof(options), "VocabularySize must be positive.");
        if (o.MinPairFrequency <= 0) throw new ArgumentOutOfRangeException(nameof(options), "MinPairFrequency must be positive.");
        var wordCounts = CountWords(corpus, o);

        var vocab = new List<string>();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        int Add(string token)
        {
            if (!ids.TryGetValue(token, out int id))
            {
                id = vocab.Count;
                ids[token] = id;
                vocab.Add(token);
            }
            return id;
        }
        foreach (string special in o.SpecialTokens) Add(special);
        var alphabet = new SortedSet<int>();
        foreach (string word in wordCounts.Keys)
            foreach (Rune r in word.EnumerateRunes()) alphabet.Add(r.Value);
        foreach (int cp in alphabet) Add(char.ConvertFromUtf32(cp));
        foreach (int cp in alphabet) Add(o.ContinuingSubwordPrefix + char.ConvertFromUtf32(cp));

        var words = new List<(List<int> Pieces, long Count)>(wordCounts.Count);
        foreach (var (word, count) in wordCounts.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var pieces = new List<int>();
            foreach (Rune r in word.EnumerateRunes())
                pieces.Add(ids[pieces.Count == 0 ? r.ToString() : o.ContinuingSubwordPrefix + r.ToString()]);
            words.Add((pieces, count));
        }
        new MergeState(vocab, words, o).Run(Add);
        return vocab;
    }

    /// <summary>Builds the vocabulary and writes it to <paramref name="vocabPath"/> (atomically); returns it in id order.</summary>
    public static IReadOnlyList<string> BuildToFile(IEnumerable<string> corpus, string vocabPath, Options? options = null)
    {
        var vocab = Build(corpus, options);
        Save(vocab, vocabPath);
        return vocab;
    }

    /// <summary>Writes a vocabulary in the standard <c>vocab.txt</c> format: UTF-8 without BOM, one token per line, id = line index.</summary>
    /// <exception cref="ArgumentException">A token contains a line break.</exception>
    public static void Save(IReadOnlyList<string> vocabulary, string vocabPath)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(vocabPath);
        foreach (string token in vocabulary)
            if (token.Contains('\n') || token.Contains('\r')) throw new ArgumentException($"token \"{token}\" contains a line break.", nameof(vocabulary));
        AtomicFile.Write(vocabPath, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16, leaveOpen: true);
            foreach (string token in vocabulary) writer.Write(token + "\n");
        });
    }

    private static Dictionary<string, long> CountWords(IEnumerable<string> corpus, Options o)
    {
        var basic = new BertBasicTokenizer(o.LowerCase, o.StripAccents ?? o.LowerCase, o.TokenizeChineseCharacters);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var words = new List<string>();
        foreach (string text in corpus)
        {
            if (text is null) continue;
            words.Clear();
            basic.Split(text, words);
            foreach (string word in words)
            {
                if (word.Length > o.MaxInputCharactersPerWord && word.EnumerateRunes().Count() > o.MaxInputCharactersPerWord) continue;
                counts[word] = counts.GetValueOrDefault(word) + 1;
            }
        }
        return counts;
    }

    /// <summary>The merge loop, with pair and piece counts updated incrementally for the words a merge touches.</summary>
    private sealed class MergeState(List<string> vocab, List<(List<int> Pieces, long Count)> words, Options o)
    {
        private readonly Dictionary<(int Left, int Right), long> _pairCounts = [];
        private readonly Dictionary<(int Left, int Right), HashSet<int>> _pairWords = []; // may hold stale words; re-checked
        private readonly List<long> _pieceCounts = [];

        public void Run(Func<string, int> add)
        {
            for (int w = 0; w < words.Count; w++) Count(w, +1);
            while (vocab.Count < o.VocabularySize)
            {
                if (!TryBest(out var pair)) break;
                string right = vocab[pair.Right];
                string merged = vocab[pair.Left] + (right.StartsWith(o.ContinuingSubwordPrefix, StringComparison.Ordinal) ? right[o.ContinuingSubwordPrefix.Length..] : right);
                int mergedId = add(merged);
                foreach (int w in _pairWords[pair].ToArray())
                {
                    var pieces = words[w].Pieces;
                    if (!Contains(pieces, pair)) continue;
                    Count(w, -1);
                    Merge(pieces, pair, mergedId);
                    Count(w, +1);
                }
            }
        }

        /// <summary>Adds (sign +1) or removes (−1) word <paramref name="w"/>'s pieces and adjacent pairs, weighted by its count.</summary>
        private void Count(int w, int sign)
        {
            var (pieces, count) = words[w];
            long delta = sign * count;
            for (int i = 0; i < pieces.Count; i++)
            {
                while (_pieceCounts.Count <= pieces[i]) _pieceCounts.Add(0);
                _pieceCounts[pieces[i]] += delta;
                if (i + 1 == pieces.Count) break;
                var pair = (pieces[i], pieces[i + 1]);
                long updated = _pairCounts.GetValueOrDefault(pair) + delta;
                if (updated == 0) _pairCounts.Remove(pair);
                else _pairCounts[pair] = updated;
                if (sign > 0)
                {
                    if (!_pairWords.TryGetValue(pair, out var set)) _pairWords[pair] = set = [];
                    set.Add(w);
                }
            }
        }

        /// <summary>The best pair by score, then count, then merged string, left, right; false if none is frequent enough.</summary>
        private bool TryBest(out (int Left, int Right) best)
        {
            best = default;
            long bestCount = 0;
            Int128 bestDenominator = 1;
            bool found = false;
            foreach (var (pair, count) in _pairCounts)
            {
                if (count < o.MinPairFrequency) continue;
                Int128 denominator = o.Criterion == WordPieceMergeCriterion.Likelihood ? (Int128)_pieceCounts[pair.Left] * _pieceCounts[pair.Right] : 1;
                int order = !found ? 1 : Compare(count, denominator, bestCount, bestDenominator);
                if (order == 0) order = -TieBreak(pair, best);
                if (order > 0)
                {
                    best = pair;
                    bestCount = count;
                    bestDenominator = denominator;
                    found = true;
                }
            }
            return found;
        }

        /// <summary>Compares c1/d1 with c2/d2 exactly, then c1 with c2.</summary>
        private static int Compare(long c1, Int128 d1, long c2, Int128 d2)
        {
            int byScore = ((Int128)c1 * d2).CompareTo((Int128)c2 * d1);
            return byScore != 0 ? byScore : c1.CompareTo(c2);
        }

        /// <summary>Ordinal order of (merged string, left, right); negative when <paramref name="a"/> comes first.</summary>
        private int TieBreak((int Left, int Right) a, (int Left, int Right) b)
        {
            string ra = vocab[a.Right], rb = vocab[b.Right];
            int prefix = o.ContinuingSubwordPrefix.Length;
            string ma = vocab[a.Left] + (ra.StartsWith(o.ContinuingSubwordPrefix, StringComparison.Ordinal) ? ra[prefix..] : ra);
            string mb = vocab[b.Left] + (rb.StartsWith(o.ContinuingSubwordPrefix, StringComparison.Ordinal) ? rb[prefix..] : rb);
            int c = string.CompareOrdinal(ma, mb);
            if (c == 0) c = string.CompareOrdinal(vocab[a.Left], vocab[b.Left]);
            if (c == 0) c = string.CompareOrdinal(ra, rb);
            return c;
        }

        private static bool Contains(List<int> pieces, (int Left, int Right) pair)
        {
            for (int i = 0; i + 1 < pieces.Count; i++)
                if (pieces[i] == pair.Left && pieces[i + 1] == pair.Right) return true;
            return false;
        }

        /// <summary>Replaces every occurrence of the pair, left to right without overlap, by <paramref name="mergedId"/>.</summary>
        private static void Merge(List<int> pieces, (int Left, int Right) pair, int mergedId)
        {
            int write = 0;
            for (int read = 0; read < pieces.Count; read++)
            {
                if (read + 1 < pieces.Count && pieces[read] == pair.Left && pieces[read + 1] == pair.Right)
                {
                    pieces[write++] = mergedId;
                    read++;
                }
                else pieces[write++] = pieces[read];
            }
            pieces.RemoveRange(write, pieces.Count - write);
        }
    }
}
