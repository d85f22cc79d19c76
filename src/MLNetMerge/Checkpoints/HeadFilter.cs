namespace MLNetMerge.Checkpoints;

/// <summary>
/// Selects per-task head tensors by name with comma-separated glob patterns (<c>*</c> matches any run of characters,
/// <c>?</c> one character), e.g. <c>"classifier.*"</c> or <c>"classifier.*,pooler.*"</c>. Heads are never merged.
/// Matching is ordinal over whole names, with the greedy-star backtracking of shell globs (linear in practice, no
/// regular-expression engine to build at startup).
/// </summary>
internal sealed class HeadFilter
{
    private readonly string[] _globs;

    /// <summary>The default pattern, <c>classifier.*</c> (Hugging Face sequence/image classification heads).</summary>
    public const string DefaultPattern = "classifier.*";

    /// <summary>Creates a filter from comma-separated globs; an empty string selects nothing.</summary>
    public HeadFilter(string? pattern)
    {
        Pattern = pattern ?? "";
        _globs = Pattern.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>The patterns as given.</summary>
    public string Pattern { get; }

    /// <summary>The comma-separated globs of <see cref="Pattern"/>.</summary>
    public IReadOnlyList<string> Globs => _globs;

    /// <summary>True when <paramref name="tensorName"/> is a head tensor.</summary>
    public bool IsHead(string tensorName)
    {
        ArgumentNullException.ThrowIfNull(tensorName);
        foreach (var glob in _globs)
            if (GlobMatches(glob, tensorName)) return true;
        return false;
    }

    /// <summary>
    /// Whole-string glob match: <c>*</c> any run (also empty), <c>?</c> exactly one character, anything else itself.
    /// On a mismatch after a <c>*</c>, the star absorbs one more character and matching resumes behind it.
    /// </summary>
    public static bool GlobMatches(string glob, string name)
    {
        ArgumentNullException.ThrowIfNull(glob);
        ArgumentNullException.ThrowIfNull(name);
        int g = 0, n = 0, star = -1, resume = 0;
        while (n < name.Length)
        {
            if (g < glob.Length && (glob[g] == '?' || (glob[g] != '*' && glob[g] == name[n]))) { g++; n++; }
            else if (g < glob.Length && glob[g] == '*') { star = g++; resume = n; }
            else if (star >= 0) { g = star + 1; n = ++resume; }
            else return false;
        }
        while (g < glob.Length && glob[g] == '*') g++;
        return g == glob.Length;
    }
}
