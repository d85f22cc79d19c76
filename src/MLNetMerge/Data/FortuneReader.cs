using System.Text;

namespace MLNetMerge.Data;

/// <summary>One entry of a fortune file.</summary>
/// <param name="Category">The file's name (<c>computers</c>, <c>science</c>, …).</param>
/// <param name="Text">The entry, lines joined by <c>\n</c>, overstriking removed, trimmed.</param>
internal sealed record Fortune(string Category, string Text);

/// <summary>
/// Reads strfile(1)-format fortune files: plain text whose entries are separated by lines holding a single <c>%</c>.
/// Overstriking (<c>x</c> backspace <c>y</c>, used for bold and underline) keeps the character after the backspace;
/// empty entries are skipped. The category is the file name, as <c>fortune</c> itself uses it.
/// </summary>
internal static class FortuneReader
{
    /// <summary>Where Debian's <c>fortunes</c> package installs its files.</summary>
    public const string DefaultDirectory = "/usr/share/games/fortunes";

    /// <summary>Reads the named categories from <paramref name="directory"/>.</summary>
    /// <exception cref="FileNotFoundException">A category file is missing (install <c>fortunes</c>).</exception>
    public static List<Fortune> ReadCategories(IEnumerable<string> categories, string directory = DefaultDirectory)
    {
        ArgumentNullException.ThrowIfNull(categories);
        var all = new List<Fortune>();
        foreach (string category in categories)
        {
            string path = Path.Combine(directory, category);
            if (!File.Exists(path)) throw new FileNotFoundException($"fortune file {path} not found; install Debian's fortunes.", path);
            using var reader = new StreamReader(path, Encoding.UTF8);
            all.AddRange(Read(reader, category));
        }
        return all;
    }

    /// <summary>Parses the entries of one fortune file.</summary>
    public static IEnumerable<Fortune> Read(TextReader reader, string category)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(category);
        var entry = new StringBuilder();
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            if (line == "%")
            {
                if (Flush(entry, category) is { } f) yield return f;
                continue;
            }
            if (entry.Length > 0) entry.Append('\n');
            entry.Append(RemoveOverstrike(line));
        }
        if (Flush(entry, category) is { } last) yield return last;
    }

    private static Fortune? Flush(StringBuilder entry, string category)
    {
        string text = entry.ToString().Trim();
        entry.Clear();
        return text.Length > 0 ? new Fortune(category, text) : null;
    }

    /// <summary>Resolves overstriking: <c>"_\bw_\bo"</c> → <c>"wo"</c> (each backspace deletes the character before it).</summary>
    public static string RemoveOverstrike(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (!line.Contains('\b')) return line;
        var sb = new StringBuilder(line.Length);
        foreach (char ch in line)
        {
            if (ch == '\b') { if (sb.Length > 0) sb.Length--; }
            else sb.Append(ch);
        }
        return sb.ToString();
    }
}
