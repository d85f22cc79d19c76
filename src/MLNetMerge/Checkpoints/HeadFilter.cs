using System.Text.RegularExpressions;

namespace MLNetMerge.Checkpoints;

/// <summary>
/// Selects per-task head tensors by name with comma-separated glob patterns (<c>*</c> matches any run of characters,
/// <c>?</c> one character), e.g. <c>"classifier.*"</c> or <c>"classifier.*,pooler.*"</c>. Heads are never merged.
/// </summary>
public sealed class HeadFilter
{
    private readonly Regex? _regex;

    /// <summary>The default pattern, <c>classifier.*</c> (Hugging Face sequence/image classification heads).</summary>
    public const string DefaultPattern = "classifier.*";

    /// <summary>Creates a filter from comma-separated globs; an empty string selects nothing.</summary>
    public HeadFilter(string? pattern)
    {
        Pattern = pattern ?? "";
        var parts = Pattern.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length > 0)
        {
            string body = string.Join("|", parts.Select(p => Regex.Escape(p).Replace(@"\*", ".*").Replace(@"\?", ".")));
            _regex = new Regex("^(?:" + body + ")$", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
        }
    }

    /// <summary>The patterns as given.</summary>
    public string Pattern { get; }

    /// <summary>True when <paramref name="tensorName"/> is a head tensor.</summary>
    public bool IsHead(string tensorName) => _regex?.IsMatch(tensorName) ?? false;
}
