using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetMerge.Data;
using MLNetMerge.MLNet;
using MLNetMerge.Text;

/// <summary>
/// The savable WordPiece steps (CustomMapping → MapValue → CustomMapping) against the project's WordPieceTokenizer on
/// the same texts (WordNet glosses and fortunes), T = 32 and the text zoo's vocabulary. Rows per second.
/// </summary>
internal static class TokenizationThroughput
{
    public static void Run(string textZoo, int t)
    {
        var texts = WordNetReader.ReadAll().Where((_, i) => i % 10 == 0).Select(s => s.Definition)
            .Concat(FortuneReader.ReadCategories(["computers", "science", "linux", "literature"]).Select(f => f.Text)).ToArray();
        string[] vocabulary = File.ReadAllLines(Path.Combine(textZoo, "vocab.txt"));
        var ml = new MLContext(seed: 0);
        var view = new ArrayDataViewBuilder().AddText("Text", texts).Build();
        var steps = SavableWordPiece.Create(ml, vocabulary, "Text", t).Fit(view);
        double sink = 0;
        double mlnet = Timing.RowsPerSecond(texts.Length, () =>
        {
            var output = steps.Transform(view);
            using var cursor = output.GetRowCursor([output.Schema["input_ids"]]);
            var get = cursor.GetGetter<VBuffer<long>>(output.Schema["input_ids"]);
            VBuffer<long> ids = default;
            while (cursor.MoveNext()) { get(ref ids); sink += ids.GetValues()[1]; }
        });
        var tokenizer = WordPieceTokenizer.Create(vocabulary, new WordPieceTokenizer.Options { MaxLength = t, PaddingLength = t });
        double project = Timing.RowsPerSecond(texts.Length, () => sink += tokenizer.EncodeBatch(texts).InputIds[1]);
        Console.WriteLine($"text: {texts.Length} texts (WordNet definitions, fortunes), T = {t}, vocabulary of {vocabulary.Length} (checksum {sink:E3})");
        VisionThroughput.Print("savable WordPiece steps through ML.NET (Transform)", mlnet, project, "tokenizer");
        VisionThroughput.Print("the project's WordPieceTokenizer.EncodeBatch", project, project, "tokenizer");
    }
}
