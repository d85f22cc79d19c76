using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using MLNetMerge.Text;

namespace MLNetMerge.Tests;

/// <summary>
/// ByteLevelBpeTokenizer (GPT-2 / RoBERTa) on a hand-made vocabulary and merge list whose results are derived by hand
/// in the comments: at each step the adjacent pair with the lowest rank is merged everywhere in the piece.
/// </summary>
[TestClass]
public sealed class ByteLevelBpeTokenizerTests
{
    private static readonly string[] VocabList =
    [
        "<s>", "<pad>", "</s>", "<unk>", "<mask>",             // 0-4
        "H", "e", "l", "o", "Ġ", "w", "r", "d",                // 5-12
        "ll", "Ġw", "or", "He", "Hell", "Hello", "Ġwor", "Ġworl", // 13-20
        "2", "0", "4", "20", "202", "Ġ4", "Ġ42",               // 21-27
        "ð", "Ł", "ĺ", "Ģ", "!", "'", "t", "n", "el",          // 28-36: ð Ł ĺ Ģ are the bytes F0 9F 98 80 of 😀
    ];

    // rank = position
    private static readonly (string, string)[] Merges =
    [
        ("l", "l"),      // 0
        ("Ġ", "w"),      // 1
        ("o", "r"),      // 2
        ("H", "e"),      // 3
        ("He", "ll"),    // 4
        ("Hell", "o"),   // 5
        ("Ġw", "or"),    // 6
        ("Ġwor", "l"),   // 7
        ("e", "l"),      // 8
        ("2", "0"),      // 9
        ("20", "2"),     // 10
        ("Ġ", "4"),      // 11
        ("Ġ4", "2"),     // 12
    ];

