using Microsoft.VisualStudio.TestTools.UnitTesting;
using MLNetMerge.Text;

namespace MLNetMerge.Tests;

/// <summary>WordPieceTokenizer (BERT) on a hand-made vocabulary; every expected token list is worked out in a comment.</summary>
[TestClass]
public sealed class WordPieceTokenizerTests
{
    // id: token
    private static readonly string[] Vocab =
    [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",   // 0-4
        "hello", "world", "don", "'", "t", "!",         // 5-10
        "un", "##aff", "##able", ",", ".",              // 11-15
        "中", "国", "cafe", "##s",                      // 16-19
        "\u1112", "##\u1161", "##\u11AB",               // 20-22: Hangul jamo ᄒ, ##ᅡ, ##ᆫ
    ];

    private static WordPieceTokenizer Create(WordPieceTokenizer.Options? options = null) => WordPieceTokenizer.Create(Vocab, options);

    private static string[] Tokens(string text, WordPieceTokenizer.Options? options = null) => [.. Create(options).Tokenize(text)];

    [TestMethod]
    public void BasicTokenizer_CleansLowerCasesStripsAndSplits()
    {
        // "Héllo," -> lower "héllo," -> NFD minus Mn "hello," -> punctuation split: hello ,
        // "don't!" -> don ' t !   ;  CJK ideographs become words of their own.
        var words = new List<string>();
        new BertBasicTokenizer(lowerCase: true, stripAccents: true, tokenizeCjk: true).Split("Héllo, don't! 中国x", words);
        CollectionAssert.AreEqual(new[] { "hello", ",", "don", "'", "t", "!", "中", "国", "x" }, words);
    }

    [TestMethod]
    public void LowerCasing_IsPerCharacter_AsHuggingFacesTokenizers()
    {
        // Hugging Face lower-cases one character at a time (the slow tokenizer before its basic tokenizer, the fast one by
        // char::to_lowercase): Σ is σ wherever it stands — "ΟΔΟΣ" -> "οδοσ", not str.lower()'s final "οδος" (ids
        // [ο ##δ ##ο ##σ] in MiniLM's vocabulary, not [ο ##δ ##ος]); İ -> i + U+0307, whose dot the accent stripping then
        // removes: "İstanbul" -> "istanbul"
        Assert.AreEqual("\u03BF\u03B4\u03BF\u03C3", UnicodeText.ToLowerLikeHuggingFace("\u039F\u0394\u039F\u03A3"));
        Assert.AreEqual("\u03B1\u03C3'\u03B1", UnicodeText.ToLowerLikeHuggingFace("\u0391\u03A3'\u0391"));
        Assert.AreEqual("\u03C3", UnicodeText.ToLowerLikeHuggingFace("\u03A3"));
        Assert.AreEqual("\u03B1\u03B8\u03B7\u03BD\u03B1\u03C3 2004", UnicodeText.ToLowerLikeHuggingFace("\u0391\u0398\u0397\u039D\u0391\u03A3 2004"));
        Assert.AreEqual("i\u0307stanbul", UnicodeText.ToLowerLikeHuggingFace("\u0130stanbul"));
        var words = new List<string>();
        new BertBasicTokenizer(lowerCase: true, stripAccents: true, tokenizeCjk: true).Split("\u0130stanbul", words);
        CollectionAssert.AreEqual(new[] { "istanbul" }, words);
    }

    [TestMethod]
    public void Accents_AreStrippedAfterLowerCasing()
    {
        // "Héllo" -> hello (5); "CAFÉS" -> "cafés" -> "cafes" -> greedy: "cafes"? no, "cafe" yes; "##s" yes -> cafe ##s
        CollectionAssert.AreEqual(new[] { "hello" }, Tokens("Héllo"));
        CollectionAssert.AreEqual(new[] { "cafe", "##s" }, Tokens("CAFÉS"));
        CollectionAssert.AreEqual(new[] { 18, 19 }, Create().EncodeToIds("CAFÉS").ToArray());
        // a decomposed accent (e + U+0301 combining acute, category Mn) is dropped too
        CollectionAssert.AreEqual(new[] { "cafe" }, Tokens("cafe\u0301"));
    }

