using MLNetMerge.Tensors;
using System.Globalization;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;

namespace MLNetMerge.Cli.Zoo.MiniLm;

/// <summary>A source file of the MiniLM zoo differs from the one its tasks were built from (the pinned SHA-256).</summary>
public sealed class ZooSourceMismatchException(string file, string message) : MergeException(file, null, message);

/// <summary>One Debian package of the snapshot: its source package, name, archive section and short description.</summary>
/// <param name="Source">Source package (the pool key: binary packages of one source stay in one split).</param>
/// <param name="Package">Binary package name.</param>
/// <param name="Section">Archive section (the label).</param>
/// <param name="Description">The one-line description (the text).</param>
internal sealed record DebianPackage(string Source, string Package, string Section, string Description);

/// <summary>
/// The real text the MiniLM zoo is built from, each file pinned by SHA-256 (a differing file fails the build, naming it):
/// WordNet 3.0 as Debian's <c>wordnet-base</c> 1:3.0-37 ships it (definitions, example sentences, lexicographer files);
/// six fortune files of Debian's <c>fortunes</c> 1:1.99.1-7.3; and a committed snapshot of Debian 12 package short
/// descriptions with their archive section (<c>data/zoo/minilm/sources/debian_sections.tsv</c>, written by
/// <c>tools/make_debian_sections.py</c> from the apt lists). Every synset, fortune and Debian source package is assigned
/// to a split pool by a seeded hash of its identity: train 70 %, validation 10 %, test 20 %.
/// </summary>
internal sealed class MiniLmZooSources
{
    /// <summary>Fortune files the fortune task classifies.</summary>
    public static readonly string[] FortuneCategories = ["computers", "definitions", "politics", "science", "songs-poems", "work"];

