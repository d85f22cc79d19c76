using MLNetMerge.Data;
using MLNetMerge.Cli.Zoo;

namespace MLNetMerge.Tests.Text;

/// <summary>How the text zoo's tasks draw from the corpora: pools by hashed identity, labels per task kind.</summary>
[TestClass]
public sealed class TextZooTasksTests
{
    [TestMethod]
    public void Pools_SplitIdentities80_10_10_AndDependOnTheSeed()
    {
        var keys = Enumerable.Range(0, 20000).Select(i => $"n{i:D8}").ToList();
        var pools = keys.Select(k => TextZooSources.PoolOf(k, 0)).ToList();
        double train = pools.Count(p => p == TextPool.Train) / 20000.0, val = pools.Count(p => p == TextPool.Validation) / 20000.0;
        Assert.IsTrue(train > 0.79 && train < 0.81, $"train share {train}");
        Assert.IsTrue(val > 0.09 && val < 0.11, $"validation share {val}");
        Assert.AreEqual(pools[123], TextZooSources.PoolOf("n00000123", 0));
        Assert.IsTrue(keys.Count(k => TextZooSources.PoolOf(k, 1) != TextZooSources.PoolOf(k, 0)) > 4000);
    }

    [TestMethod]
    public void Candidates_LabelEachTaskKind()
    {
        var synsets = new List<WordNetSynset>
        {
            new(1, 5, 'n', ["dog"], "a domestic canine", ["the dog barked"]),          // noun.animal
            new(2, 18, 'n', ["baker"], "someone who bakes", []),                        // noun.person
            new(3, 38, 'v', ["run"], "move fast on foot", ["he ran home"]),             // verb.motion
            new(4, 0, 's', ["quick"], "moving fast", ["a quick fox"]),                  // adjective satellite
            new(5, 2, 'r', ["fast"], "quickly", ["she drove fast"]),                    // adverb
        };
        var fortunes = new List<Fortune> { new("science", "E = mc^2"), new("work", "Monday again."), new("love", "not a task class") };
        var src = TextZooSources.From(synsets, fortunes, 0);
        var spec = TextZooTasks.All.Single(t => t.Name == "definition_pos");
        var all = Enum.GetValues<TextPool>().Select(p => TextZooTasks.Candidates(src, spec, p)).ToList();
        // Every synset lands in exactly one pool, labelled n → noun 0, v → verb 1, s → adjective 2, r → adverb 3.
        var labelOf = all.SelectMany(c => c.Texts.Zip(c.Labels)).ToDictionary(x => x.First, x => x.Second);
        Assert.AreEqual(5, labelOf.Count);
        Assert.AreEqual(0, labelOf["a domestic canine"]);
        Assert.AreEqual(1, labelOf["move fast on foot"]);
        Assert.AreEqual(2, labelOf["moving fast"]);
        Assert.AreEqual(3, labelOf["quickly"]);

        // Noun supersense keeps only its classes: dog → noun.animal (index 3), baker → noun.person (index 1).
        var nouns = TextZooTasks.All.Single(t => t.Name == "noun_supersense");
        var nounLabels = Enum.GetValues<TextPool>().Select(p => TextZooTasks.Candidates(src, nouns, p)).SelectMany(c => c.Texts.Zip(c.Labels)).ToDictionary(x => x.First, x => x.Second);
        CollectionAssert.AreEquivalent(new[] { "a domestic canine", "someone who bakes" }, nounLabels.Keys.ToArray());
        Assert.AreEqual(3, nounLabels["a domestic canine"]);
        Assert.AreEqual(1, nounLabels["someone who bakes"]);

        // Examples: the first example sentence; fortunes: only the task's files.
        var examples = TextZooTasks.All.Single(t => t.Name == "example_pos");
        var exampleTexts = Enum.GetValues<TextPool>().SelectMany(p => TextZooTasks.Candidates(src, examples, p).Texts).ToList();
        CollectionAssert.AreEquivalent(new[] { "the dog barked", "he ran home", "a quick fox", "she drove fast" }, exampleTexts);
        var topics = TextZooTasks.All.Single(t => t.Name == "fortune_topic");
        var fortuneTexts = Enum.GetValues<TextPool>().SelectMany(p => TextZooTasks.Candidates(src, topics, p).Texts).ToList();
        CollectionAssert.AreEquivalent(new[] { "E = mc^2", "Monday again." }, fortuneTexts);
    }
}