    [TestMethod]
    public void StripAccentsOff_KeepsTheAccentedWord()
    {
        // lower-case only: "café" is not in the vocabulary and no prefix "c", "ca", "caf", "café" is -> [UNK]
        CollectionAssert.AreEqual(new[] { "[UNK]" }, Tokens("Café", new() { StripAccents = false }));
        // cased vocabulary (LowerCase = false): accent stripping follows LowerCase, so "Hello" stays "Hello" -> [UNK]
        CollectionAssert.AreEqual(new[] { "[UNK]" }, Tokens("Hello", new() { LowerCase = false }));
        CollectionAssert.AreEqual(new[] { "hello" }, Tokens("hello", new() { LowerCase = false }));
    }

    [TestMethod]
    public void Hangul_DecomposesIntoJamoWhenStrippingAccents()
    {
        // 한 = U+D55C: s = 0xD55C - 0xAC00 = 10588; L = 0x1100 + 10588/588 = 0x1112, V = 0x1161 + (10588%588)/28 = 0x1161,
        // T = 0x11A7 + 10588%28 = 0x11AB -> WordPiece over "\u1112\u1161\u11AB": ᄒ ##ᅡ ##ᆫ
        CollectionAssert.AreEqual(new[] { 20, 21, 22 }, Create().EncodeToIds("한").ToArray());
    }

    [TestMethod]
    public void Punctuation_IsSplitOff()
    {
        // "don't!" -> don ' t !
        CollectionAssert.AreEqual(new[] { "don", "'", "t", "!" }, Tokens("don't!"));
        CollectionAssert.AreEqual(new[] { 7, 8, 9, 10 }, Create().EncodeToIds("don't!").ToArray());
        // '$' (ASCII 36, Unicode Sc) counts as punctuation in BERT: "hello$world" -> hello $ world -> hello [UNK] world
        CollectionAssert.AreEqual(new[] { "hello", "[UNK]", "world" }, Tokens("hello$world"));
        // « and » (Pi, Pf) are split: [UNK] hello [UNK]
        CollectionAssert.AreEqual(new[] { "[UNK]", "hello", "[UNK]" }, Tokens("«hello»"));
    }

    [TestMethod]
    public void WordPieces_GreedyLongestMatchFirst()
    {
        // "unaffable": from 0 the longest prefix in the vocabulary is "un"; from 2 "##aff"; from 5 "##able"
        CollectionAssert.AreEqual(new[] { "un", "##aff", "##able" }, Tokens("unaffable"));
        CollectionAssert.AreEqual(new[] { 11, 12, 13 }, Create().EncodeToIds("unaffable").ToArray());
    }

    [TestMethod]
    public void UnknownWords_BecomeOneUnk()
    {
        // "xyz" has no piece at all; "unaffablez" segments un ##aff ##able and then "##z" fails -> the whole word is [UNK]
        CollectionAssert.AreEqual(new[] { "hello", "[UNK]" }, Tokens("hello xyz"));
        CollectionAssert.AreEqual(new[] { "[UNK]" }, Tokens("unaffablez"));
        // an emoji (So, not punctuation) not in the vocabulary
        CollectionAssert.AreEqual(new[] { "hello", "[UNK]" }, Tokens("hello 😀"));
    }

    [TestMethod]
    public void LongWords_AreUnknownWithoutSearch()
    {
        var options = new WordPieceTokenizer.Options { MaxInputCharactersPerWord = 5 };
        CollectionAssert.AreEqual(new[] { "hello" }, Tokens("hello", options));      // 5 characters: allowed
        CollectionAssert.AreEqual(new[] { "[UNK]" }, Tokens("unaffable", options));  // 9 > 5
    }