    /// <summary>SHA-256 of every source file, by the name the build reads it under.</summary>
    public static readonly IReadOnlyDictionary<string, string> PinnedSha256 = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["wordnet/data.noun"] = "fea17d2f9656611334eac790e5d69e47645fa180c4aa481fb4cd9b3520754ca2",
        ["wordnet/data.verb"] = "adcf43e35b581e8036d8b5a52d63d9cd3d3b4870b2720d3c03c799df44777bc2",
        ["wordnet/data.adj"] = "c89120dfc1f046ddff4a631bf9b7e9fa1a36b5e86565a23bf82dbe14f30b88a7",
        ["wordnet/data.adv"] = "444a63bf3955080ab7524f5079cfc07ff9bc682cb98bdb1db73b0fb9829f1139",
        ["fortunes/computers"] = "a86be224d9f733b88eeaf8a46ea0427e05cc69c69edcf5f6db47ddf561ca37fd",
        ["fortunes/definitions"] = "57be4744c353d931fa2ca95f50215d4b67539f5a527ae628a6441fb4a1258caa",
        ["fortunes/politics"] = "b56ca45a046edd5c459090a5c6b335332661b436e814b41ac87bb58065ad6131",
        ["fortunes/science"] = "7ab350b142ee6c70c1d8517c5a1b3790c09b190a62859427cad98e6e35a19fcc",
        ["fortunes/songs-poems"] = "eb714d297b468da91b6ca32baefb000279a3e3740b09f8a87db24fe58e010b1a",
        ["fortunes/work"] = "ad8a0e104160e2c4782fa86e143cd60ffab2872985d4293ffd0af6df19dbfa28",
        ["debian_sections.tsv"] = "fdfc11b1f59c1e349b2d1e1b0a331930b9b56cae4ed927bdb3c2508db2b3f680",
    };

    /// <summary>Builds from texts already read (tests).</summary>
    internal static MiniLmZooSources From(List<WordNetSynset> synsets, List<Fortune> fortunes, List<DebianPackage> debian, ulong seed) =>
        new(synsets, fortunes, debian, seed);

    private MiniLmZooSources(List<WordNetSynset> synsets, List<Fortune> fortunes, List<DebianPackage> debian, ulong seed)
    {
        Synsets = synsets;
        Fortunes = fortunes;
        Debian = debian;
        SynsetPools = synsets.Select(s => PoolOf($"{s.Pos}{s.Offset}", seed)).ToArray();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        FortunePools = fortunes.Select(f => { int i = index.GetValueOrDefault(f.Category); index[f.Category] = i + 1; return PoolOf($"{f.Category}#{i}", seed); }).ToArray();
        DebianPools = debian.Select(d => PoolOf("debian:" + d.Source, seed)).ToArray();
    }

    /// <summary>Every WordNet synset.</summary>
    public IReadOnlyList<WordNetSynset> Synsets { get; }
    /// <summary>Pool of each synset.</summary>
    public IReadOnlyList<TextPool> SynsetPools { get; }
    /// <summary>Every fortune of <see cref="FortuneCategories"/>.</summary>
    public IReadOnlyList<Fortune> Fortunes { get; }
    /// <summary>Pool of each fortune.</summary>
    public IReadOnlyList<TextPool> FortunePools { get; }
    /// <summary>Every package of the Debian snapshot.</summary>
    public IReadOnlyList<DebianPackage> Debian { get; }
    /// <summary>Pool of each package (by its source package).</summary>
    public IReadOnlyList<TextPool> DebianPools { get; }

    /// <summary>Checks every source against <see cref="PinnedSha256"/> and reads it.</summary>
    /// <exception cref="ZooSourceMismatchException">A source file differs from the pinned one.</exception>
    /// <exception cref="FileNotFoundException">A source file is missing (install <c>wordnet-base</c> and <c>fortunes</c>).</exception>
    public static MiniLmZooSources Load(string wordNetDirectory, string fortuneDirectory, string debianSnapshot, ulong seed)
    {
        foreach (var pos in new[] { "noun", "verb", "adj", "adv" }) Check(Path.Combine(wordNetDirectory, "data." + pos), "wordnet/data." + pos);
        foreach (var c in FortuneCategories) Check(Path.Combine(fortuneDirectory, c), "fortunes/" + c);
        Check(debianSnapshot, "debian_sections.tsv");
        return new MiniLmZooSources(WordNetReader.ReadAll(wordNetDirectory), FortuneReader.ReadCategories(FortuneCategories, fortuneDirectory),
            ReadDebian(debianSnapshot), seed);
    }

    /// <summary>Fails unless <paramref name="path"/> has the SHA-256 pinned for <paramref name="key"/>.</summary>
    internal static void Check(string path, string key)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: source of the MiniLM zoo not found (apt-get install wordnet-base fortunes; the Debian snapshot is committed under data/zoo/minilm/sources).", path);
        string got = FileHashes.Sha256(path), want = PinnedSha256[key];
        if (got != want)
            throw new ZooSourceMismatchException(path, $"has SHA-256 {got}; the MiniLM zoo was built from the file with SHA-256 {want} ({key}). Rebuilding from other data would silently change the tasks.");
    }

    /// <summary>Reads the Debian snapshot: <c>#</c> comment lines, then <c>source, package, section, description</c> per line, tab-separated.</summary>
    public static List<DebianPackage> ReadDebian(string path)
    {
        var list = new List<DebianPackage>();
        int line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (text.Length == 0 || text[0] == '#') continue;
            var f = text.Split('\t');
            if (f.Length != 4) throw new ZooSourceMismatchException(path, $"line {line.ToString(CultureInfo.InvariantCulture)} has {f.Length} fields; source, package, section, description expected.");
            list.Add(new DebianPackage(f[0], f[1], f[2], f[3]));
        }
        return list;
    }

    /// <summary>The pool of an identity: the stream key <c>("zoo.minilm_pool", 0, key)</c> of the seed, mapped to [0, 1); below 0.7
    /// train, below 0.8 validation, else test.</summary>
    public static TextPool PoolOf(string key, ulong seed)
    {
        ulong h = RandomStreams.Key(seed, "zoo.minilm_pool", 0, key);
        double u = (h >> 11) * (1.0 / (1UL << 53));
        return u < 0.7 ? TextPool.Train : u < 0.8 ? TextPool.Validation : TextPool.Test;
    }
}
