using MLNetMerge.Tensors;
using MLNetMerge.Data;

namespace MLNetMerge.Cli.Zoo;

/// <summary>Which split pool a source text belongs to; every task draws its train, validation and test examples from
/// the matching pool, so no text is ever a training (or pretraining) text of one task and a test text of another.</summary>
internal enum TextPool
{
    /// <summary>Pretraining and fine-tuning (80 %).</summary>
    Train,
    /// <summary>Validation (10 %).</summary>
    Validation,
    /// <summary>Test (10 %).</summary>
    Test,
}

/// <summary>
/// The real text the text zoo is built from, as Debian ships it: WordNet 3.0's synsets (<c>wordnet-base</c>: definitions,
/// example sentences, lexicographer files) and fortune files (<c>fortunes</c>). Each synset and each fortune is assigned
/// to a <see cref="TextPool"/> by a seeded hash of its identity (part of speech + offset; category + index).
/// </summary>
internal sealed class TextZooSources
{
    private TextZooSources(IReadOnlyList<WordNetSynset> synsets, IReadOnlyList<Fortune> fortunes, ulong seed)
    {
        Synsets = synsets;
        Fortunes = fortunes;
        Seed = seed;
        SynsetPools = synsets.Select(s => PoolOf($"{s.Pos}{s.Offset}", seed)).ToArray();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        FortunePools = fortunes.Select(f => { int i = index.GetValueOrDefault(f.Category); index[f.Category] = i + 1; return PoolOf($"{f.Category}#{i}", seed); }).ToArray();
    }

    /// <summary>Every synset of the four data files.</summary>
    public IReadOnlyList<WordNetSynset> Synsets { get; }

    /// <summary>Every fortune of the files read.</summary>
    public IReadOnlyList<Fortune> Fortunes { get; }

    /// <summary>Pool of each synset (same order).</summary>
    public IReadOnlyList<TextPool> SynsetPools { get; }

    /// <summary>Pool of each fortune (same order).</summary>
    public IReadOnlyList<TextPool> FortunePools { get; }

    /// <summary>The seed of the pool assignment.</summary>
    public ulong Seed { get; }

    /// <summary>Reads WordNet and the fortune categories.</summary>
    /// <param name="wordNetDirectory">Folder of <c>data.noun</c> etc.</param>
    /// <param name="fortuneDirectory">Folder of the fortune files.</param>
    /// <param name="fortuneCategories">Fortune files to read (every one whose texts the build uses).</param>
    /// <param name="seed">Seed of the pool assignment.</param>
    public static TextZooSources Load(string wordNetDirectory, string fortuneDirectory, IEnumerable<string> fortuneCategories, ulong seed) =>
        new(WordNetReader.ReadAll(wordNetDirectory), FortuneReader.ReadCategories(fortuneCategories, fortuneDirectory), seed);

    /// <summary>Builds from texts already read (tests).</summary>
    public static TextZooSources From(IReadOnlyList<WordNetSynset> synsets, IReadOnlyList<Fortune> fortunes, ulong seed) => new(synsets, fortunes, seed);

    /// <summary>The pool of an identity: the stream key <c>("zoo.text_pool", 0, key)</c> of the seed, mapped to [0, 1); below 0.8 train,
    /// below 0.9 validation, else test.</summary>
    public static TextPool PoolOf(string key, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(key);
        ulong h = RandomStreams.Key(seed, "zoo.text_pool", 0, key);
        double u = (h >> 11) * (1.0 / (1UL << 53));
        return u < 0.8 ? TextPool.Train : u < 0.9 ? TextPool.Validation : TextPool.Test;
    }

    /// <summary>Every text of the train pool (definitions, example sentences, fortunes): the pretraining corpus.</summary>
    public IEnumerable<string> TrainPoolTexts()
    {
        for (int i = 0; i < Synsets.Count; i++)
        {
            if (SynsetPools[i] != TextPool.Train) continue;
            if (Synsets[i].Definition.Length > 0) yield return Synsets[i].Definition;
            foreach (var ex in Synsets[i].Examples) yield return ex;
        }
        for (int i = 0; i < Fortunes.Count; i++)
            if (FortunePools[i] == TextPool.Train) yield return Fortunes[i].Text;
    }
}
