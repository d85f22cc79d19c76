using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Recipes;
using MLNetMerge.Tensors;

namespace MLNetMerge.Tests.Recipes;

/// <summary>
/// One recipe through every entry point — the library's merge and run, the CLI's <c>merge</c> and <c>run</c>, and for
/// the zoos <c>evaluate</c>, <c>align</c> and <c>run</c> — gives the same files and the same numbers: the settings that
/// used to reach only some paths (dtype, allow_nonfinite, max_shard_size, materialize, a seed of 2^64 − 1) reach all,
/// and the bytes do not depend on where the output is written.
/// </summary>
[TestClass]
public sealed class EntryPointAgreementTests
{
    private string _dir = "";

    public TestContext TestContext { get; set; } = null!;

    [TestInitialize]
    public void Init() => _dir = Directory.CreateTempSubdirectory("mlnm-entry-").FullName;

    [TestCleanup]
    public void Cleanup()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private static string Cli(params string[] args) => Safety.CliProcess.Succeed(args);

    /// <summary>Every file of each folder, byte for byte, against the first folder's.</summary>
    private static void AssertSameFiles(params string[] folders)
    {
        string[] Files(string d) => Directory.GetFiles(d, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(d, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToArray();
        var expected = Files(folders[0]);
        Assert.IsTrue(expected.Length > 0, folders[0]);
        foreach (var other in folders.Skip(1))
        {
            CollectionAssert.AreEqual(expected, Files(other), $"{other} holds other files than {folders[0]}");
            foreach (var f in expected)
                CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(folders[0], f)), File.ReadAllBytes(Path.Combine(other, f)), $"{f} differs between {folders[0]} and {other}");
        }
    }

    [TestMethod]
    public void Merge_Settings_ReachEveryEntryPoint_AndTheBytesDoNotDependOnTheOutputPath()
    {
        // A family of 3 tasks with a NaN in one fine-tuned tensor (merged under allow_nonfinite), an int64 buffer, heads.
        var fam = new TinyFamily("a", "b", "c");
        var rng = new Random(5);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        fam.WithTaskVectors("layer.0.weight", [8, 16], R(128), R(128), R(128), R(128));
        fam.WithTaskVectors("layer.1.weight", [16, 8], R(128), R(128), R(128), R(128));
        var bias = R(8);
        var withNan = R(8);
        withNan[3] = float.NaN;
        fam.WithTaskVectors("layer.1.bias", [8], bias, R(8), withNan, R(8));
        fam.WithInt64("position_ids", [0, 1, 2, 3]);
        foreach (var t in fam.TaskNames) fam.WithHead(t, "classifier.weight", [2, 8], R(16));
        string family = Path.Combine(_dir, "family");
        Directory.CreateDirectory(family);
        fam.Save(family);
        string recipe = Path.Combine(_dir, "recipe.yaml");
        File.WriteAllText(recipe, """
            method: dare
            base: family/base.safetensors
            models:
              - { name: a, path: family/a.safetensors }
              - { name: b, path: family/b.safetensors, parameters: { weight: 0.5 } }
              - { name: c, path: family/c.safetensors }
            parameters: { drop: 0.3, scale: 0.7 }
            dtype: float16
            seed: 18446744073709551615
            max_shard_size: 300B
            allow_nonfinite: true
            materialize: [b]
            output: out/library-merge
            """);
        var loaded = MergeRecipe.Load(recipe);
        RecipeRunner.Merge(loaded);
        RecipeRunner.Run(loaded, new RecipeRunOptions { Output = Path.Combine(_dir, "out", "library-run") });
        Cli("merge", recipe, "-o", Path.Combine(_dir, "out", "cli-merge"));
        Cli("run", recipe, "-o", Path.Combine(_dir, "out", "cli-run"));
        var outputs = new[] { "library-merge", "library-run", "cli-merge", "cli-run" }.Select(o => Path.Combine(_dir, "out", o)).ToArray();
        AssertSameFiles(outputs);

        // What the settings mean, checked once: float16 shards (more than one), task b materialized, the NaN kept.
        string output = outputs[0];
        var shards = Directory.GetFiles(output, "model-*.safetensors");
        Assert.IsTrue(shards.Length > 1, $"{shards.Length} shard(s) under max_shard_size 300B");
        using (var model = CheckpointReader.Open(output))
        {
            Assert.IsTrue(model.Tensors.Where(t => t.Name != "position_ids").All(t => t.DType == DType.F16), "merged tensors are float16");
            Assert.AreEqual(DType.I64, model.Tensors.Single(t => t.Name == "position_ids").DType);
            model.TryGetTensor("layer.1.bias", out var b);
            var values = new float[b.ElementCount];
            model.ReadFloat32(b, values);
            Assert.IsTrue(float.IsNaN(values[3]), "allow_nonfinite lets the NaN through (DARE keeps or drops it; seed 2^64−1 keeps it here)");
        }
        Assert.IsTrue(File.Exists(Path.Combine(output, "tasks", "b.safetensors")));
        Assert.IsFalse(File.Exists(Path.Combine(output, "tasks", "a.safetensors")));
        string saved = File.ReadAllText(Path.Combine(output, "recipe.yaml"));
        foreach (var line in new[] { "seed: 18446744073709551615", "dtype: float16", "allow_nonfinite: true", "max_shard_size: 300", "materialize: [b]", "output: .", "base: ../../family/base.safetensors" })
            StringAssert.Contains(saved, line);
        Assert.IsFalse(saved.Contains(_dir, StringComparison.Ordinal), "the saved recipe holds no absolute path");
        Assert.IsFalse(File.ReadAllText(Path.Combine(output, "manifest.json")).Contains(_dir, StringComparison.Ordinal), "the manifest holds no absolute path");

        // The saved recipe runs again from where it sits, into the same place, to the same bytes.
        string again = Path.Combine(_dir, "again");
        RecipeRunner.Merge(MergeRecipe.Load(Path.Combine(output, "recipe.yaml")), new RecipeRunOptions { Output = again });
        foreach (var f in Directory.GetFiles(output, "*.safetensors", SearchOption.AllDirectories))
            CollectionAssert.AreEqual(File.ReadAllBytes(f), File.ReadAllBytes(Path.Combine(again, Path.GetRelativePath(output, f))), f);
    }

