using MLNetMerge.Checkpoints;
using MLNetMerge.Evaluation;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Text;
using MLNetMerge.Cli.Zoo;
using MLNetMerge.Encoders;
using MLNetMerge.Data;
using MLNetMerge.Recipes;

namespace MLNetMerge.Tests.Text;

/// <summary>The committed text zoo: files, shapes, vocabulary format, and the literature's behaviour (fine-tuned beats
/// the base with the task's head), re-measured through the manifest's encoder.</summary>
[TestClass]
public sealed class TextZooTests
{
    [TestMethod]
    public void ManifestFilesAndShapesAgree()
    {
        string dir = ZooPaths.Text;
        var m = ZooManifest.Load(dir);
        Assert.IsTrue(m.IsText);
        Assert.IsTrue(m.Tasks.Count >= 4);
        long bytes = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.IsTrue(bytes <= 15L << 20, $"zoo is {bytes} bytes");
        var vocab = File.ReadAllLines(Path.Combine(dir, m.Vocabulary!));
        CollectionAssert.AreEqual(new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" }, vocab.Take(5).ToArray());
        using var family = ModelFamily.Load(Path.Combine(dir, m.Base), m.Tasks.Select(t => (t.Name, Path.Combine(dir, t.Checkpoint))));
        var encoder = (TextDenseEncoder)family.Session.Model;
        Assert.AreEqual(vocab.Length, encoder.Model.Config.VocabSize);
        Assert.AreEqual(m.SequenceLength, encoder.InputSize);
        Assert.AreEqual(Path.GetFullPath(Path.Combine(dir, m.Vocabulary!)), family.Architecture.Text!.VocabularyPath);
        foreach (var t in m.Tasks)
        {
            var head = family.TaskHeads[t.Name].Single(h => h.Name == TaskHead.WeightName);
            CollectionAssert.AreEqual(new[] { t.Classes.Count, encoder.EmbeddingSize }, head.Shape);
            var test = ZooManifest.LoadSplit(dir, t, t.Test);
            Assert.AreEqual(t.Test.Count, test.Count);
            CollectionAssert.AreEqual(new[] { m.SequenceLength }, test.FeatureShape);
            Assert.IsTrue(test.ClassCounts().All(c => c > 0), $"{t.Name}: a class is missing from test");
            for (int i = 0; i < test.Count; i++)
            {
                var row = test.Example(i);
                Assert.AreEqual(2f, row[0], $"{t.Name} row {i} does not start with [CLS]");
                Assert.IsTrue(row.ToArray().All(v => v >= 0 && v < vocab.Length && v == MathF.Floor(v)));
            }
        }
    }

    [TestMethod]
    public void FineTunedBeatsBaseWithItsHead_Remeasured()
    {
        // Through the family's own encoder session (the IDenseEncoder adapter over BERT, built from the zoo's config.json,
        // tokenizer and pooling files), as the evaluator sees it: each fine-tuned model + its head reproduces the accuracy the build stored and beats the base + the same
        // head (the lower bound of docs/methods/evaluation-protocols.md) by at least 10 points on its test split.
        string dir = ZooPaths.Text;
        var m = ZooManifest.Load(dir);
        using var family = ModelFamily.Load(Path.Combine(dir, m.Base), m.Tasks.Select(t => (t.Name, Path.Combine(dir, t.Checkpoint))));
        var fe = family.Session;
        Assert.AreEqual("bert.", fe.Prefix);
        Assert.AreEqual(m.SequenceLength, fe.Architecture.Text!.SequenceLength);
        Assert.AreEqual(TextPooling.Mean, fe.Architecture.Text.Pooling);
        var baseWeights = fe.ReadWeights(family.Base);
        foreach (var t in m.Tasks)
        {
            var test = ZooManifest.LoadSplit(dir, t, t.Test);
            var head = family.Head(t.Name);
            var own = fe.ReadWeights(family.Reader(t.Name));
            double Accuracy(Dictionary<string, float[]> weights)
            {
                var probs = head.Probabilities(fe.Embed(n => weights[n], test), test.Count);
                int correct = 0;
                for (int i = 0; i < test.Count; i++)
                {
                    var row = probs.AsSpan(i * head.ClassCount, head.ClassCount);
                    int best = 0;
                    for (int c = 1; c < row.Length; c++) if (row[c] > row[best]) best = c;
                    if (best == test.Labels![i]) correct++;
                }
                return (double)correct / test.Count;
            }
            double fine = Accuracy(own), basic = Accuracy(baseWeights);
            Assert.AreEqual(t.Accuracy!.FineTunedTest, fine, 1e-9, $"{t.Name}: stored vs re-measured");
            Assert.AreEqual(t.Accuracy!.BaseTest, basic, 1e-9, $"{t.Name}: stored vs re-measured base");
            Assert.IsTrue(fine >= basic + 0.10, $"{t.Name}: fine-tuned {fine:P1} vs base + head {basic:P1}");
        }
    }

    [TestMethod]
    public void RecipeEvaluator_RunsTheTextFamily_AndReusesBounds()
    {
        // Weight averaging on the committed text zoo through the recipe evaluator (Current and KNN): the bounds equal the
        // manifest's build-time accuracies, the merge equals the build's weight-average check, and a second evaluation
        // with the same cache reuses the bounds rows (same objects) while the merged row is recomputed to equal values.
        string dir = ZooPaths.Text;
        var m = ZooManifest.Load(dir);
        var recipe = MLNetMerge.Recipes.MergeRecipe.Load(Path.Combine(dir, "recipes", "weight_average.yaml"));
        var cache = new RecipeBoundsCache();
        var first = RecipeRunner.Run(recipe, new RecipeRunOptions { Steps = RecipeSteps.EvaluateOnly & ~RecipeSteps.Report, Bounds = cache }).Evaluation!;
        Assert.AreEqual("text", first.Family);
        Assert.AreEqual(1, cache.Count);
        for (int t = 0; t < m.Tasks.Count; t++)
        {
            var task = m.Tasks[t];
            Assert.AreEqual(task.Accuracy!.BaseTest, first.Base.Results["current"][task.Name].Accuracy, 1e-9, task.Name);
            Assert.AreEqual(task.Accuracy!.FineTunedTest, first.Individual.Results["current"][task.Name].Accuracy, 1e-9, task.Name);
            Assert.AreEqual(m.Checks!.Single(c => c.Method == "weight_average").TestAccuracy[t], first.Merged.Results["current"][task.Name].Accuracy, 1e-6, task.Name);
        }
        var second = RecipeRunner.Run(recipe, new RecipeRunOptions { Steps = RecipeSteps.EvaluateOnly & ~RecipeSteps.Report, Bounds = cache }).Evaluation!;
        Assert.AreSame(first.Base, second.Base);
        Assert.AreSame(first.Individual, second.Individual);
        Assert.AreEqual(first.Merged.Average("knn5"), second.Merged.Average("knn5"), 1e-12);
        Assert.IsTrue(first.Merged.Average("current") < first.Individual.Average("current") - 0.05, "a naive merge should lose accuracy");
    }

    [TestMethod]
    public void PretrainingLossFell()
    {
        var m = ZooManifest.Load(ZooPaths.Text);
        var curve = m.Build!.PretrainLoss!;
        Assert.IsTrue(curve.Count >= 4);
        Assert.IsTrue(curve[^1] < 0.7 * curve[0], $"masked-token loss {curve[0]} → {curve[^1]}");
    }

    [TestMethod]
    public void VocabTxt_StandardFormat_TargetSizeRespected()
    {
        // Corpus "ab ab ab": one word, count 3. Alphabet a, b → [PAD] [UNK] [CLS] [SEP] [MASK] a b ##a ##b (9 tokens);
        // the only pair (a, ##b) occurs 3 ≥ 2 times, so a target of 10 adds "ab" and a target of 9 stops before it.
        string dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-vocab-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "vocab.txt");
            WordPieceVocabularyBuilder.BuildToFile(["ab ab", "AB"], path, new WordPieceVocabularyBuilder.Options { VocabularySize = 10 });
            Assert.AreEqual("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nb\n##a\n##b\nab\n", File.ReadAllText(path));
            Assert.AreEqual(9, WordPieceVocabularyBuilder.Build(["ab ab", "AB"], new WordPieceVocabularyBuilder.Options { VocabularySize = 9 }).Count);
            var tokenizer = WordPieceTokenizer.Load(path, new WordPieceTokenizer.Options { PaddingLength = 8, MaxLength = 8 });
            // "Ab, ba!" → ab | , → [UNK] (not in the vocabulary) | ba → b ##a | ! → [UNK]; padded with [PAD] = 0 to 8.
            CollectionAssert.AreEqual(new[] { 2, 9, 1, 6, 7, 1, 3, 0 }, tokenizer.Encode("Ab, ba!").Ids);
        }
        finally { Directory.Delete(dir, true); }
    }
}
