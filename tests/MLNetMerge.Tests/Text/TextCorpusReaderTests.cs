using MLNetMerge.Data;

namespace MLNetMerge.Tests.Text;

/// <summary>WordNet data-file and fortune-file readers on hand-written snippets in the real formats.</summary>
[TestClass]
public sealed class TextCorpusReaderTests
{
    // Two licence lines (two leading spaces), a noun line, a verb line with frames, an adjective with a marker.
    // Verb: offset 00001740, lex 29 (verb.body), w_cnt 04 (hex) → 4 words, p_cnt 002, frames "02 + 02 00 + 08 00".
    private const string Snippet =
        "  1 This software and database is being provided to you, the LICENSEE, by  \n" +
        "  2 Princeton University under the following license.  \n" +
        "02084071 05 n 01 dog 0 001 @ 02083346 n 0000 | a member of the genus Canis; \"the dog barked all night\"  \n" +
        "00001740 29 v 04 breathe 0 take_a_breath 0 respire 0 suspire 3 002 * 00005041 v 0000 ^ 00004227 v 0103 02 + 02 00 + 08 00 | draw air into, and expel out of, the lungs; \"I can breathe better when the air is clean\"; \"The patient is respiring\"  \n" +
        "01383582 00 a 0a long-lived(a) 0 x 0 x 0 x 0 x 0 x 0 x 0 x 0 x 0 x 0 000 | existing for a long time  \n";

    [TestMethod]
    public void WordNet_ParsesOffsetsLexFilesWordsDefinitionsAndExamples()
    {
        var synsets = WordNetReader.Read(new StringReader(Snippet), "snippet").ToList();
        Assert.AreEqual(3, synsets.Count);

        var dog = synsets[0];
        Assert.AreEqual(2084071L, dog.Offset);
        Assert.AreEqual("noun.animal", dog.LexFileName);
        Assert.AreEqual('n', dog.Pos);
        CollectionAssert.AreEqual(new[] { "dog" }, dog.Words.ToArray());
        Assert.AreEqual("a member of the genus Canis", dog.Definition);
        CollectionAssert.AreEqual(new[] { "the dog barked all night" }, dog.Examples.ToArray());

        var breathe = synsets[1];
        Assert.AreEqual(29, breathe.LexFile);
        Assert.AreEqual("verb.body", breathe.LexFileName);
        CollectionAssert.AreEqual(new[] { "breathe", "take_a_breath", "respire", "suspire" }, breathe.Words.ToArray());
        Assert.AreEqual("draw air into, and expel out of, the lungs", breathe.Definition);
        CollectionAssert.AreEqual(new[] { "I can breathe better when the air is clean", "The patient is respiring" }, breathe.Examples.ToArray());

        // w_cnt "0a" is hexadecimal: ten words; the "(a)" marker is dropped; no quote → no examples.
        var longLived = synsets[2];
        Assert.AreEqual("adj.all", longLived.LexFileName);
        Assert.AreEqual(10, longLived.Words.Count);
        Assert.AreEqual("long-lived", longLived.Words[0]);
        Assert.AreEqual("existing for a long time", longLived.Definition);
        Assert.IsEmpty(longLived.Examples);
    }

    [TestMethod]
    public void WordNet_MalformedLineNamesFileAndLine()
    {
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() =>
            WordNetReader.Read(new StringReader("00001740 99 v 01 breathe 0 000 | x\n"), "data.verb").ToList());
        StringAssert.Contains(e.Message, "data.verb");
        StringAssert.Contains(e.Message, "line 1");
    }

    [TestMethod]
    public void Fortunes_SplitOnPercentLines_RemoveOverstrike_SkipEmpty()
    {
        // "_\bw_\bo_\br_\bd" is underlined "word"; the empty entry between the two % lines is skipped.
        const string file = "First fortune,\n  two lines.\n%\n%\nThe _\bw_\bo_\br_\bd is here.\n\t-- Someone\n%\n";
        var fortunes = FortuneReader.Read(new StringReader(file), "science").ToList();
        Assert.AreEqual(2, fortunes.Count);
        Assert.AreEqual(new Fortune("science", "First fortune,\n  two lines."), fortunes[0]);
        Assert.AreEqual(new Fortune("science", "The word is here.\n\t-- Someone"), fortunes[1]);
        Assert.AreEqual("ab", FortuneReader.RemoveOverstrike("a\bab"));
    }
}
