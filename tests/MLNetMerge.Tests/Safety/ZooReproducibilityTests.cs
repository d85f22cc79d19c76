using MLNetMerge.Cli.Zoo;

namespace MLNetMerge.Tests.Safety;

/// <summary>
/// Issue 15, reproducible outputs: each committed zoo's files match its <c>checksums.json</c> (fast), and a rebuild with
/// the default settings gives the same bytes when it runs on the instruction set the committed build recorded (slow;
/// inconclusive on another instruction set, or while the committed checksums record no build).
/// </summary>
[TestClass]
public sealed class ZooReproducibilityTests
{
    [TestMethod]
    [DataRow("vision")]
    [DataRow("text")]
    public void CommittedZoo_MatchesItsChecksums(string zoo)
    {
        string dir = zoo == "vision" ? ZooPaths.Vision : ZooPaths.Text;
        var sums = ZooChecksums.Read(dir);
        Assert.AreEqual(zoo, sums.Zoo);
        Assert.IsTrue(sums.Files.ContainsKey("base.safetensors") && sums.Files.ContainsKey("manifest.json"), string.Join(", ", sums.Files.Keys));
        var differences = sums.Differences(dir);
        Assert.AreEqual(0, differences.Count, string.Join("\n", differences));
    }

    [TestMethod]
    public void Differences_NameChangedMissingAndExtraFiles()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnm-zoosums-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dir, "task"));
        Directory.CreateDirectory(Path.Combine(dir, "recipes"));
        try
        {
            File.WriteAllText(Path.Combine(dir, "base.safetensors"), "weights");
            File.WriteAllText(Path.Combine(dir, "task", "test.npy"), "data");
            File.WriteAllText(Path.Combine(dir, "gone.json"), "{}");
            File.WriteAllText(Path.Combine(dir, "README.md"), "hand-written");
            File.WriteAllText(Path.Combine(dir, "recipes", "a.yaml"), "method: ties");
            var sums = ZooChecksums.Write(dir, ZooChecksums.ThisBuild("test"));
            // printf weights | sha256sum
            Assert.AreEqual("9a129038d9a00aed0cf6a7ea059ca50a813449061ab87848cf1a13eafdf33b2c", sums.Files["base.safetensors"]);
            CollectionAssert.AreEqual(new[] { "base.safetensors", "gone.json", "task/test.npy" }, sums.Files.Keys.ToArray());
            Assert.AreEqual(0, ZooChecksums.Read(dir).Differences(dir).Count);
            File.WriteAllText(Path.Combine(dir, "base.safetensors"), "weightz");
            File.Delete(Path.Combine(dir, "gone.json"));
            File.WriteAllText(Path.Combine(dir, "new.txt"), "x");
            File.WriteAllText(Path.Combine(dir, "README.md"), "edited by hand: not a built file");
            var differences = ZooChecksums.Read(dir).Differences(dir);
            Assert.AreEqual(3, differences.Count, string.Join("\n", differences));
            Assert.IsTrue(differences.Any(d => d.StartsWith("base.safetensors: SHA-256 ", StringComparison.Ordinal)));
            CollectionAssert.Contains(differences.ToList(), "gone.json: missing");
            CollectionAssert.Contains(differences.ToList(), "new.txt: not in checksums.json");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [TestMethod]
    [TestCategory("slow")]
    [DataRow("vision")]
    [DataRow("text")]
    public void Rebuild_GivesTheCommittedBytes_OnTheRecordedInstructionSet(string zoo)
    {
        string committed = zoo == "vision" ? ZooPaths.Vision : ZooPaths.Text;
        var sums = ZooChecksums.Read(committed);
        if (sums.BuiltWith is null)
            Assert.Inconclusive($"{committed}/checksums.json records no build (written from the files); rebuild the zoo with `mlnetmerge zoo build {zoo}` to record one.");
        if (sums.BuiltWith.InstructionSet != MLNetMerge.Tensors.InstructionSet.Current)
            Assert.Inconclusive($"the committed zoo was built on '{sums.BuiltWith.InstructionSet}', this machine runs '{MLNetMerge.Tensors.InstructionSet.Current}'.");
        string dir = Path.Combine(Path.GetTempPath(), "mlnm-zoo-rebuild-" + Guid.NewGuid().ToString("N"));
        try
        {
            if (zoo == "vision")
            {
                var options = new VisionZooBuildOptions();
                if (!Directory.Exists(options.FashionDirectory)) Assert.Inconclusive($"no Fashion-MNIST at {options.FashionDirectory} (tools/ci-deps.sh zoo)");
                VisionZooBuilder.Build(dir, options);
            }
            else
            {
                var options = new TextZooBuildOptions();
                if (!Directory.Exists(options.WordNetDirectory)) Assert.Inconclusive($"no WordNet at {options.WordNetDirectory} (tools/ci-deps.sh zoo)");
                TextZooBuilder.Build(dir, options);
            }
            var differences = sums.Differences(dir);
            Assert.AreEqual(0, differences.Count, "the rebuild differs from the committed zoo:\n" + string.Join("\n", differences));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