    [TestMethod]
    public void ASavedRecipe_OfAMergeMaterializedFromTheCommandLine_WritesTheSameBytes()
    {
        // The saved recipe.yaml lists the command line's --materialize, which the files' metadata did not: running it
        // gave other bytes in every file (found by an upgrade trial).
        string recipe = Path.Combine(_dir, "emr.yaml");
        File.WriteAllText(recipe, $"method: emr\nbase: {Path.Combine(ZooPaths.Vision, "base.safetensors")}\nmodels:\n" +
            $"  - {{ name: fashion, path: {Path.Combine(ZooPaths.Vision, "fashion.safetensors")} }}\n  - {{ name: digits, path: {Path.Combine(ZooPaths.Vision, "digits.safetensors")} }}\n");
        string first = Path.Combine(_dir, "first"), again = Path.Combine(_dir, "again");
        RecipeRunner.Merge(MergeRecipe.Load(recipe), new RecipeRunOptions { Output = first, Materialize = ["fashion", "digits"] });
        RecipeRunner.Merge(MergeRecipe.Load(Path.Combine(first, "recipe.yaml")), new RecipeRunOptions { Output = again });
        var files = Directory.GetFiles(first, "*.safetensors", SearchOption.AllDirectories);
        Assert.AreEqual(5, files.Length, string.Join(", ", files));
        foreach (var f in files)
            CollectionAssert.AreEqual(File.ReadAllBytes(f), File.ReadAllBytes(Path.Combine(again, Path.GetRelativePath(first, f))), f);
    }

