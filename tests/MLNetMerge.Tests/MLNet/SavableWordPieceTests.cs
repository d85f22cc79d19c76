using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetMerge.MLNet;
using MLNetMerge.Text;

namespace MLNetMerge.Tests.MLNet;

/// <summary>
/// <see cref="SavableWordPiece"/>: the ML.NET steps give exactly the ids and masks of the project's WordPieceTokenizer
/// on real text (WordNet glosses, fortunes) and on the corner cases of BERT's algorithm, and survive Save/Load into a
/// context that never saw the vocabulary.
/// </summary>
[TestClass]
public sealed class SavableWordPieceTests
{
    private static string[] ZooVocabulary => File.ReadAllLines(Path.Combine(ZooPaths.Text, "vocab.txt"));

    /// <summary>(ids, mask) per text from the ML.NET steps.</summary>
    internal static (long[][] Ids, long[][] Mask) ThroughMLNet(ITransformer steps, IReadOnlyList<string> texts)
    {
        var view = new ArrayDataViewBuilder().AddText("Text", [.. texts]).Build();
        var output = steps.Transform(view);
        return ([.. output.GetColumn<long[]>(WordPieceColumns.InputIds)], [.. output.GetColumn<long[]>(WordPieceColumns.AttentionMask)]);
    }

    /// <summary>Compares with <see cref="WordPieceTokenizer"/> at MaxLength = PaddingLength = T; returns the number of texts compared.</summary>
    private static int AssertSameAsTokenizer(IReadOnlyList<string> vocabulary, IReadOnlyList<string> texts, int t, bool lowerCase = true, ITransformer? steps = null)
    {
        var ml = new MLContext(seed: 0);
        steps ??= SavableWordPiece.Create(ml, vocabulary, "Text", t, lowerCase).Fit(new ArrayDataViewBuilder().AddText("Text", []).Build());
        var (ids, mask) = ThroughMLNet(steps, texts);
        var tokenizer = WordPieceTokenizer.Create(vocabulary, new WordPieceTokenizer.Options { LowerCase = lowerCase, MaxLength = t, PaddingLength = t });
        var expected = tokenizer.EncodeBatch(texts);
        Assert.AreEqual(t, expected.SequenceLength);
        for (int i = 0; i < texts.Count; i++)
        {
            var want = expected.InputIds.AsSpan(i * t, t);
            if (!want.SequenceEqual(ids[i]) || !expected.AttentionMask.AsSpan(i * t, t).SequenceEqual(mask[i]))
                Assert.Fail($"text {i} {System.Text.Json.JsonSerializer.Serialize(texts[i])}:\n  tokenizer {string.Join(" ", want.ToArray())}\n  ML.NET    {string.Join(" ", ids[i])}\n  mask {string.Join("", mask[i])}");
        }
        return texts.Count;
    }

    [TestMethod]
    [DataRow(32)]
    [DataRow(128)]
    [DataRow(384)]
    public void RealText_SameIdsAsTheProjectsTokenizer(int t)
    {
        int glosses = AssertSameAsTokenizer(ZooVocabulary, RealText.Glosses(), t);
        int fortunes = AssertSameAsTokenizer(ZooVocabulary, RealText.Fortunes(), t);
        Console.WriteLine($"T = {t}: {glosses} WordNet glosses and {fortunes} fortunes tokenized identically");
        Assert.IsGreaterThan(3000, glosses);
        Assert.IsGreaterThan(1000, fortunes);
    }

    /// <summary>A vocabulary for the corner cases: BERT's own "unaffable" example, accents, CJK, an emoji piece.</summary>
    private static readonly string[] Tiny =
    [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "a", "##b", "##c", "b", "c", "hello", "world", ",", "!", "'", "t",
        "don", "[", "]", "mask", "cafe", "é", "##é", "中", "文", "😀", "##😀", "x", "##x",
    ];

    private static readonly string[] Corners =
    [
        "unaffable", "", "   ", "Hello, world!", "don't", "Café CAFÉ café", "中文 and 中x", "a\tb\nc\r\nd", "a\u0000b\u200bc", "x😀😀 😀",
        "Paris is the [MASK] of France.", "[MASK][MASK]x[CLS]", "[mask] lower-case is no special token", "abcabc", "bbb ccc",
        new string('x', 100), new string('x', 101), "unaffable " + new string('a', 60),
        string.Join(" ", Enumerable.Repeat("hello world", 40)), "\ud800 lone surrogate", "zzz qqq", "[UNK] typed",
    ];

    [TestMethod]
    [DataRow(8, true)]
    [DataRow(16, true)]
    [DataRow(64, true)]
    [DataRow(16, false)]
    public void CornerCases_SameIdsAsTheProjectsTokenizer(int t, bool lowerCase) => AssertSameAsTokenizer(Tiny, Corners, t, lowerCase);

