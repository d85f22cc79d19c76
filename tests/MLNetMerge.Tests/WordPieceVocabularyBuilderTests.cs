using Microsoft.VisualStudio.TestTools.UnitTesting;
using MLNetMerge.Text;
using MLNetMerge.Cli.Zoo;

namespace MLNetMerge.Tests;

/// <summary>
/// WordPieceVocabularyBuilder on a tiny corpus with word counts hug 10, pug 5, pun 12, bun 4, hugs 5, whose merge
/// sequences are worked out by hand below for both criteria.
/// </summary>
[TestClass]
public sealed class WordPieceVocabularyBuilderTests
{
    private static readonly string[] Specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    // alphabet in code point order: b g h n p s u, then the ## forms -> 5 + 7 + 7 = 19 initial tokens
    private static readonly string[] Initial =
        [.. Specials, "b", "g", "h", "n", "p", "s", "u", "##b", "##g", "##h", "##n", "##p", "##s", "##u"];

    private static IEnumerable<string> Corpus()
    {
        // texts mixing the words; only the counts matter: hug 10, pug 5, pun 12, bun 4, hugs 5
        var words = new List<string>();
        words.AddRange(Enumerable.Repeat("hug", 10));
        words.AddRange(Enumerable.Repeat("Pug", 5));   // lower-cased
        words.AddRange(Enumerable.Repeat("pun", 12));
        words.AddRange(Enumerable.Repeat("bun", 4));
        words.AddRange(Enumerable.Repeat("hugs", 5));
        for (int i = 0; i < words.Count; i += 4) yield return string.Join(" ", words.Skip(i).Take(4));
    }

    [TestMethod]
    public void Frequency_MergesMostFrequentPairs()
    {
        // words: h ##u ##g (10), p ##u ##g (5), p ##u ##n (12), b ##u ##n (4), h ##u ##g ##s (5)
        // pair counts: (##u,##g) 20, (##u,##n) 16, (p,##u) 17, (h,##u) 15, (##g,##s) 5, (b,##u) 4
        // 1: (##u,##g) 20 -> ##ug          pairs then: (h,##ug) 15, (p,##ug) 5, (p,##u) 12, (##u,##n) 16, (b,##u) 4, (##ug,##s) 5
        // 2: (##u,##n) 16 -> ##un          pairs: (h,##ug) 15, (p,##ug) 5, (p,##un) 12, (b,##un) 4, (##ug,##s) 5
        // 3: (h,##ug) 15 -> hug            pairs: (p,##ug) 5, (p,##un) 12, (b,##un) 4, (hug,##s) 5
        // 4: (p,##un) 12 -> pun            pairs: (p,##ug) 5, (b,##un) 4, (hug,##s) 5
        // 5: tie at 5: "hugs" < "pug" ordinally -> hugs
        // 6: (p,##ug) 5 -> pug;  7: (b,##un) 4 -> bun;  then no pairs are left
        var options = new WordPieceVocabularyBuilder.Options { Criterion = WordPieceMergeCriterion.Frequency, VocabularySize = 100 };
        var vocab = WordPieceVocabularyBuilder.Build(Corpus(), options);
        CollectionAssert.AreEqual(Initial.Concat(["##ug", "##un", "hug", "pun", "hugs", "pug", "bun"]).ToArray(), vocab.ToArray());
    }

    [TestMethod]
    public void Frequency_StopsAtTargetSizeAndMinFrequency()
    {
        var options = new WordPieceVocabularyBuilder.Options { Criterion = WordPieceMergeCriterion.Frequency, VocabularySize = 24 };
        // 19 initial + 5 merges
        CollectionAssert.AreEqual(Initial.Concat(["##ug", "##un", "hug", "pun", "hugs"]).ToArray(), WordPieceVocabularyBuilder.Build(Corpus(), options).ToArray());
        // (b,##un) occurs 4 < 5 times, so the last merge is not made
        options = new() { Criterion = WordPieceMergeCriterion.Frequency, VocabularySize = 100, MinPairFrequency = 5 };
        Assert.AreEqual("pug", WordPieceVocabularyBuilder.Build(Corpus(), options)[^1]);
        // a target below the alphabet keeps every character
        options = new() { VocabularySize = 3 };
        CollectionAssert.AreEqual(Initial, WordPieceVocabularyBuilder.Build(Corpus(), options).ToArray());
    }

