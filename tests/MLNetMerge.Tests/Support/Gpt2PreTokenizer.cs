using System.Text.RegularExpressions;

namespace MLNetMerge.Text;

/// <summary>
/// GPT-2's pre-tokenization, which cuts text into the pieces BPE works on (merges never cross them):
/// the contractions <c>'s 't 're 've 'm 'll 'd</c> (lower case only, as in GPT-2), then an optional space followed by a
/// run of letters, or of digits, or of other non-space characters; whitespace runs stay whole except that the last
/// space before a word goes with the word (<c>\s+(?!\S)</c>).
/// <c>"Hello world 42!"</c> → <c>Hello</c>, <c> world</c>, <c> 42</c>, <c>!</c>.
/// </summary>
/// <remarks>
/// .NET's regular expressions classify UTF-16 code units, so a letter or digit outside the Basic Multilingual Plane
/// (e.g. mathematical alphanumerics, CJK Extension B) is treated as "other" here, whereas Python's <c>regex</c> module
/// treats it as a letter; pieces can differ for such text. Emoji are "other" in both.
/// </remarks>
internal static partial class Gpt2PreTokenizer
{
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>Appends the pieces of <paramref name="text"/> in order; they concatenate back to the text.</summary>
    public static void Split(string text, List<string> pieces)
    {
        foreach (ValueMatch m in Pattern().EnumerateMatches(text))
            pieces.Add(text.Substring(m.Index, m.Length));
    }
}
