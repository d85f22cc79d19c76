using System.Text;

namespace MLNetMerge.Text;

/// <summary>
/// BERT's basic tokenization, which splits text into words before WordPiece:
/// <list type="number">
/// <item>clean: drop NUL, U+FFFD and control/format characters; every whitespace character becomes a space;</item>
/// <item>put spaces around CJK ideographs, so each becomes its own word (optional);</item>
/// <item>split on whitespace;</item>
/// <item>per word: lower-case (invariant), strip accents (NFD, then drop Mn marks), both optional;</item>
/// <item>split every punctuation character off into its own word.</item>
/// </list>
/// <c>"Héllo, don't!"</c> → <c>hello , don ' t !</c> with lower-casing and accent stripping on.
/// </summary>
internal sealed class BertBasicTokenizer(bool lowerCase, bool stripAccents, bool tokenizeCjk)
{
    /// <summary>Whether words are lower-cased.</summary>
    public bool LowerCase { get; } = lowerCase;

    /// <summary>Whether accents are stripped.</summary>
    public bool StripAccents { get; } = stripAccents;

    /// <summary>Whether CJK ideographs become single words.</summary>
    public bool TokenizeCjk { get; } = tokenizeCjk;

    /// <summary>Appends the words of <paramref name="text"/> to <paramref name="words"/>.</summary>
    public void Split(string text, List<string> words)
    {
        string cleaned = Clean(text);
        foreach (string raw in cleaned.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string word = raw;
            if (LowerCase) word = UnicodeText.ToLowerLikeHuggingFace(word);
            if (StripAccents) word = UnicodeText.StripAccents(word);
            SplitPunctuation(word, words);
        }
    }

    /// <summary>Steps 1 and 2: drop invalid and control characters, map whitespace to ' ', isolate CJK ideographs.</summary>
    private string Clean(string text)
    {
        var sb = new StringBuilder(text.Length + 8);
        foreach (Rune r in text.EnumerateRunes()) // unpaired surrogates arrive as U+FFFD and are dropped
        {
            if (r.Value == 0 || r.Value == 0xFFFD || UnicodeText.IsControl(r)) continue;
            if (UnicodeText.IsWhitespace(r)) sb.Append(' ');
            else if (TokenizeCjk && UnicodeText.IsCjk(r)) sb.Append(' ').Append(r.ToString()).Append(' ');
            else sb.Append(r.ToString());
        }
        return sb.ToString();
    }

    /// <summary>Step 5: <c>"don't!"</c> → <c>don</c>, <c>'</c>, <c>t</c>, <c>!</c>.</summary>
    private static void SplitPunctuation(string word, List<string> words)
    {
        int runStart = 0, i = 0;
        foreach (Rune r in word.EnumerateRunes())
        {
            int length = r.Utf16SequenceLength;
            if (UnicodeText.IsPunctuation(r))
            {
                if (i > runStart) words.Add(word[runStart..i]);
                words.Add(word.Substring(i, length));
                runStart = i + length;
            }
            i += length;
        }
        if (i > runStart) words.Add(runStart == 0 ? word : word[runStart..i]);
    }
}
