using System.Globalization;
using System.Text;

namespace MLNetMerge.Text;

/// <summary>
/// Character classes of BERT's basic tokenizer, over Unicode scalar values (so characters outside the BMP are classed
/// by their own category, not as two surrogates), and accent stripping without ICU.
/// </summary>
internal static class UnicodeText
{
    private static readonly Lazy<Dictionary<int, string>> Decompositions = new(ParseAccentTable);

    /// <summary>Space, tab, newline, carriage return, or a separator (Zs, Zl, Zp).</summary>
    public static bool IsWhitespace(Rune r) =>
        r.Value is ' ' or '\t' or '\n' or '\r' ||
        Rune.GetUnicodeCategory(r) is UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    /// <summary>A category C* character (control, format, unassigned, private use, surrogate) other than tab, newline and carriage return.</summary>
    public static bool IsControl(Rune r)
    {
        if (r.Value is '\t' or '\n' or '\r') return false;
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.OtherNotAssigned
            or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate;
    }

    /// <summary>
    /// ASCII non-alphanumeric printable characters (33–47, 58–64, 91–96, 123–126: BERT counts <c>$</c>, <c>+</c>, <c>^</c> and
    /// <c>`</c> as punctuation although Unicode does not) or any Unicode punctuation category P*.
    /// </summary>
    public static bool IsPunctuation(Rune r)
    {
        int cp = r.Value;
        if (cp is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126) return true;
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    /// <summary>
    /// A CJK Unified Ideograph (blocks 4E00–9FFF, 3400–4DBF, 20000–2A6DF, 2A700–2B73F, 2B740–2B81F, 2B820–2CEAF) or a CJK
    /// Compatibility Ideograph (F900–FAFF, 2F800–2FA1F), the ranges BERT splits into single tokens. Hiragana, Katakana and
    /// Hangul are not included: they are written with spaces and split like other letters.
    /// </summary>
    public static bool IsCjk(Rune r)
    {
        int cp = r.Value;
        return cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF
            or >= 0x2A700 and <= 0x2B73F or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF
            or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
    }

    /// <summary>
    /// Lower-cases as Hugging Face's BERT tokenizers do: each character on its own — the slow tokenizer lower-cases the
    /// text one character at a time (Python's <c>str.lower()</c> of a single character) before its basic tokenizer runs,
    /// the fast one maps each character (Rust's <c>char::to_lowercase</c>). So the invariant simple case mapping plus
    /// <c>İ</c> (U+0130) → <c>i̇</c> (i + U+0307), and <c>Σ</c> → <c>σ</c> everywhere: no final sigma <c>ς</c>, which
    /// <c>str.lower()</c> of a whole word would give.
    /// </summary>
    public static string ToLowerLikeHuggingFace(string text)
    {
        if (!text.Contains('\u0130')) return text.ToLowerInvariant();
        var sb = new StringBuilder(text.Length + 4);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\u0130') sb.Append("i\u0307");
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                sb.Append(Rune.ToLowerInvariant(new Rune(c, text[i + 1])).ToString());
                i++;
            }
            else sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    /// <summary>
    /// Canonical decomposition (NFD) followed by removal of nonspacing marks (Mn): <c>"Héllo" → "Hello"</c>,
    /// <c>"e\u0301" → "e"</c>. Decompositions come from <see cref="AccentStrippingTable"/>; Hangul syllables decompose
    /// algorithmically into their conjoining jamo, as NFD does.
    /// </summary>
    public static string StripAccents(string text)
    {
        StringBuilder? sb = null; // allocated on the first change
        int i = 0;
        foreach (Rune r in text.EnumerateRunes())
        {
            string? replacement = null;
            bool drop = false;
            if (r.Value is >= 0xAC00 and <= 0xD7A3) replacement = DecomposeHangul(r.Value);
            else if (Decompositions.Value.TryGetValue(r.Value, out var d)) replacement = d;
            else if (Rune.GetUnicodeCategory(r) == UnicodeCategory.NonSpacingMark) drop = true;
            if (replacement is null && !drop)
            {
                sb?.Append(r.ToString());
            }
            else
            {
                sb ??= new StringBuilder(text, 0, i, text.Length);
                if (replacement is not null) sb.Append(replacement);
            }
            i += r.Utf16SequenceLength;
        }
        return sb?.ToString() ?? text;
    }

    /// <summary>Hangul syllable S → L V [T] jamo: <c>L = 0x1100 + s / 588</c>, <c>V = 0x1161 + (s % 588) / 28</c>, <c>T = 0x11A7 + s % 28</c> (omitted when 0), with <c>s = S − 0xAC00</c>.</summary>
    private static string DecomposeHangul(int syllable)
    {
        int s = syllable - 0xAC00;
        char l = (char)(0x1100 + s / 588), v = (char)(0x1161 + s % 588 / 28);
        int t = s % 28;
        return t == 0 ? new string([l, v]) : new string([l, v, (char)(0x11A7 + t)]);
    }

    private static Dictionary<int, string> ParseAccentTable()
    {
        var table = new Dictionary<int, string>(2100);
        foreach (string entry in AccentStrippingTable.Data.Split('|'))
        {
            int sourceLength = char.IsHighSurrogate(entry[0]) ? 2 : 1;
            table[char.ConvertToUtf32(entry, 0)] = entry[sourceLength..];
        }
        return table;
    }
}