    [TestMethod]
    [DataRow("vision", "fashion", "digits")]
    [DataRow("text", "noun_supersense", "fortune_topic")]
    public void Evaluation_IsTheSameThroughEvaluateAlignRunAndTheLibrary_AndRunWritesWhatMergeWrites(string zoo, string task1, string task2)
    {
        string zooDir = zoo == "vision" ? ZooPaths.Vision : ZooPaths.Text;
        string recipe = Path.Combine(_dir, $"{zoo}.yaml");
        File.WriteAllText(recipe, $$"""
            method: ties
            base: {{Path.Combine(zooDir, "base.safetensors")}}
            models:
              - { name: {{task1}}, path: {{Path.Combine(zooDir, task1 + ".safetensors")}} }
              - { name: {{task2}}, path: {{Path.Combine(zooDir, task2 + ".safetensors")}} }
            parameters: { keep: 0.2 }
            dtype: float16
            seed: 18446744073709551615
            sweep: { scale: [0.5, 1.0] }
            align:
              seeds: 2
              stages: [ { method: ft_classifier, parameters: { shots: 2, epochs: 1 } } ]
            evaluate: { protocols: [current, knn], shots: 2, seeds: 2 }
            """);
        var loaded = MergeRecipe.Load(recipe);
        var library = RecipeRunner.Run(loaded, new RecipeRunOptions { Steps = RecipeSteps.AlignAndEvaluate, Report = Path.Combine(_dir, "library", "report.json") });
        Cli("evaluate", recipe, "--report", Path.Combine(_dir, "evaluate", "report.json"));
        Cli("align", recipe, "--report", Path.Combine(_dir, "align", "report.json"));
        Cli("run", recipe, "-o", Path.Combine(_dir, "run"));

        JsonElement Entry(string folder)
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_dir, folder, "report.json")));
            return RunReport.Entries(doc, folder)[0].Clone();
        }
        JsonElement Row(JsonElement entry, string row) => entry.GetProperty(entry.GetProperty("family").GetString()!).GetProperty(row);
        var entries = new[] { "library", "evaluate", "align", "run" }.ToDictionary(f => f, Entry);
        foreach (var (folder, entry) in entries)
            foreach (var row in new[] { "ties", "base", "individual" })
                Assert.AreEqual(Row(entries["library"], row).GetRawText(), Row(entry, row).GetRawText(), $"{folder}: row {row}");
        // Alignment rows: library, align and run fit them (evaluate does not), to the same numbers.
        foreach (var folder in new[] { "align", "run" })
            Assert.AreEqual(Row(entries["library"], "ties+ft_classifier").GetRawText(), Row(entries[folder], "ties+ft_classifier").GetRawText(), folder);
        Assert.IsFalse(Row(entries["evaluate"], "ties").GetRawText().Length == 0);
        Assert.AreEqual(library.Chosen["scale"], Row(entries["run"], "ties").GetProperty("hyperparameters").GetProperty("scale").GetDouble());

        // `run` merged in memory (it evaluated) and wrote the output in the same pass: the model files are what `merge`
        // writes for the recipe with the sweep's choice baked in (the saved recipe.yaml).
        string saved = Path.Combine(_dir, "run", "recipe.yaml");
        StringAssert.Contains(File.ReadAllText(saved), "seed: 18446744073709551615");
        Assert.IsFalse(File.ReadAllText(saved).Contains("sweep:", StringComparison.Ordinal), "the sweep's choice is baked into the parameters");
        Cli("merge", saved, "-o", Path.Combine(_dir, "merge"));
        foreach (var f in Directory.GetFiles(Path.Combine(_dir, "merge"), "*.safetensors", SearchOption.AllDirectories))
            CollectionAssert.AreEqual(File.ReadAllBytes(f), File.ReadAllBytes(Path.Combine(_dir, "run", Path.GetRelativePath(Path.Combine(_dir, "merge"), f))), f);
        Assert.IsTrue(File.Exists(Path.Combine(_dir, "run", "stages.safetensors")), "run saves the fitted stage");
        Assert.IsTrue(File.Exists(Path.Combine(_dir, "run", "config.json")), "the output carries the family's config.json");
    }
}