    [TestMethod]
    public void Cjk_CharactersAreSingleTokens()
    {
        // "中国hello" -> " 中  国 hello" -> 中 国 hello; 文 is not in the vocabulary -> [UNK]
        CollectionAssert.AreEqual(new[] { 16, 17, 5 }, Create().EncodeToIds("中国hello").ToArray());
        CollectionAssert.AreEqual(new[] { "中", "[UNK]" }, Tokens("中文"));
        // without CJK splitting "中国hello" is one word with no segmentation
        CollectionAssert.AreEqual(new[] { "[UNK]" }, Tokens("中国hello", new() { TokenizeChineseCharacters = false }));
    }

    [TestMethod]
    public void ControlCharacters_AreDroppedAndWhitespaceNormalised()
    {
        // NUL and U+200B (format, Cf) vanish inside the word; tab, newline, no-break space separate words
        CollectionAssert.AreEqual(new[] { "hello", "world" }, Tokens("hel\0lo\u200B\tworld"));
        CollectionAssert.AreEqual(new[] { "hello", "world" }, Tokens("  hello\u00A0\n world\uFFFD "));
    }

    [TestMethod]
    public void SpecialTokensInText_MapToTheirIds()
    {
        // "[MASK]" typed in the text is not lower-cased or split: hello [MASK] world -> 5 4 6
        CollectionAssert.AreEqual(new[] { 5, 4, 6 }, Create().EncodeToIds("Hello [MASK] world").ToArray());
        // with splitting off: "[MASK]" -> "[", "mask", "]" -> [UNK] [UNK] [UNK]
        CollectionAssert.AreEqual(new[] { 1, 1, 1 }, Create(new() { SplitOnSpecialTokens = false }).EncodeToIds("[MASK]").ToArray());
    }

    [TestMethod]
    public void Encode_Single_AddsClsAndSep()
    {
        var e = Create().Encode("Hello, world.");
        // [CLS] hello , world . [SEP]
        CollectionAssert.AreEqual(new[] { 2, 5, 14, 6, 15, 3 }, e.Ids);
        CollectionAssert.AreEqual(new[] { "[CLS]", "hello", ",", "world", ".", "[SEP]" }, e.Tokens);
        CollectionAssert.AreEqual(new[] { 0, 0, 0, 0, 0, 0 }, e.TypeIds);
        CollectionAssert.AreEqual(new[] { 1, 1, 1, 1, 1, 1 }, e.AttentionMask);
    }

    [TestMethod]
    public void Encode_Pair_SetsTokenTypes()
    {
        // [CLS] hello world [SEP] don ' t [SEP]; type 1 from "don" through the final [SEP]
        var e = Create().Encode("hello world", "don't");
        CollectionAssert.AreEqual(new[] { 2, 5, 6, 3, 7, 8, 9, 3 }, e.Ids);
        CollectionAssert.AreEqual(new[] { 0, 0, 0, 0, 1, 1, 1, 1 }, e.TypeIds);
        CollectionAssert.AreEqual(new[] { 1, 1, 1, 1, 1, 1, 1, 1 }, e.AttentionMask);
    }

    [TestMethod]
    public void Truncation_Single()
    {
        // "hello world don't" -> 5 pieces; MaxLength 4 leaves 4 - 2 = 2: [CLS] hello world [SEP]
        var e = Create(new() { MaxLength = 4 }).Encode("hello world don't");
        CollectionAssert.AreEqual(new[] { 2, 5, 6, 3 }, e.Ids);
    }

