namespace MLNetMerge.Text;

/// <summary>
/// What the subword tokenizers share: encoding one text or a pair with the model's special tokens, truncation to a
/// maximum length, padding with an attention mask, batches as int64 arrays, and decoding. Every <c>Encode</c> overload
/// funnels into one core; subclasses supply only the text → ids step and its inverse.
/// </summary>
internal abstract class TextTokenizer
{
    private readonly SpecialTokenLayout _layout;
    private readonly HashSet<int> _specialIds;

    private protected TextTokenizer(SpecialTokenLayout layout, IEnumerable<int> specialIds, int? paddingId, int? maxLength, int? paddingLength)
    {
        if (maxLength is < 0) throw new ArgumentOutOfRangeException(nameof(maxLength), "MaxLength must be non-negative.");
        if (paddingLength is < 0) throw new ArgumentOutOfRangeException(nameof(paddingLength), "PaddingLength must be non-negative.");
        _layout = layout;
        _specialIds = [.. specialIds];
        PaddingId = paddingId;
        MaxLength = maxLength;
        PaddingLength = paddingLength;
    }

    /// <summary>Number of ids: one more than the largest id in the vocabulary.</summary>
    public abstract int VocabularySize { get; }

    /// <summary>Longest encoding, special tokens included, before padding; longer input is truncated. Null: no truncation.</summary>
    public int? MaxLength { get; }

    /// <summary>Length every single encoding and every batch is padded to; null pads batches to their longest row only.</summary>
    public int? PaddingLength { get; }

    /// <summary>Id of the padding token, or null if the vocabulary has none (then padding is an error).</summary>
    public int? PaddingId { get; }

    /// <summary>Looks up the id of a vocabulary string.</summary>
    public abstract bool TryGetId(string token, out int id);

    /// <summary>The vocabulary string of <paramref name="id"/>, or null if no token has that id.</summary>
    public abstract string? IdToToken(int id);

    /// <summary>True for the ids of special tokens (classification, separator, padding, unknown, mask, …).</summary>
    public bool IsSpecialId(int id) => _specialIds.Contains(id);

    /// <summary>The subword ids of <paramref name="text"/> alone: no special tokens added, no truncation, no padding.</summary>
    public IReadOnlyList<int> EncodeToIds(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        AppendIds(text, ids);
        return ids;
    }

    /// <summary>The subword strings of <paramref name="text"/> alone (no special tokens added): <c>"unaffable"</c> → <c>un ##aff ##able</c>.</summary>
    public IReadOnlyList<string> Tokenize(string text) => [.. EncodeToIds(text).Select(id => IdToToken(id) ?? "")];

