using MLNetMerge.Cli.Zoo.MiniLm;
using MLNetMerge.Tests.Onnx;

namespace MLNetMerge.Tests.Text;

/// <summary>
/// The MiniLM zoo's pinned sources: the committed Debian snapshot has the SHA-256 the builder pins, a changed copy fails
/// loudly naming the file, and the debian_section task can draw its balanced splits from it with no source package in
/// two pools (binary packages of one source share a description style, so they must not straddle train and test).
/// </summary>
[TestClass]
public sealed class MiniLmZooSourcesTests
{
    private static string Snapshot => Path.Combine(OnnxTools.RepoRoot, "data", "zoo", "minilm", "sources", "debian_sections.tsv");

    [TestMethod]
    public void CommittedDebianSnapshot_MatchesItsPin()
    {
        MiniLmZooSources.Check(Snapshot, "debian_sections.tsv");
        var packages = MiniLmZooSources.ReadDebian(Snapshot);
        CollectionAssert.AreEquivalent(MiniLmZooTasks.DebianSections, packages.Select(p => p.Section).Distinct().ToArray());
    }

    [TestMethod]
    public void ChangedSource_FailsNamingTheFile()
    {
        string copy = Path.Combine(Directory.CreateTempSubdirectory("minilm-src-").FullName, "debian_sections.tsv");
        var lines = File.ReadAllLines(Snapshot);
        lines[^1] = lines[^1].Replace("\t", "\t ");                       // one changed description
        File.WriteAllLines(copy, lines);
        var e = Assert.ThrowsExactly<ZooSourceMismatchException>(() => MiniLmZooSources.Check(copy, "debian_sections.tsv"));
        Assert.AreEqual(copy, e.File);
        StringAssert.Contains(e.Message, "fdfc11b1f59c1e349b2d1e1b0a331930b9b56cae4ed927bdb3c2508db2b3f680");
    }

    [TestMethod]
    public void DebianSectionTask_DrawsBalancedDisjointSplits()
    {
        var src = MiniLmZooSources.From([], [], MiniLmZooSources.ReadDebian(Snapshot), seed: 0);
        var spec = MiniLmZooTasks.All.Single(t => t.Name == "debian_section");
        var (train, val, test) = MiniLmZooTasks.Build(src, spec, new MiniLmZooTasks.SplitSizes(), seed: 0);
        Assert.AreEqual(1200, train.Count); Assert.AreEqual(240, val.Count); Assert.AreEqual(480, test.Count);
        for (int c = 0; c < 8; c++) Assert.AreEqual(150, train.Labels.Count(y => y == c));
        var poolsBySource = src.Debian.Select((p, i) => (p.Source, Pool: src.DebianPools[i])).GroupBy(x => x.Source);
        Assert.IsTrue(poolsBySource.All(g => g.Select(x => x.Pool).Distinct().Count() == 1), "a source package straddles pools");
        Assert.AreEqual(0, train.Texts.Intersect(test.Texts).Count(), "a training text is also a test text");
    }
}