    private static Dictionary<string, int> Vocab => VocabList.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i);

    private static ByteLevelBpeTokenizer Create(ByteLevelBpeTokenizer.Options? options = null) =>
        ByteLevelBpeTokenizer.Create(Vocab, Merges, options);

    [TestMethod]
    public void Alphabet_MapsBytesAsGpt2Does()
    {
        // printable bytes map to themselves; the 68 others, in order 0..32, 127..160, 173, to U+0100 + n
        Assert.AreEqual('A', ByteLevelAlphabet.ByteToChar((byte)'A'));
        Assert.AreEqual('\u00A1', ByteLevelAlphabet.ByteToChar(161));
        Assert.AreEqual('\u0100', ByteLevelAlphabet.ByteToChar(0));     // n = 0
        Assert.AreEqual('\u010A', ByteLevelAlphabet.ByteToChar(10));    // newline, n = 10: Ċ
        Assert.AreEqual('\u0120', ByteLevelAlphabet.ByteToChar(32));    // space, n = 32: Ġ
        Assert.AreEqual('\u0121', ByteLevelAlphabet.ByteToChar(127));   // n = 33
        Assert.AreEqual('\u0142', ByteLevelAlphabet.ByteToChar(160));   // n = 33 + 33 = 66
        Assert.AreEqual('\u0143', ByteLevelAlphabet.ByteToChar(173));   // n = 67: Ń
        var seen = new HashSet<char>();
        for (int b = 0; b < 256; b++)
        {
            char c = ByteLevelAlphabet.ByteToChar((byte)b);
            Assert.IsTrue(seen.Add(c));
            Assert.IsTrue(ByteLevelAlphabet.TryCharToByte(c, out byte back));
            Assert.AreEqual((byte)b, back);
        }
        Assert.IsFalse(ByteLevelAlphabet.TryCharToByte('\u0144', out _));
        // 😀 = F0 9F 98 80: F0 printable -> ð; 9F -> n = 33 + 32 = 65 -> U+0141 Ł; 98 -> n = 58 -> U+013A ĺ; 80 -> n = 34 -> U+0122 Ģ
        Assert.AreEqual("ðŁĺĢ", ByteLevelAlphabet.Encode(System.Text.Encoding.UTF8.GetBytes("😀")));
    }

    [TestMethod]
    public void PreTokenizer_FollowsGpt2Pattern()
    {
        // contractions split off; a space joins the following word; of two spaces before a word only the last joins it;
        // runs of other symbols stay together; trailing whitespace is its own piece
        var pieces = new List<string>();
        Gpt2PreTokenizer.Split("I'm here  now!! 42x\n", pieces);
        CollectionAssert.AreEqual(new[] { "I", "'m", " here", " ", " now", "!!", " 42", "x", "\n" }, pieces);
        pieces.Clear();
        Gpt2PreTokenizer.Split("don't", pieces);
        CollectionAssert.AreEqual(new[] { "don", "'t" }, pieces);
    }

    [TestMethod]
    public void Merges_LowestRankFirst()
    {
        // "Hello": H e l l o; ranked pairs (H,e)=3 (e,l)=8 (l,l)=0 -> ll: H e ll o; (H,e)=3 -> He ll o; (He,ll)=4 -> Hell o;
        // (Hell,o)=5 -> Hello.
        // " world": Ġ w o r l d; (Ġ,w)=1 -> Ġw o r l d; (o,r)=2 -> Ġw or l d; (Ġw,or)=6 -> Ġwor l d; (Ġwor,l)=7 -> Ġworl d;
        // (Ġworl,d) has no rank -> Ġworl, d.
        var tokenizer = Create();
        CollectionAssert.AreEqual(new[] { 18, 20, 12 }, tokenizer.EncodeToIds("Hello world").ToArray());
        CollectionAssert.AreEqual(new[] { "Hello", "Ġworl", "d" }, tokenizer.Tokenize("Hello world").ToArray());
        // "ell": (e,l)=8 and (l,l)=0 overlap; rank 0 wins -> e ll (merging left-first would give el l)
        CollectionAssert.AreEqual(new[] { "e", "ll" }, tokenizer.Tokenize("ell").ToArray());
        // every occurrence merges, left to right without overlap: "llll" -> ll ll, "lll" -> ll l
        CollectionAssert.AreEqual(new[] { 13, 13 }, tokenizer.EncodeToIds("llll").ToArray());
        CollectionAssert.AreEqual(new[] { 13, 7 }, tokenizer.EncodeToIds("lll").ToArray());
    }

    [TestMethod]
    public void Digits_AndLeadingSpace()
    {
        // "2024": 2 0 2 4; (2,0)=9 -> 20 2 4; (20,2)=10 -> 202 4; no more -> 202, 4
        CollectionAssert.AreEqual(new[] { "202", "4" }, Create().Tokenize("2024").ToArray());
        // "Hello 42" -> "Hello", " 42" = Ġ 4 2; (Ġ,4)=11 -> Ġ4 2; (Ġ4,2)=12 -> Ġ42
        CollectionAssert.AreEqual(new[] { 18, 27 }, Create().EncodeToIds("Hello 42").ToArray());
        // "world" without a space: w o r l d; (o,r)=2 -> w or l d; nothing else ranked
        CollectionAssert.AreEqual(new[] { "w", "or", "l", "d" }, Create().Tokenize("world").ToArray());
        // AddPrefixSpace turns it into " world" -> Ġworl d
        CollectionAssert.AreEqual(new[] { "Ġworl", "d" }, Create(new() { AddPrefixSpace = true }).Tokenize("world").ToArray());
    }

    [TestMethod]
    public void Emoji_FallsBackToBytes()
    {
        // " 😀" = Ġ ð Ł ĺ Ģ with no merges among them -> five byte tokens
        CollectionAssert.AreEqual(new[] { 9, 28, 29, 30, 31 }, Create().EncodeToIds(" 😀").ToArray());
        // "Hez": (H,e)=3 -> He z; "z" is not in the vocabulary -> <unk>
        CollectionAssert.AreEqual(new[] { 16, 3 }, Create().EncodeToIds("Hez").ToArray());
    }

    [TestMethod]
    public void MissingSymbolWithoutUnknown_IsAFormatError()
    {
        var tokenizer = Create(new() { UnknownToken = "<none>" });
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => tokenizer.EncodeToIds("z"));
        StringAssert.Contains(e.Message, "'z'");
    }

    [TestMethod]
    public void Decode_RestoresTextIncludingEmoji()
    {
        var tokenizer = Create();
        var e = tokenizer.Encode("Hello world 😀");
        // <s> Hello Ġworl d Ġ ð Ł ĺ Ģ </s>
        CollectionAssert.AreEqual(new[] { 0, 18, 20, 12, 9, 28, 29, 30, 31, 2 }, e.Ids);
        Assert.AreEqual("Hello world 😀", tokenizer.Decode(e.Ids));
        Assert.AreEqual("<s>Hello world 😀</s>", tokenizer.Decode(e.Ids, skipSpecialTokens: false));
        // an incomplete UTF-8 sequence (F0 9F) decodes to one replacement character
        Assert.AreEqual("\uFFFD", tokenizer.Decode([28, 29]));
    }

    [TestMethod]
    public void Pair_UsesRobertaFormat()
    {
        // <s> Hello </s></s> w or l d </s>, all type ids 0
        var e = Create().Encode("Hello", "world");
        CollectionAssert.AreEqual(new[] { 0, 18, 2, 2, 10, 15, 7, 12, 2 }, e.Ids);
        CollectionAssert.AreEqual(new int[9], e.TypeIds);
        CollectionAssert.AreEqual(Enumerable.Repeat(1, 9).ToArray(), e.AttentionMask);
    }

    [TestMethod]
    public void MaskToken_AbsorbsPrecedingSpace()
    {
        // "Hello <mask>!" -> "Hello " <mask> "!" -> the space before <mask> is dropped -> Hello <mask> !
        CollectionAssert.AreEqual(new[] { 18, 4, 32 }, Create().EncodeToIds("Hello <mask>!").ToArray());
        // other special tokens keep the text around them as is: "Hello </s>" -> Hello Ġ </s>
        CollectionAssert.AreEqual(new[] { 18, 9, 2 }, Create().EncodeToIds("Hello </s>").ToArray());
    }

    [TestMethod]
    public void TruncationAndPadding()
    {
        // MaxLength 4 leaves 2 pieces: <s> Hello Ġworl </s>
        CollectionAssert.AreEqual(new[] { 0, 18, 20, 2 }, Create(new() { MaxLength = 4 }).Encode("Hello world").Ids);
        var padded = Create(new() { PaddingLength = 6 }).Encode("Hello");
        // <s> Hello </s> <pad> <pad> <pad>
        CollectionAssert.AreEqual(new[] { 0, 18, 2, 1, 1, 1 }, padded.Ids);
        CollectionAssert.AreEqual(new[] { 1, 1, 1, 0, 0, 0 }, padded.AttentionMask);
        var batch = Create().EncodeBatch(["Hello world", "ell"]);
        // row 0: <s> Hello Ġworl d </s>; row 1: <s> e ll </s> <pad>
        CollectionAssert.AreEqual(new[] { 2, 5 }, batch.Shape);
        CollectionAssert.AreEqual(new long[] { 0, 18, 20, 12, 2, 0, 6, 13, 2, 1 }, batch.InputIds);
        CollectionAssert.AreEqual(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 }, batch.AttentionMask);
    }

    [TestMethod]
    public void Gpt2Style_NoSpecialTokens()
    {
        var vocab = VocabList.Skip(5).Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i); // no specials at all
        Assert.ThrowsExactly<CheckpointFormatException>(() => ByteLevelBpeTokenizer.Create(vocab, Merges));
        var gpt2 = ByteLevelBpeTokenizer.Create(vocab, Merges, new() { AddSpecialTokens = false });
        // Hello Ġworl d -> ids shifted down by 5
        CollectionAssert.AreEqual(new[] { 13, 15, 7 }, gpt2.Encode("Hello world").Ids);
        Assert.ThrowsExactly<InvalidOperationException>(() => gpt2.EncodeBatch(["Hello", "Hello world"])); // padding needs a pad token
    }

    [TestMethod]
    public void Load_ReadsVocabJsonAndMergesTxt()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-bpe-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string vocabPath = Path.Combine(dir, "vocab.json"), mergesPath = Path.Combine(dir, "merges.txt");
            File.WriteAllText(vocabPath, JsonSerializer.Serialize(Vocab));
            File.WriteAllText(mergesPath, "#version: 0.2\n" + string.Join("\n", Merges.Select(m => m.Item1 + " " + m.Item2)) + "\n");
            var tokenizer = ByteLevelBpeTokenizer.Load(vocabPath, mergesPath);
            Assert.AreEqual(13, tokenizer.MergeCount);
            Assert.AreEqual(37, tokenizer.VocabularySize);
            CollectionAssert.AreEqual(new[] { 0, 18, 20, 12, 2 }, tokenizer.Encode("Hello world").Ids);

            File.WriteAllText(mergesPath, "#version: 0.2\nl l\nH e x\n");
            var e = Assert.ThrowsExactly<CheckpointFormatException>(() => ByteLevelBpeTokenizer.Load(vocabPath, mergesPath));
            StringAssert.Contains(e.Message, "line 3");
            StringAssert.Contains(e.Message, "merges.txt");

            File.WriteAllText(vocabPath, "[1, 2]");
            Assert.ThrowsExactly<CheckpointFormatException>(() => ByteLevelBpeTokenizer.Load(vocabPath, mergesPath));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>
/// ByteLevelBpeTokenizer against reference encodings from tools/make_bpe_fixture.py: 400 merges trained on Debian's
/// license texts, encodings of held-out GPL-3 paragraphs and multi-script strings by a Python encoder following GPT-2.
/// </summary>
[TestClass]
public sealed class ByteLevelBpeReferenceTests
{
    [TestMethod]
    public void MatchesPythonReferenceAndRoundTrips()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "bpe");
        var tokenizer = ByteLevelBpeTokenizer.Load(Path.Combine(dir, "vocab.json"), Path.Combine(dir, "merges.txt"));
        Assert.AreEqual(400, tokenizer.MergeCount);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "cases.json")));
        int n = 0;
        foreach (var c in doc.RootElement.EnumerateArray())
        {
            string text = c.GetProperty("text").GetString()!;
            var expected = c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var ids = tokenizer.EncodeToIds(text).ToArray();
            CollectionAssert.AreEqual(expected, ids, $"case {n}: {text}");
            Assert.AreEqual(text, tokenizer.Decode(ids), $"case {n} round trip");
            n++;
        }
        Assert.AreEqual(40, n);
    }
}