    [TestMethod]
    public void Truncation_Pair_LongestFirst()
    {
        var tokenizer = Create(new() { MaxLength = 7 }); // budget 7 - 3 = 4
        // a = hello (1), b = don ' t ! world (5): shorter keeps 1, longer gets max(1, 4 - 1) = 3
        CollectionAssert.AreEqual(new[] { 2, 5, 3, 7, 8, 9, 3 }, tokenizer.Encode("hello", "don't! world").Ids);
        // a = hello world hello (3), b = don ' t ! (4): max(3, 4 - 3) = 3, 3 + 3 > 4 -> both get 4 / 2 = 2
        CollectionAssert.AreEqual(new[] { 2, 5, 6, 3, 7, 8, 3 }, tokenizer.Encode("hello world hello", "don't!").Ids);
        // tie 3 and 3 with budget 8 - 3 = 5: halves 2 and 2 + 1, the extra token to the second text
        var tie = Create(new() { MaxLength = 8 }).Encode("hello world hello", "don't");
        CollectionAssert.AreEqual(new[] { 2, 5, 6, 3, 7, 8, 9, 3 }, tie.Ids);
        CollectionAssert.AreEqual(new[] { 0, 0, 0, 0, 1, 1, 1, 1 }, tie.TypeIds);
    }

    [TestMethod]
    public void Truncation_TooShortForSpecials_Throws()
    {
        Assert.ThrowsExactly<InvalidOperationException>(() => Create(new() { MaxLength = 2 }).Encode("a", "b"));
    }

    [TestMethod]
    public void Padding_ToFixedLength_WithMask()
    {
        var e = Create(new() { PaddingLength = 6 }).Encode("Hello");
        // [CLS] hello [SEP] [PAD] [PAD] [PAD]
        CollectionAssert.AreEqual(new[] { 2, 5, 3, 0, 0, 0 }, e.Ids);
        CollectionAssert.AreEqual(new[] { 1, 1, 1, 0, 0, 0 }, e.AttentionMask);
        CollectionAssert.AreEqual(new[] { 0, 0, 0, 0, 0, 0 }, e.TypeIds);
        CollectionAssert.AreEqual(new[] { "[CLS]", "hello", "[SEP]", "[PAD]", "[PAD]", "[PAD]" }, e.Tokens);
    }

    [TestMethod]
    public void Batch_PadsToLongestAsInt64()
    {
        var batch = Create().EncodeBatch(["hello", "hello world !"]);
        // row 0: [CLS] hello [SEP] [PAD] [PAD]; row 1: [CLS] hello world ! [SEP]
        CollectionAssert.AreEqual(new[] { 2, 5 }, batch.Shape);
        CollectionAssert.AreEqual(new long[] { 2, 5, 3, 0, 0, 2, 5, 6, 10, 3 }, batch.InputIds);
        CollectionAssert.AreEqual(new long[] { 1, 1, 1, 0, 0, 1, 1, 1, 1, 1 }, batch.AttentionMask);
        CollectionAssert.AreEqual(new long[10], batch.TokenTypeIds);
    }

    [TestMethod]
    public void Batch_Pairs_FixedLength()
    {
        var batch = Create(new() { PaddingLength = 6 }).EncodeBatch([("hello", "world"), ("don't", "!")]);
        // row 0: [CLS] hello [SEP] world [SEP] [PAD]       types 0 0 0 1 1 0
        // row 1: [CLS] don ' t [SEP] ! [SEP] -> 7 > 6, not cut by padding; T = 7
        CollectionAssert.AreEqual(new[] { 2, 7 }, batch.Shape);
        CollectionAssert.AreEqual(new long[] { 2, 5, 3, 6, 3, 0, 0, 2, 7, 8, 9, 3, 10, 3 }, batch.InputIds);
        CollectionAssert.AreEqual(new long[] { 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1 }, batch.TokenTypeIds);
        CollectionAssert.AreEqual(new long[] { 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1 }, batch.AttentionMask);
    }

