using System.Globalization;

namespace MLNetMerge.Data;

/// <summary>One synset of a WordNet <c>data.*</c> file.</summary>
/// <param name="Offset">Byte offset of the line in its file (the synset's id within its part of speech).</param>
/// <param name="LexFile">Lexicographer file number (0–44): the synset's supersense, named by <see cref="WordNetReader.LexFileNames"/>.</param>
/// <param name="Pos">Synset type: <c>n</c>, <c>v</c>, <c>a</c>, <c>s</c> (adjective satellite) or <c>r</c>.</param>
/// <param name="Words">Lemmas of the synset in file order, underscores kept (<c>take_a_breath</c>).</param>
/// <param name="Definition">The gloss up to its first quoted example, trimmed (<c>draw air into, and expel out of, the lungs</c>).</param>
/// <param name="Examples">The gloss's quoted example sentences, without the quotes.</param>
internal sealed record WordNetSynset(long Offset, int LexFile, char Pos, IReadOnlyList<string> Words, string Definition, IReadOnlyList<string> Examples)
{
    /// <summary>The lexicographer file name, e.g. <c>noun.animal</c>.</summary>
    public string LexFileName => WordNetReader.LexFileNames[LexFile];
}

/// <summary>
/// Reads WordNet 3.0's <c>data.noun</c>, <c>data.verb</c>, <c>data.adj</c> and <c>data.adv</c> (wndb(5)): lines starting
/// with two spaces are the licence; every other line is
/// <c>synset_offset lex_filenum ss_type w_cnt word lex_id [word lex_id…] p_cnt [ptr…] [frames…] | gloss</c>, where
/// <c>w_cnt</c> is two hexadecimal digits and <c>lex_filenum</c> two decimal digits. The gloss is split at its first
/// <c>"</c> into the definition and the <c>;</c>-separated quoted examples.
/// </summary>
internal static class WordNetReader
{
    /// <summary>Where Debian's <c>wordnet-base</c> installs the database.</summary>
    public const string DefaultDirectory = "/usr/share/wordnet";

    /// <summary>Lexicographer file names by number (lexnames(5)).</summary>
    public static IReadOnlyList<string> LexFileNames { get; } =
    [
        "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact", "noun.attribute",
        "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling", "noun.food", "noun.group",
        "noun.location", "noun.motive", "noun.object", "noun.person", "noun.phenomenon", "noun.plant", "noun.possession",
        "noun.process", "noun.quantity", "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time",
        "verb.body", "verb.change", "verb.cognition", "verb.communication", "verb.competition", "verb.consumption",
        "verb.contact", "verb.creation", "verb.emotion", "verb.motion", "verb.perception", "verb.possession",
        "verb.social", "verb.stative", "verb.weather", "adj.ppl",
    ];

    /// <summary>Reads the four data files of a WordNet directory, in the order noun, verb, adj, adv.</summary>
    /// <exception cref="FileNotFoundException">A data file is missing (install <c>wordnet-base</c>).</exception>
    public static List<WordNetSynset> ReadAll(string directory = DefaultDirectory)
    {
        var all = new List<WordNetSynset>();
        foreach (string part in new[] { "noun", "verb", "adj", "adv" })
        {
            string path = Path.Combine(directory, "data." + part);
            if (!File.Exists(path)) throw new FileNotFoundException($"WordNet data file {path} not found; install Debian's wordnet-base.", path);
            using var reader = new StreamReader(path);
            all.AddRange(Read(reader, path));
        }
        return all;
    }

    /// <summary>Parses the synsets of one data file.</summary>
    /// <param name="reader">The file's text.</param>
    /// <param name="source">Name used in error messages.</param>
    /// <exception cref="CheckpointFormatException">A line does not follow the format.</exception>
    public static IEnumerable<WordNetSynset> Read(TextReader reader, string source)
    {
        ArgumentNullException.ThrowIfNull(reader);
        string? line;
        int number = 0;
        while ((line = reader.ReadLine()) is not null)
        {
            number++;
            if (line.Length == 0 || line.StartsWith("  ", StringComparison.Ordinal)) continue;
            yield return ParseLine(line, source, number);
        }
    }

    /// <summary>Parses one data line.</summary>
    /// <exception cref="CheckpointFormatException">The line does not follow the format.</exception>
    public static WordNetSynset ParseLine(string line, string source, int lineNumber)
    {
        ArgumentNullException.ThrowIfNull(line);
        int bar = line.IndexOf(" | ", StringComparison.Ordinal);
        string head = bar >= 0 ? line[..bar] : line;
        string gloss = bar >= 0 ? line[(bar + 3)..].Trim() : "";
        var fields = head.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        CheckpointFormatException Bad(string what) => new(source, null, $"line {lineNumber}: {what}; expected 'offset lex_filenum ss_type w_cnt word lex_id … | gloss'.");
        if (fields.Length < 6) throw Bad($"has {fields.Length} fields before the gloss");
        if (!long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out long offset)) throw Bad($"offset '{fields[0]}' is not a number");
        if (!int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out int lex) || lex >= LexFileNames.Count)
            throw Bad($"lex_filenum '{fields[1]}' is not a lexicographer file number");
        if (fields[2].Length != 1 || "nvasr".IndexOf(fields[2][0]) < 0) throw Bad($"ss_type '{fields[2]}' is not one of n v a s r");
        if (!int.TryParse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int wordCount) || wordCount == 0 || fields.Length < 4 + 2 * wordCount)
            throw Bad($"w_cnt '{fields[3]}' does not fit the line");
        var words = new string[wordCount];
        for (int i = 0; i < wordCount; i++)
        {
            string w = fields[4 + 2 * i];
            int paren = w.IndexOf('(');  // adjective markers: (a), (p), (ip)
            words[i] = paren > 0 ? w[..paren] : w;
        }
        var (definition, examples) = SplitGloss(gloss);
        return new WordNetSynset(offset, lex, fields[2][0], words, definition, examples);
    }

    /// <summary>
    /// Splits a gloss into its definition (text before the first <c>"</c>, trailing <c>;</c> and spaces removed) and
    /// its quoted examples: <c>a dog; "the dog barked"; "a big dog"</c> → (<c>a dog</c>, [<c>the dog barked</c>, <c>a big dog</c>]).
    /// </summary>
    public static (string Definition, IReadOnlyList<string> Examples) SplitGloss(string gloss)
    {
        ArgumentNullException.ThrowIfNull(gloss);
        int quote = gloss.IndexOf('"');
        string definition = (quote >= 0 ? gloss[..quote] : gloss).TrimEnd(' ', ';');
        var examples = new List<string>();
        while (quote >= 0)
        {
            int close = gloss.IndexOf('"', quote + 1);
            if (close < 0) break;
            string ex = gloss[(quote + 1)..close].Trim();
            if (ex.Length > 0) examples.Add(ex);
            quote = gloss.IndexOf('"', close + 1);
        }
        return (definition, examples);
    }
}
