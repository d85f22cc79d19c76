using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Recipes;
using MLNetMerge.Tensors;
using static MLNetMerge.Tests.Merges;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests;

[TestClass]
public sealed class RecipeTests
{
    private string _dir = "";

    [ClassInitialize]
    public static void ClassInit(TestContext _)
    {
        // Keep the input-hash cache out of the user's home directory.
        Environment.SetEnvironmentVariable("XDG_CACHE_HOME", Path.Combine(Path.GetTempPath(), "mlnetmerge-test-cache"));
    }

    [TestInitialize]
    public void Init()
    {
        _dir = Path.Combine(Path.GetTempPath(), "mlnetmerge-recipe-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TestCleanup]
    public void Cleanup()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static readonly float[] BaseA = [0.5f, -0.5f, 1f, 2f];
    private static readonly float[] BaseB = [1f, -1f];

    /// <summary>The family of <see cref="EmrTests"/> (a [4], b [2, 1]) plus an int64 buffer and per-task heads.</summary>
    private static TinyFamily Family(float poison = 0f) => new TinyFamily("t1", "t2", "t3")
        .WithTaskVectors("a", [4], BaseA, [1f, -2f, 0.5f, 3f], [2f, 1f, -1f, -1f], [-4f, 0.5f, -0.5f + poison, 2f])
        .WithTaskVectors("b", [2, 1], BaseB, [-1f, 0f], [0.5f, 0f], [0.5f, 0f])
        .WithInt64("position_ids", [0, 1, 2], [5, 5, 5], [6, 6, 6], [7, 7, 7])
        .WithHead("t1", "classifier.weight", [2, 4], [1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f])
        .WithHead("t2", "classifier.weight", [3, 4], Enumerable.Range(0, 12).Select(i => -1f * i).ToArray())
        .WithHead("t3", "classifier.weight", [1, 4], [0.5f, 0.25f, 0.125f, 0.0625f]);

    private string Models => """
        models:
          - name: t1
            path: t1.safetensors
          - name: t2
            path: t2.safetensors
          - name: t3
            path: t3.safetensors
        """;

    /// <summary>Saves the family and a recipe file; returns the recipe path.</summary>
    private string Setup(string body, TinyFamily? family = null)
    {
        (family ?? Family()).Save(_dir);
        string path = Path.Combine(_dir, "recipe.yaml");
        File.WriteAllText(path, body);
        return path;
    }

    private static float[] ReadTensor(string file, string name)
    {
        using var r = CheckpointReader.Open(file);
        Assert.IsTrue(r.TryGetTensor(name, out var info), $"{name} in {file}");
        var v = new float[info.ElementCount];
        r.ReadFloat32(info, v);
        return v;
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    [TestMethod]
    public void MergeWritesModelRecipeCardAndManifest()
    {
        string recipe = Setup($"method: task_arithmetic\nbase: base.safetensors\n{Models}\nparameters:\n  scale: 0.5\noutput: out\n");
        var summary = RecipeRunner.Merge(MergeRecipe.Load(recipe));
        string o = Path.Combine(_dir, "out");
        foreach (var f in new[] { "model.safetensors", "recipe.yaml", "README.md", "manifest.json", "heads.safetensors" })
            Assert.IsTrue(File.Exists(Path.Combine(o, f)), f);
        Assert.IsFalse(File.Exists(Path.Combine(o, "modulators.safetensors")), "no modulators for a shared-weights method");
        // Σ τ: a [−1, −0.5, −1, 4], b [0, 0]; λ = 0.5.
        AssertClose(Plus(BaseA, -0.5, -0.25, -0.5, 2), ReadTensor(Path.Combine(o, "model.safetensors"), "a"), 0, "a");
        AssertClose(BaseB, ReadTensor(Path.Combine(o, "model.safetensors"), "b"), 0, "b");
        string card = File.ReadAllText(Path.Combine(o, "README.md"));
        foreach (var input in new[] { "base", "t1", "t2", "t3" })
            StringAssert.Contains(card, Sha256(Path.Combine(_dir, $"{input}.safetensors")), $"SHA-256 of {input}");
        StringAssert.Contains(card, "task_arithmetic");
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(o, "manifest.json")));
        Assert.AreEqual("task_arithmetic", manifest.RootElement.GetProperty("method").GetString());
        Assert.AreEqual(Sha256(Path.Combine(_dir, "base.safetensors")), manifest.RootElement.GetProperty("base_sha256").GetString());
        CollectionAssert.AreEqual(new[] { "t1", "t2", "t3" }, manifest.RootElement.GetProperty("tasks").EnumerateArray().Select(e => e.GetString()).ToArray());
        using var model = SafetensorsReader.Open(Path.Combine(o, "model.safetensors"));
        Assert.AreEqual("task_arithmetic", model.Metadata["mlnetmerge.method"]);
        using var heads = SafetensorsReader.Open(Path.Combine(o, "heads.safetensors"));
        Assert.IsTrue(heads.TryGetTensor("t2.classifier.weight", out var h2));
        CollectionAssert.AreEqual(new[] { 3, 4 }, h2.Shape);
        Assert.AreEqual(3, summary.TaskNames.Count);
    }

    [TestMethod]
    public void SameRecipeTwiceIsByteIdentical()
    {
        // DARE over TIES with a trim: random drops, two statistics passes, two threads.
        string recipe = Setup($"method: dare\nbase: base.safetensors\n{Models}\nparameters:\n  merge: ties\n  drop: 0.5\n  keep: 0.5\nseed: 3\noutput: out\n");
        string model = Path.Combine(_dir, "out", "model.safetensors");
        RecipeRunner.Merge(MergeRecipe.Load(recipe), new RecipeRunOptions { MaxThreads = 2 });
        byte[] first = File.ReadAllBytes(model);
        RecipeRunner.Merge(MergeRecipe.Load(recipe), new RecipeRunOptions { MaxThreads = 2, Overwrite = true });
        CollectionAssert.AreEqual(first, File.ReadAllBytes(model));
    }

    [TestMethod]
    public void ExistingOutputIsRefusedUnlessOverwrite()
    {
        string recipe = Setup($"method: weight_average\nbase: base.safetensors\n{Models}\noutput: out\n");
        RecipeRunner.Merge(MergeRecipe.Load(recipe));
        string o = Path.Combine(_dir, "out");
        var e = Assert.ThrowsExactly<OutputExistsException>(() => RecipeRunner.Merge(MergeRecipe.Load(recipe)));
        StringAssert.Contains(e.Message, o);
        RecipeRunner.Merge(MergeRecipe.Load(recipe), new RecipeRunOptions { Overwrite = true });
        Assert.IsTrue(File.Exists(Path.Combine(o, "model.safetensors")));
        // A plain file in the way is refused too.
        File.WriteAllText(Path.Combine(_dir, "taken"), "x");
        Assert.ThrowsExactly<OutputExistsException>(() => RecipeRunner.Merge(MergeRecipe.Load(recipe), new RecipeRunOptions { Output = Path.Combine(_dir, "taken") }));
    }

    private void AssertNoTempDirectories() =>
        Assert.AreEqual(0, Directory.GetFileSystemEntries(_dir, ".out*").Length, string.Join(", ", Directory.GetFileSystemEntries(_dir)));

    [TestMethod]
    public void FailingMergeLeavesNothingBehind()
    {
        string recipe = Setup($"method: ties\nbase: base.safetensors\n{Models}\noutput: out\n", Family(poison: float.NaN));
        var e = Assert.ThrowsExactly<NonFiniteTensorException>(() => RecipeRunner.Merge(MergeRecipe.Load(recipe)));
        StringAssert.Contains(e.Message, "t3.safetensors");
        StringAssert.Contains(e.Message, "'a'");
        Assert.IsFalse(Directory.Exists(Path.Combine(_dir, "out")));
        AssertNoTempDirectories();
    }

    [TestMethod]
    public void FailedOverwriteKeepsThePreviousOutput()
    {
        string recipe = Setup($"method: weight_average\nbase: base.safetensors\n{Models}\noutput: out\n");
        RecipeRunner.Merge(MergeRecipe.Load(recipe));
        byte[] before = File.ReadAllBytes(Path.Combine(_dir, "out", "model.safetensors"));
        Family(poison: float.PositiveInfinity).Save(_dir);
        Assert.ThrowsExactly<NonFiniteTensorException>(() => RecipeRunner.Merge(MergeRecipe.Load(recipe), new RecipeRunOptions { Overwrite = true }));
        CollectionAssert.AreEqual(before, File.ReadAllBytes(Path.Combine(_dir, "out", "model.safetensors")));
        AssertNoTempDirectories();
    }

    [TestMethod]
    public void IncompatibleInputsLeaveNothingBehind()
    {
        var f = Family();
        f.Save(_dir);
        new InMemoryCheckpoint().Add("a", [2, 2], new float[4]).Add("b", [2, 1], new float[2]).AddInt64("position_ids", [3], [0, 1, 2])
            .Save(Path.Combine(_dir, "t2.safetensors"));
        string recipe = Path.Combine(_dir, "recipe.yaml");
        File.WriteAllText(recipe, $"method: ties\nbase: base.safetensors\n{Models}\noutput: out\n");
        var e = Assert.ThrowsExactly<IncompatibleModelsException>(() => RecipeRunner.Merge(MergeRecipe.Load(recipe)));
        StringAssert.Contains(e.Message, "t2.safetensors");
        StringAssert.Contains(e.Message, "'a'");
        Assert.IsFalse(Directory.Exists(Path.Combine(_dir, "out")));
        AssertNoTempDirectories();
    }

    [TestMethod]
    public void MaterializingASharedWeightsMethodPairsTheModelWithTheTaskHead()
    {
        // Task arithmetic has one set of weights; tasks/t2.safetensors is that model plus t2's own head and the buffers.
        string recipe = Setup($"method: task_arithmetic\nbase: base.safetensors\n{Models}\noutput: out\n");
        RecipeRunner.Merge(MergeRecipe.Load(recipe), new RecipeRunOptions { Materialize = ["t2"] });
        string o = Path.Combine(_dir, "out");
        string task = Path.Combine(o, "tasks", "t2.safetensors");
        foreach (var name in new[] { "a", "b" })
            CollectionAssert.AreEqual(ReadTensor(Path.Combine(o, "model.safetensors"), name), ReadTensor(task, name), name);
        CollectionAssert.AreEqual(Enumerable.Range(0, 12).Select(i => -1f * i).ToArray(), ReadTensor(task, "classifier.weight"));
        StringAssert.Contains(File.ReadAllText(Path.Combine(o, "recipe.yaml")), "materialize: [t2]");
    }

    [TestMethod]
    public void CancelledMergeLeavesNothingBehind()
    {
        string recipe = Setup($"method: ties\nbase: base.safetensors\n{Models}\noutput: out\n");
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsExactly<OperationCanceledException>(() => RecipeRunner.Merge(MergeRecipe.Load(recipe), new RecipeRunOptions { CancellationToken = cts.Token }));
        Assert.IsFalse(Directory.Exists(Path.Combine(_dir, "out")));
        AssertNoTempDirectories();
    }

    [TestMethod]
    public void EmrWritesPackedMasksRescalersAndMaterializedTasks()
    {
        // Hand-worked in EmrTests: masks of a: t1 0b1010, t2 0b0100, t3 0b1101; of b: t1 0b01, t2 0, t3 0;
        // rescalers [1.25, 5.5, 0.9375].
        string recipe = Setup($"method: emr\nbase: base.safetensors\n{Models}\nmaterialize: [t1, t3]\noutput: out\n");
        RecipeRunner.Merge(MergeRecipe.Load(recipe));
        string o = Path.Combine(_dir, "out");
        using (var mods = SafetensorsReader.Open(Path.Combine(o, "modulators.safetensors")))
        {
            foreach (var (name, bits) in new[] { ("masks.t1.a", 10), ("masks.t2.a", 4), ("masks.t3.a", 13), ("masks.t1.b", 1), ("masks.t2.b", 0), ("masks.t3.b", 0) })
            {
                Assert.IsTrue(mods.TryGetTensor(name, out var info), name);
                Assert.AreEqual(DType.U8, info.DType, name);
                CollectionAssert.AreEqual(new[] { 1 }, info.Shape, name);
                var raw = new byte[1];
                mods.ReadRaw(info, raw);
                Assert.AreEqual((byte)bits, raw[0], name);
            }
            Assert.IsTrue(mods.TryGetTensor("rescalers", out var g));
            var gamma = new float[3];
            mods.ReadFloat32(g, gamma);
            CollectionAssert.AreEqual(new[] { 1.25f, 5.5f, 0.9375f }, gamma);
        }
        Assert.IsTrue(File.Exists(Path.Combine(o, "tasks", "t1.safetensors")));
        Assert.IsFalse(File.Exists(Path.Combine(o, "tasks", "t2.safetensors")));
        using var family = ModelFamily.Load(Path.Combine(_dir, "base.safetensors"),
            new[] { "t1", "t2", "t3" }.Select(t => (t, Path.Combine(_dir, $"{t}.safetensors"))));
        var p = Parameters("emr", 3);
        var mem = MergeExecutor.RunInMemory(family, p.Method, p);
        foreach (var task in new[] { "t1", "t3" })
        {
            string file = Path.Combine(o, "tasks", $"{task}.safetensors");
            foreach (var name in new[] { "a", "b" })
                CollectionAssert.AreEqual(mem.TaskTensors[task][name], ReadTensor(file, name), $"{task}/{name}");
            CollectionAssert.AreEqual(ReadTensor(Path.Combine(_dir, $"{task}.safetensors"), "classifier.weight"), ReadTensor(file, "classifier.weight"), $"{task} head");
            using var r = SafetensorsReader.Open(file);
            Assert.IsTrue(r.TryGetTensor("position_ids", out var pos));
            var raw = new byte[24];
            r.ReadRaw(pos, raw);
            CollectionAssert.AreEqual(new long[] { 0, 1, 2 }, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(raw).ToArray(), "buffers from the base");
        }
        AssertClose(Plus(BaseA, 0, -2.5, 0, 3.75), ReadTensor(Path.Combine(o, "tasks", "t1.safetensors"), "a"), 0, "θ̂1 a");
    }

    [TestMethod]
    public void ShardedOutputReadsBackLikeOneFile()
    {
        // max_shard_size 20 B: a (16 bytes), then b (8) would pass 20 → new shard, then position_ids (24) its own.
        string recipe = Setup($"method: task_arithmetic\nbase: base.safetensors\n{Models}\nmax_shard_size: 20B\noutput: sharded\n");
        RecipeRunner.Merge(MergeRecipe.Load(recipe));
        File.WriteAllText(recipe, File.ReadAllText(recipe).Replace("max_shard_size: 20B\n", ""));
        RecipeRunner.Merge(MergeRecipe.Load(recipe), new RecipeRunOptions { Output = Path.Combine(_dir, "single") });
        Assert.IsTrue(File.Exists(Path.Combine(_dir, "single", "model.safetensors")));
        string sharded = Path.Combine(_dir, "sharded");
        Assert.IsTrue(File.Exists(Path.Combine(sharded, "model.safetensors.index.json")));
        Assert.IsTrue(File.Exists(Path.Combine(sharded, "model-00003-of-00003.safetensors")));
        Assert.IsFalse(File.Exists(Path.Combine(sharded, "model.safetensors")));
        foreach (var name in new[] { "a", "b" })
            CollectionAssert.AreEqual(ReadTensor(Path.Combine(_dir, "single", "model.safetensors"), name), ReadTensor(sharded, name), name);
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(sharded, "manifest.json")));
        var files = manifest.RootElement.GetProperty("files").EnumerateArray().Select(e => e.GetString()).ToList();
        CollectionAssert.Contains(files, "model.safetensors.index.json");
    }

    [TestMethod]
    public void Bf16InputsAreWrittenInTheBaseDType()
    {
        // The family stored as bfloat16 (all values exact in bf16); TA with λ = 0.5 gives a = θ0 + [−0.5, −0.25, −0.5, 2]
        // = [0, −0.75, 0.5, 4], also exact, written back as BF16. dtype: float32 in the recipe overrides it.
        var f = new TinyFamily("t1", "t2", "t3")
            .WithTaskVectors("a", [4], DType.BF16, BaseA, [1f, -2f, 0.5f, 3f], [2f, 1f, -1f, -1f], [-4f, 0.5f, -0.5f, 2f])
            .WithHead("t1", "classifier.weight", [1], [1f]).WithHead("t2", "classifier.weight", [1], [2f]).WithHead("t3", "classifier.weight", [1], [3f]);
        string recipe = Setup($"method: task_arithmetic\nbase: base.safetensors\n{Models}\nparameters:\n  scale: 0.5\noutput: out\n", f);
        RecipeRunner.Merge(MergeRecipe.Load(recipe));
        string model = Path.Combine(_dir, "out", "model.safetensors");
        using (var r = SafetensorsReader.Open(model))
        {
            Assert.IsTrue(r.TryGetTensor("a", out var a));
            Assert.AreEqual(DType.BF16, a.DType);
        }
        CollectionAssert.AreEqual(new[] { 0f, -0.75f, 0.5f, 4f }, ReadTensor(model, "a"));
        File.WriteAllText(recipe, File.ReadAllText(recipe) + "dtype: float32\n");
        RecipeRunner.Merge(MergeRecipe.Load(recipe), new RecipeRunOptions { Output = Path.Combine(_dir, "f32") });
        using var r32 = SafetensorsReader.Open(Path.Combine(_dir, "f32", "model.safetensors"));
        Assert.IsTrue(r32.TryGetTensor("a", out var a32));
        Assert.AreEqual(DType.F32, a32.DType);
    }

    [TestMethod]
    [DataRow("optimizer: adam\n", "optimizer")]
    [DataRow("parameters:\n  dropout: 0.1\n", "dropout")]
    [DataRow("parameters:\n  scale:\n    - filter: attn\n      value: 1\n      weight: 2\n", "weight")]
    [DataRow("version: 2\n", "version")]
    public void UnknownKeysAndParametersAreErrors(string extra, string word)
    {
        string recipe = Setup($"method: task_arithmetic\nbase: base.safetensors\n{Models}\n{extra}");
        var e = Assert.ThrowsExactly<RecipeException>(() => MergeRecipe.Load(recipe));
        StringAssert.Contains(e.Message, word);
        StringAssert.Contains(e.Message, recipe);
    }

    [TestMethod]
    public void UnknownModelKeyAndMethod()
    {
        string recipe = Setup("method: task_arithmetic\nbase: base.safetensors\nmodels:\n  - path: t1.safetensors\n    revision: main\n");
        StringAssert.Contains(Assert.ThrowsExactly<RecipeException>(() => MergeRecipe.Load(recipe)).Message, "revision");
        File.WriteAllText(recipe, $"method: frankenmerge\nbase: base.safetensors\n{Models}\n");
        StringAssert.Contains(Assert.ThrowsExactly<RecipeException>(() => MergeRecipe.Load(recipe)).Message, "frankenmerge");
    }

    [TestMethod]
    [DataRow("2GB", 2_000_000_000L)]
    [DataRow("500MB", 500_000_000L)]
    [DataRow("500MiB", 524_288_000L)]
    [DataRow("1GiB", 1_073_741_824L)]
    [DataRow("4kib", 4_096L)]
    [DataRow("20B", 20L)]
    public void ShardSizes_TakeDecimalAndBinaryUnits(string text, long bytes) => Assert.AreEqual(bytes, RecipeParser.ParseSize(text, null));

    [TestMethod]
    public void MergekitAliasesParseToTheSameParameters()
    {
        Family().Save(_dir);
        var mergekit = MergeRecipe.Parse("""
            merge_method: dare_ties
            base_model: base.safetensors
            models:
              - model: t1.safetensors
                parameters:
                  weight: 0.7
                  density: 0.6
              - model: t2.safetensors
                parameters:
                  weight: 1
                  density: 0.5
              - model: t3.safetensors
                parameters:
                  weight: 1
            parameters:
              lambda: 0.8
            """, "mergekit.yaml", _dir);
        var ours = MergeRecipe.Parse("""
            method: dare
            base: base.safetensors
            models:
              - name: t1
                path: t1.safetensors
                parameters: {weight: 0.7, drop: 0.4}
              - name: t2
                path: t2.safetensors
                parameters: {weight: 1, drop: 0.5}
              - name: t3
                path: t3.safetensors
                parameters: {weight: 1}
            parameters:
              merge: ties
              normalize: false    # mergekit's dare_ties sums the agreeing values
              scale: 0.8
              drop: 0             # a merge_method recipe takes mergekit's density 1 where a model gives none
              sign_tie: positive  # and elects + where the weighted sum is exactly 0
            """, "ours.yaml", _dir);
        Assert.AreEqual("dare", mergekit.Method);
        CollectionAssert.AreEqual(ours.Models.Select(m => m.Name).ToArray(), mergekit.Models.Select(m => m.Name).ToArray());
        CollectionAssert.AreEqual(ours.Models.Select(m => m.Path).ToArray(), mergekit.Models.Select(m => m.Path).ToArray());
        Assert.AreEqual(ours.Base, mergekit.Base);
        var a = mergekit.ResolveParameters();
        var b = ours.ResolveParameters();
        Assert.AreEqual(Describe(b), Describe(a), Describe(a));
        for (int t = 0; t < 3; t++)
        {
            Assert.AreEqual(b.Number("drop", t), a.Number("drop", t), 1e-12, $"drop {t}");
            Assert.AreEqual(b.Number("weight", t), a.Number("weight", t), 1e-12, $"weight {t}");
        }
        Assert.AreEqual(0.4, a.Number("drop", 0), 1e-12);
        Assert.AreEqual("ties", a.Choice("merge"));
        Assert.AreEqual(0.8, a.Number("scale"), 1e-12);
        Assert.AreEqual(ours.ToYaml(), mergekit.ToYaml());
    }

    /// <summary>A canonical text of the effective and per-model parameters.</summary>
    private static string Describe(MergeParameters p)
    {
        static string D(ParameterValue v) => v switch
        {
            ParameterValue.Scalar s => s.Value.ToString("R", CultureInfo.InvariantCulture),
            ParameterValue.Text t => "'" + t.Value + "'",
            ParameterValue.Gradient g => "[" + string.Join(", ", g.Values.Select(x => x.ToString("R", CultureInfo.InvariantCulture))) + "]",
            ParameterValue.Filtered f => "{" + string.Join("; ", f.Entries.Select(e => $"{e.Filter ?? "*"} → {D(e.Value)}")) + "}",
            _ => "?",
        };
        var lines = p.Effective().Select(kv => $"{kv.Key} = {D(kv.Value)}").ToList();
        for (int t = 0; t < p.ModelCount; t++)
            lines.AddRange(p.PerModel(t).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"model {t}: {kv.Key} = {D(kv.Value)}"));
        return string.Join("\n", lines);
    }

    [TestMethod]
    public void ResolvedRecipeReparsesToTheSameParameters()
    {
        string recipe = Setup("""
            method: ties
            base: base.safetensors
            models:
              - name: t1
                path: t1.safetensors
                parameters:
                  weight: 2
                  keep:
                    - filter: a
                      value: 0.75
                    - value: [0.25, 0.5]
              - name: t2
                path: t2.safetensors
              - name: t3
                path: t3.safetensors
            parameters:
              density: 0.5
              lambda: 0.9
              merge: sum
              trim: tensor
            seed: 11
            output: out
            """);
        var original = MergeRecipe.Load(recipe);
        RecipeRunner.Merge(original);
        string written = Path.Combine(_dir, "out", "recipe.yaml");
        var again = MergeRecipe.Load(written);
        Assert.AreEqual(Describe(original.ResolveParameters()), Describe(again.ResolveParameters()));
        Assert.AreEqual(original.Base, again.Base);
        Assert.AreEqual(11UL, again.Seed);
        StringAssert.Contains(File.ReadAllText(written), "keep: 0.5", "the alias density is written under its canonical name");
        // The re-parsed recipe produces the same model.
        RecipeRunner.Merge(again, new RecipeRunOptions { Output = Path.Combine(_dir, "again") });
        CollectionAssert.AreEqual(ReadTensor(Path.Combine(_dir, "out", "model.safetensors"), "a"), ReadTensor(Path.Combine(_dir, "again", "model.safetensors"), "a"));
    }
}