    [TestMethod]
    public void Batch_WritesAsInt64Npy()
    {
        // the embed command's input: (B, T) int64 ids and mask
        var batch = Create(new() { PaddingLength = 4 }).EncodeBatch(["hello", "world"]);
        string path = Path.Combine(Path.GetTempPath(), "mlnetmerge-ids-" + Guid.NewGuid().ToString("N") + ".npy");
        try
        {
            MLNetMerge.Data.NpyFile.Write(path, batch.InputIds, batch.Shape);
            var (ids, shape) = MLNetMerge.Data.NpyFile.ReadInt64(path);
            CollectionAssert.AreEqual(new[] { 2, 4 }, shape);
            CollectionAssert.AreEqual(new long[] { 2, 5, 3, 0, 2, 6, 3, 0 }, ids);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void Decode_GluesPiecesAndCleansSpaces()
    {
        var tokenizer = Create(new() { PaddingLength = 10 });
        // [CLS] un ##aff ##able [SEP] [PAD]... -> "un ##aff ##able" -> "unaffable"
        Assert.AreEqual("unaffable", tokenizer.Decode(tokenizer.Encode("unaffable").Ids));
        // don ' t ! -> "don ' t !" -> " ' " -> "'" and " !" -> "!" -> "don't!"
        Assert.AreEqual("don't!", tokenizer.Decode(tokenizer.Encode("don't!").Ids));
        Assert.AreEqual("[CLS] hello, world. [SEP]", Create().Decode(Create().Encode("Hello, world.").Ids, skipSpecialTokens: false));
        Assert.AreEqual("hello , world .", Create(new() { CleanUpTokenizationSpaces = false }).Decode([5, 14, 6, 15]));
    }

    [TestMethod]
    public void Load_ReadsVocabTxtWithCrLf()
    {
        string path = Path.Combine(Path.GetTempPath(), "mlnetmerge-vocab-" + Guid.NewGuid().ToString("N") + ".txt");
        try
        {
            File.WriteAllText(path, string.Join("\r\n", Vocab) + "\r\n");
            var tokenizer = WordPieceTokenizer.Load(path);
            Assert.AreEqual(Vocab.Length, tokenizer.VocabularySize);
            Assert.IsTrue(tokenizer.TryGetId("##able", out int id));
            Assert.AreEqual(13, id);
            CollectionAssert.AreEqual(new[] { 2, 11, 12, 13, 3 }, tokenizer.Encode("unaffable").Ids);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void MissingUnknownToken_IsAFormatError()
    {
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => WordPieceTokenizer.Create(["[CLS]", "[SEP]", "hello"]));
        StringAssert.Contains(e.Message, "[UNK]");
        // without special tokens only [UNK] is required
        var plain = WordPieceTokenizer.Create(["[UNK]", "hello"], new() { AddSpecialTokens = false });
        CollectionAssert.AreEqual(new[] { 1, 0 }, plain.Encode("hello there").Ids);
    }
}

/// <summary>
/// BERT's basic tokenization against words computed by tools/make_bert_basic_fixture.py with Python's unicodedata on 208
/// random multi-script strings (accents, combining marks, Greek, Cyrillic, CJK incl. astral, Hangul, emoji, controls,
/// exotic whitespace and punctuation).
/// </summary>
[TestClass]
public sealed class BertBasicTokenizerReferenceTests
{
    [TestMethod]
    public void MatchesPythonReference()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "text", "bert_basic.json");
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
        var uncased = new BertBasicTokenizer(lowerCase: true, stripAccents: true, tokenizeCjk: true);
        var cased = new BertBasicTokenizer(lowerCase: false, stripAccents: false, tokenizeCjk: true);
        int n = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            string text = c.GetProperty("text").GetString()!;
            foreach (var (tokenizer, key) in new[] { (uncased, "uncased"), (cased, "cased") })
            {
                var expected = c.GetProperty(key).EnumerateArray().Select(e => e.GetString()!).ToArray();
                var words = new List<string>();
                tokenizer.Split(text, words);
                CollectionAssert.AreEqual(expected, words, $"{key} case {n}: {string.Join(" ", text.EnumerateRunes().Select(r => r.Value.ToString("X4")))}");
            }
            n++;
        }
        Assert.AreEqual(208, n);
    }
}