    [TestMethod]
    public void TypedSpecialTokenMissingFromTheVocabulary_IsTokenizedAsText()
    {
        // Without [MASK] in the vocabulary the tokenizer does not split on it: "[", "mask", "]" as ordinary words.
        string[] vocab = [.. Tiny.Where(v => v != "[MASK]")];
        AssertSameAsTokenizer(vocab, ["Paris is the [MASK] of France.", "[MASK][MASK]x", "a[MASK]b"], 16);
    }

    [TestMethod]
    public void SaveAndLoad_IntoAContextThatNeverSawTheVocabulary()
    {
        var ml = new MLContext(seed: 0);
        var empty = new ArrayDataViewBuilder().AddText("Text", []).Build();
        var steps = SavableWordPiece.Create(ml, ZooVocabulary, "Text", 32).Fit(empty);
        using var zip = new MemoryStream();
        ml.Model.Save(steps, empty.Schema, zip);
        zip.Position = 0;
        var fresh = new MLContext(seed: 5);
        SavableWordPiece.RegisterAssembly(fresh);
        var loaded = fresh.Model.Load(zip, out var schema);
        Assert.AreEqual("Text", schema[0].Name);
        var texts = RealText.Fortunes().Take(300).ToList();
        AssertSameAsTokenizer(ZooVocabulary, texts, 32, steps: loaded);
        var output = loaded.GetOutputSchema(empty.Schema);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Int64, 32), output[WordPieceColumns.InputIds].Type);
        Assert.IsNull(output.GetColumnOrNull(WordPieceColumns.Candidates), "intermediate columns are dropped");
    }

    [TestMethod]
    public void BadSettings_AreOneLineErrors()
    {
        var ml = new MLContext(seed: 0);
        var e1 = Assert.ThrowsExactly<ArgumentException>(() => SavableWordPiece.Create(ml, ZooVocabulary, "Text", 100));
        StringAssert.Contains(e1.Message, "sequence length 100 is not supported by the savable WordPiece steps; use one of 8, 16, 32, 64, 128, 256, 384, 512");
        var e2 = Assert.ThrowsExactly<ArgumentException>(() => SavableWordPiece.Create(ml, ["[CLS]", "[SEP]", "[UNK]", "a"], "Text", 32));
        StringAssert.Contains(e2.Message, "has no [PAD]");
    }

    [TestMethod]
    public void AFamilyOfAnotherLength_IsRefusedNamingTheFileAndKey()
    {
        // all-mpnet-base-v2's 384 is held now; a length no row type holds is refused naming where it came from.
        string dir = Directory.CreateTempSubdirectory("mlnet-length-").FullName;
        try
        {
            foreach (var f in new[] { "base.safetensors", "config.json", "vocab.txt", "tokenizer_config.json", "definition_pos.safetensors" })
                if (File.Exists(Path.Combine(ZooPaths.Text, f))) File.Copy(Path.Combine(ZooPaths.Text, f), Path.Combine(dir, f));
            File.WriteAllText(Path.Combine(dir, "sentence_bert_config.json"), """{"max_seq_length": 20}""");
            var ml = new MLContext(seed: 0);
            using var family = ml.Merging().LoadFamily(Path.Combine(dir, "base.safetensors"), [("definition_pos", Path.Combine(dir, "definition_pos.safetensors"))]);
            Assert.AreEqual(20, family.SequenceLength);
            var e = Assert.ThrowsExactly<MergeException>(() => ml.Merging().TokenizeText(family, "Text"));
            StringAssert.Contains(e.Message, Path.Combine(dir, "sentence_bert_config.json") + ": max_seq_length");
            StringAssert.Contains(e.Message, "sequence length 20");
            StringAssert.Contains(e.Message, "384");
            // A recipe exporting ML.NET zips of such a family is refused before its merge runs.
            var recipe = global::MLNetMerge.Recipes.MergeRecipe.Parse("method: task_arithmetic\nbase: base.safetensors\nmodels: [{ path: definition_pos.safetensors }]\noutput: out\nexport: { mlnet: multi_head }\n",
                Path.Combine(dir, "r.yaml"), dir);
            var r = Assert.ThrowsExactly<RecipeException>(() => RecipeModelZips.Check(recipe, global::MLNetMerge.Recipes.ExportSection.Read(recipe)!));
            StringAssert.Contains(r.Message, "sentence_bert_config.json: max_seq_length");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [TestMethod]
    public void EveryFactoryDeclaresTheContractOfItsLength()
    {
        var factories = typeof(SavableWordPiece).Assembly.GetTypes()
            .Where(type => type.GetCustomAttributes(typeof(Microsoft.ML.Transforms.CustomMappingFactoryAttributeAttribute), false).Length > 0).ToList();
        var contracts = factories.Select(WordPieceSelectionLengths.ContractOf).ToList();
        Assert.AreEqual(contracts.Count, contracts.Distinct().Count(), "two factories share a contract");
        foreach (int t in WordPieceSelectionLengths.Supported)
            CollectionAssert.Contains(contracts, $"MLNetMerge.WordPiece.Select.{t}.v1");
    }
}