    /// <summary>Encodes one text with special tokens, truncated to <see cref="MaxLength"/> and padded to <see cref="PaddingLength"/>.</summary>
    public TokenEncoding Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return EncodeCore(text, null, PaddingLength ?? 0);
    }

    /// <summary>Encodes a text pair (e.g. premise and hypothesis) with the model's pair format and segment ids; truncation removes tokens from the longer text first.</summary>
    public TokenEncoding Encode(string firstText, string secondText)
    {
        ArgumentNullException.ThrowIfNull(firstText);
        ArgumentNullException.ThrowIfNull(secondText);
        return EncodeCore(firstText, secondText, PaddingLength ?? 0);
    }

    /// <summary>Encodes texts into int64 arrays of shape (B, T), T = max(PaddingLength, longest encoding).</summary>
    public TokenBatch EncodeBatch(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return EncodeBatchCore(texts.Count, i => EncodeCore(texts[i] ?? throw new ArgumentNullException(nameof(texts), $"text {i} is null."), null, 0));
    }

    /// <summary>Encodes text pairs into int64 arrays of shape (B, T), T = max(PaddingLength, longest encoding).</summary>
    public TokenBatch EncodeBatch(IReadOnlyList<(string First, string Second)> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        return EncodeBatchCore(pairs.Count, i => EncodeCore(
            pairs[i].First ?? throw new ArgumentNullException(nameof(pairs), $"pair {i} has a null first text."),
            pairs[i].Second ?? throw new ArgumentNullException(nameof(pairs), $"pair {i} has a null second text."), 0));
    }

    /// <summary>Turns ids back into text; special tokens (padding included) are left out unless <paramref name="skipSpecialTokens"/> is false.</summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var kept = skipSpecialTokens ? ids.Where(id => !IsSpecialId(id)).ToList() : ids.ToList();
        return DecodeCore(kept);
    }

    /// <summary>Appends the subword ids of <paramref name="text"/>, special tokens typed in the text included.</summary>
    private protected abstract void AppendIds(string text, List<int> ids);

    /// <summary>Text of <paramref name="ids"/> (already filtered).</summary>
    private protected abstract string DecodeCore(IReadOnlyList<int> ids);

    /// <summary>The one encoding path: subword ids, truncation, special tokens, segment ids, padding to <paramref name="padTo"/>.</summary>
    private TokenEncoding EncodeCore(string first, string? second, int padTo)
    {
        var a = new List<int>();
        AppendIds(first, a);
        List<int>? b = null;
        if (second is not null)
        {
            b = [];
            AppendIds(second, b);
        }
        if (MaxLength is int max) Truncate(a, b, max - (b is null ? _layout.SingleCount : _layout.PairCount), max);

        int length = _layout.SingleCount + a.Count + (b is null ? 0 : _layout.BeforeSecond.Length + b.Count + _layout.AfterSecond.Length);
        int total = Math.Max(length, padTo);
        var ids = new int[total];       // (T,)
        var types = new int[total];     // (T,)
        var mask = new int[total];      // (T,)
        int t = 0;
        foreach (int id in _layout.Prefix) ids[t++] = id;
        foreach (int id in a) ids[t++] = id;
        foreach (int id in _layout.AfterFirst) ids[t++] = id;
        if (b is not null)
        {
            int secondStart = t;
            foreach (int id in _layout.BeforeSecond) ids[t++] = id;
            foreach (int id in b) ids[t++] = id;
            foreach (int id in _layout.AfterSecond) ids[t++] = id;
            types.AsSpan(secondStart, t - secondStart).Fill(_layout.SecondTypeId);
        }
        mask.AsSpan(0, t).Fill(1);
        if (t < total) ids.AsSpan(t).Fill(RequirePaddingId());
        var tokens = new string[total];
        for (int i = 0; i < total; i++) tokens[i] = IdToToken(ids[i]) ?? "";
        return new TokenEncoding(ids, tokens, types, mask);
    }

    /// <summary>
    /// Cuts the texts to <paramref name="budget"/> subword tokens in all. Single text: keep the first <c>budget</c>.
    /// Pair ("longest first", as Hugging Face tokenizers do it): with n1 ≤ n2 the lengths of the shorter and longer
    /// text, the longer is cut to <c>max(n1, budget − n1)</c>; if that still does not fit, the shorter gets
    /// <c>budget / 2</c> and the longer <c>budget / 2 + budget % 2</c> (the second text counts as longer on a tie).
    /// </summary>
    private void Truncate(List<int> a, List<int>? b, int budget, int maxLength)
    {
        if (budget < 0)
            throw new InvalidOperationException($"MaxLength {maxLength} leaves no room for the {(b is null ? _layout.SingleCount : _layout.PairCount)} special tokens.");
        if (b is null)
        {
            if (a.Count > budget) a.RemoveRange(budget, a.Count - budget);
            return;
        }
        if (a.Count + b.Count <= budget) return;
        bool firstIsLonger = a.Count > b.Count;
        int shortLen = Math.Min(a.Count, b.Count), longLen;
        longLen = shortLen > budget ? shortLen : Math.Max(shortLen, budget - shortLen);
        if (shortLen + longLen > budget)
        {
            shortLen = budget / 2;
            longLen = shortLen + budget % 2;
        }
        int keepA = firstIsLonger ? longLen : shortLen, keepB = firstIsLonger ? shortLen : longLen;
        if (a.Count > keepA) a.RemoveRange(keepA, a.Count - keepA);
        if (b.Count > keepB) b.RemoveRange(keepB, b.Count - keepB);
    }

    private TokenBatch EncodeBatchCore(int count, Func<int, TokenEncoding> encode)
    {
        var rows = new TokenEncoding[count];
        int longest = PaddingLength ?? 0;
        for (int i = 0; i < count; i++)
        {
            rows[i] = encode(i);
            longest = Math.Max(longest, rows[i].Length);
        }
        int T = longest;
        var inputIds = new long[(long)count * T];       // (B, T)
        var attentionMask = new long[(long)count * T];  // (B, T)
        var typeIds = new long[(long)count * T];        // (B, T)
        for (int i = 0; i < count; i++)
        {
            var row = rows[i];
            int offset = i * T;
            for (int t = 0; t < row.Length; t++)
            {
                inputIds[offset + t] = row.Ids[t];
                attentionMask[offset + t] = row.AttentionMask[t];
                typeIds[offset + t] = row.TypeIds[t];
            }
            if (row.Length < T) inputIds.AsSpan(offset + row.Length, T - row.Length).Fill(RequirePaddingId());
        }
        return new TokenBatch(count, T, inputIds, attentionMask, typeIds);
    }

    private int RequirePaddingId() =>
        PaddingId ?? throw new InvalidOperationException("padding was needed but the vocabulary has no padding token; set Options.PaddingToken to a token it has.");
}