    [TestMethod]
    public void Likelihood_MergesPairsWhosePartsRarelyOccurApart()
    {
        // score = count(ab) / (count(a) count(b)); piece counts h 15, p 17, b 4, ##u 36, ##g 20, ##n 16, ##s 5
        // 1: (##g,##s) 5/(20*5) = 1/20; every other pair scores 1/36 -> ##gs
        // 2: all pairs 1/36 ((h,##u) 15/(15*36), (p,##u) 17/(17*36), ...); highest count (p,##u) 17 -> pu
        // 3: (h,##u) 15/(15*19), (b,##u) 4/(4*19), (##u,##gs) 5/(19*5) tie at 1/19; highest count 15 -> hu
        // 4: (b,##u) 4/(4*4) = 1/4 -> bu
        // 5: (hu,##gs) 5/(15*5) = 1/15 beats (bu,##n) 4/(4*16) = 1/16, (hu,##g) 10/225, (pu,##n) 12/272 -> hugs
        // 6: (hu,##g) 10/(10*15) = 1/15 beats (bu,##n) 1/16 -> hug
        // 7: (bu,##n) 4/(4*16) = 1/16 beats (pu,##g) 5/(17*5) = 1/17 and (pu,##n) 12/(17*16) -> bun
        // 8: (pu,##g) 5/(17*5) = 1/17 ties (pu,##n) 12/(17*12) = 1/17; higher count 12 -> pun
        // 9: (pu,##g) 5/(5*5) -> pug
        var vocab = WordPieceVocabularyBuilder.Build(Corpus(), new() { VocabularySize = 100 });
        CollectionAssert.AreEqual(Initial.Concat(["##gs", "pu", "hu", "bu", "hugs", "hug", "bun", "pun", "pug"]).ToArray(), vocab.ToArray());
    }

    [TestMethod]
    public void Result_DoesNotDependOnCorpusOrder()
    {
        var forward = WordPieceVocabularyBuilder.Build(Corpus());
        var backward = WordPieceVocabularyBuilder.Build(Corpus().Reverse());
        CollectionAssert.AreEqual(forward.ToArray(), backward.ToArray());
    }

    [TestMethod]
    public void BuiltVocabulary_LoadsIntoTheTokenizer()
    {
        string path = Path.Combine(Path.GetTempPath(), "mlnetmerge-built-" + Guid.NewGuid().ToString("N"), "vocab.txt");
        try
        {
            var vocab = WordPieceVocabularyBuilder.BuildToFile(Corpus(), path, new() { VocabularySize = 100 });
            Assert.AreEqual(string.Join("\n", vocab) + "\n", File.ReadAllText(path));
            var tokenizer = WordPieceTokenizer.Load(path);
            // corpus words are single tokens; "bugs" (unseen) -> greedy "bu" then "##gs"; "hugz" -> "z" unseen -> [UNK]
            CollectionAssert.AreEqual(new[] { "hugs", "pug", "bun", "bu", "##gs", "[UNK]" }, tokenizer.Tokenize("Hugs pug bun bugs hugz").ToArray());
            Assert.AreEqual(2, tokenizer.Encode("hug").Ids[0]); // [CLS] is id 2
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [TestMethod]
    public void Words_AreNormalisedLikeTheTokenizer()
    {
        // "Café!" -> cafe ! ; alphabet ! a c e f; no pair occurs twice, so no merges
        var vocab = WordPieceVocabularyBuilder.Build(["Café!"], new() { SpecialTokens = ["[UNK]"] });
        CollectionAssert.AreEqual(new[] { "[UNK]", "!", "a", "c", "e", "f", "##!", "##a", "##c", "##e", "##f" }, vocab.ToArray());
    }
}
