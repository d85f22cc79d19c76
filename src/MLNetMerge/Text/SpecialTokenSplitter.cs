namespace MLNetMerge.Text;

/// <summary>
/// Finds special-token strings typed into the input (e.g. <c>"Paris is the [MASK] of France."</c>) so that they map to
/// their ids instead of being tokenized as text. Matching is exact and case-sensitive; at one position the longest
/// special token wins.
/// </summary>
internal sealed class SpecialTokenSplitter
{
    private readonly (string Text, int Id)[] _specials;

    /// <summary>Creates a splitter over <paramref name="specials"/> (empty strings are ignored).</summary>
    public SpecialTokenSplitter(IEnumerable<(string Text, int Id)> specials)
    {
        _specials = [.. specials.Where(s => s.Text.Length > 0).DistinctBy(s => s.Text).OrderByDescending(s => s.Text.Length)];
    }

    /// <summary>Calls <paramref name="onText"/> for each stretch of ordinary text and <paramref name="onSpecial"/> for each special token, in order.</summary>
    public void Split(string text, Action<string> onText, Action<int, string> onSpecial)
    {
        int pos = 0;
        while (pos < text.Length)
        {
            int best = -1, bestAt = text.Length;
            for (int k = 0; k < _specials.Length; k++)
            {
                int at = text.IndexOf(_specials[k].Text, pos, StringComparison.Ordinal);
                if (at >= 0 && at < bestAt) { bestAt = at; best = k; } // longer tokens come first, so ties keep the longest
            }
            if (best < 0) break;
            if (bestAt > pos) onText(text[pos..bestAt]);
            onSpecial(_specials[best].Id, _specials[best].Text);
            pos = bestAt + _specials[best].Text.Length;
        }
        if (pos < text.Length) onText(pos == 0 ? text : text[pos..]);
    }
}
