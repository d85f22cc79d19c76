using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Tensors;
using static MLNetMerge.Tests.Safety.CliProcess;

namespace MLNetMerge.Tests.Safety;

/// <summary>
/// The second trial of the built CLI (twenty-sixth sitting): <c>--force</c> never deletes what the tool did not write
/// (import's folder, a link, a run's export folder checked before anything is written), recipes whose settings would be
/// silently dropped or truncated are refused, and <c>embed</c> checks a checkpoint's shapes and values, not only its sizes.
/// </summary>
[TestClass]
public sealed class ForceAndRecipeChecksTests
{
    private string _dir = "";

    private static string Vision => ZooPaths.Vision;

    [TestInitialize]
    public void Init() => _dir = Directory.CreateTempSubdirectory("mlnm-force-").FullName;

    [TestCleanup]
    public void Cleanup()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A two-model task-arithmetic recipe over the vision zoo (absolute paths), with <paramref name="extra"/> appended.</summary>
    private string Recipe(string extra = "", string name = "recipe.yaml")
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, $"method: task_arithmetic\nbase: {Path.Combine(Vision, "base.safetensors")}\nmodels:\n"
            + $"  - {{ name: fashion, path: {Path.Combine(Vision, "fashion.safetensors")} }}\n  - {{ name: digits, path: {Path.Combine(Vision, "digits.safetensors")} }}\n" + extra);
        return path;
    }

    [TestMethod]
    public void ImportForce_RefusesAFolderItDidNotWrite_AndTheSourcesFolder_AndReplacesAnEarlierImport()
    {
        string sources = Path.Combine(_dir, "sources");
        Directory.CreateDirectory(sources);
        string onnx = Path.Combine(sources, "vit.onnx");
        File.Copy(Path.Combine(Onnx.OnnxTools.RepoRoot, "tests", "MLNetMerge.Tests", "Fixtures", "import", "vit.onnx"), onnx);
        string thesis = Path.Combine(_dir, "thesis");
        Directory.CreateDirectory(thesis);
        File.WriteAllText(Path.Combine(thesis, "chapter1.tex"), "years of work");
        StringAssert.Contains(AssertOneLine(Run("import", onnx, "-o", thesis, "--force")), "is not a previous MLNetMerge output");
        Assert.AreEqual("years of work", File.ReadAllText(Path.Combine(thesis, "chapter1.tex")));
        StringAssert.Contains(AssertOneLine(Run("import", onnx, "-o", sources, "--force")), "input of this run");
        Assert.IsTrue(File.Exists(onnx));

        string imported = Path.Combine(_dir, "imported");
        Assert.AreEqual(0, Run("import", onnx, "-o", imported).Code);
        StringAssert.Contains(File.ReadAllText(Path.Combine(imported, OutputGuard.ImportRecord)), OutputGuard.OnnxImportFormat);
        var (code, _, err) = Run("import", onnx, "-o", imported, "--force");
        Assert.AreEqual(0, code, err);
        Assert.IsTrue(File.Exists(Path.Combine(imported, "model.safetensors")));
        Assert.IsFalse(Directory.EnumerateFileSystemEntries(_dir, ".imported*").Any(), "no temporary folder left");
    }

    [TestMethod]
    public void AnOutputThatIsALink_IsRefused_AndWhatItPointsToStays()
    {
        string recipe = Recipe();
        string output = Path.Combine(_dir, "out"), link = Path.Combine(_dir, "link");
        Assert.AreEqual(0, Run("merge", recipe, "-o", output).Code);
        var before = Directory.GetFiles(output).ToDictionary(f => f, File.ReadAllBytes);
        Directory.CreateSymbolicLink(link, output);
        StringAssert.Contains(AssertOneLine(Run("merge", recipe, "-o", link, "--force")), "is a symbolic link");
        Assert.IsNotNull(new DirectoryInfo(link).LinkTarget, "the link is still a link");
        CollectionAssert.AreEquivalent(before.Keys.ToList(), Directory.GetFiles(output).ToList(), "no marker or file added");
        foreach (var (f, bytes) in before) CollectionAssert.AreEqual(bytes, File.ReadAllBytes(f), f);
    }

    [TestMethod]
    public void Run_WhoseExportFolderCannotBeWritten_FailsBeforeWritingAnything()
    {
        string user = Path.Combine(_dir, "user");
        Directory.CreateDirectory(user);
        File.WriteAllText(Path.Combine(user, "notes.txt"), "mine");
        string recipe = Recipe($"export: {{ onnx: {user} }}\n");
        string output = Path.Combine(_dir, "o");
        StringAssert.Contains(AssertOneLine(Run("run", recipe, "-o", output, "--force")), "is not a previous MLNetMerge output");
        Assert.IsFalse(Directory.Exists(output), "the merge output was not written");
        StringAssert.Contains(AssertOneLine(Run("run", recipe, "-o", output)), "already exists");
        Assert.IsFalse(Directory.Exists(output));
        Assert.AreEqual("mine", File.ReadAllText(Path.Combine(user, "notes.txt")));
    }

    [TestMethod]
    [DataRow("merge_method: dare\n", "'method' and 'merge_method' name the same setting")]
    [DataRow("parameters: { scale: 0.3 }\nsweep: { scal: [0.1] }\n", "has no parameter 'scal'")]
    [DataRow("sweep: { scale: [0.1, 500] }\n", "must lie in [-100, 100]; got 500")]
    [DataRow("materialize: [nosuch]\n", "materialize: 'nosuch' is not a model of the recipe (fashion, digits)")]
    public void MergeRecipe_WhoseSettingsWouldBeDroppedOrIgnored_IsRefused(string extra, string expected)
    {
        string line = AssertOneLine(Run("merge", Recipe(extra), "-o", Path.Combine(_dir, "o")));
        StringAssert.Contains(line, expected);
        StringAssert.Contains(line, "recipe.yaml");
        Assert.IsFalse(Directory.Exists(Path.Combine(_dir, "o")));
    }

    [TestMethod]
    public void IntegerParameters_RefuseFractions()
    {
        string recipe = Recipe("parameters: { k: 1.5 }\n");
        File.WriteAllText(recipe, File.ReadAllText(recipe).Replace("task_arithmetic", "consensus"));
        StringAssert.Contains(AssertOneLine(Run("merge", recipe, "-o", Path.Combine(_dir, "o"))), "parameter 'k' of 'consensus' must be a whole number");
    }

    [TestMethod]
    public void MergeFlags_WithARecipe_AndThreadsBelowOne_AreRefused()
    {
        string recipe = Recipe();
        StringAssert.Contains(AssertOneLine(Run("merge", recipe, "--method", "ties", "--param", "keep=0.2", "-o", Path.Combine(_dir, "o"))),
            "--method, --param build a recipe from flags and apply only without RECIPE.yaml");
        StringAssert.Contains(AssertOneLine(Run("merge", recipe, "--threads", "0", "-o", Path.Combine(_dir, "o"))), "--threads must be at least 1; got 0");
        Assert.IsFalse(Directory.Exists(Path.Combine(_dir, "o")));
    }

    [TestMethod]
    public void Embed_ChecksShapesAndValues_OfTheCheckpointAndTheInput()
    {
        string input = Path.Combine(_dir, "x.npy");
        NpyFile.Write(input, new float[2 * 784], [2, 1, 28, 28]);
        // A 2-D weight stored with its two sizes swapped has the right count and the wrong meaning.
        using var original = CheckpointReader.Open(Path.Combine(Vision, "base.safetensors"));
        var swapped = original.Tensors.First(t => t.Shape is [int a, int b] && a != b);
        string Copy(string name, string tensor, int[] shape, float? fill)
        {
            var copy = new InMemoryCheckpoint();
            foreach (var t in original.Tensors)
            {
                var v = new float[t.ElementCount];
                original.ReadFloat32(t, v);
                if (t.Name == tensor && fill is { } f) Array.Fill(v, f);
                copy.Add(t.Name, t.Name == tensor ? shape : t.Shape, v);
            }
            string folder = Path.Combine(_dir, name);
            Directory.CreateDirectory(folder);
            File.Copy(Path.Combine(Vision, "config.json"), Path.Combine(folder, "config.json"));
            string path = Path.Combine(folder, "model.safetensors");
            copy.Save(path);
            return path;
        }
        string transposed = Copy("swapped", swapped.Name, [swapped.Shape[1], swapped.Shape[0]], null);
        StringAssert.Contains(AssertOneLine(Run("embed", transposed, "--input", input, "-o", Path.Combine(_dir, "a.npy"))),
            $"tensor '{swapped.Name}': has shape [{swapped.Shape[1]}, {swapped.Shape[0]}]; the vit encoder needs [{swapped.Shape[0]}, {swapped.Shape[1]}]");
        string nan = Copy("nan", swapped.Name, swapped.Shape, float.NaN);
        StringAssert.Contains(AssertOneLine(Run("embed", nan, "--input", input, "-o", Path.Combine(_dir, "b.npy"))), "a non-finite weight makes every embedding NaN");

        string flat = Path.Combine(_dir, "flat.npy");
        NpyFile.Write(flat, new float[784], [1, 28, 28]);
        StringAssert.Contains(AssertOneLine(Run("embed", Path.Combine(Vision, "base.safetensors"), "--input", flat, "-o", Path.Combine(_dir, "c.npy"))), "expected (N, 1, 28, 28)");
        string empty = Path.Combine(_dir, "empty.npy");
        NpyFile.Write(empty, Array.Empty<float>(), [0, 1, 28, 28]);
        string output = Path.Combine(_dir, "d.npy");
        Assert.AreEqual(0, Run("embed", Path.Combine(Vision, "base.safetensors"), "--input", empty, "-o", output).Code);
        CollectionAssert.AreEqual(new[] { 0, 64 }, NpyFile.ReadFloat32(output).Shape);
        StringAssert.Contains(AssertOneLine(Run("embed", Path.Combine(Vision, "base.safetensors"), "--input", Path.Combine(_dir, "none.npy"), "-o", output, "--force")), "NPY array not found");
    }

    [TestMethod]
    public void EmbedText_MasksPaddingByDefault_AndRefusesWhatItCannotRun()
    {
        string zoo = ZooPaths.Text, model = Path.Combine(zoo, "base.safetensors");
        var (all, shape) = NpyFile.ReadInt64(Path.Combine(zoo, "noun_supersense", "test_tokens.npy"));
        int t = shape[1];
        var ids = all.AsSpan(0, 4 * t).ToArray();
        Assert.IsTrue(ids.Contains(0L), "the rows hold padding");
        string idsPath = Path.Combine(_dir, "ids.npy"), maskPath = Path.Combine(_dir, "mask.npy");
        NpyFile.Write(idsPath, ids, [4, t]);
        NpyFile.Write(maskPath, ids.Select(v => v != 0 ? 1L : 0L).ToArray(), [4, t]);
        // Without --mask, padding (the config's pad_token_id, 0) is masked, as the library's loader does.
        string plain = Path.Combine(_dir, "plain.npy"), masked = Path.Combine(_dir, "masked.npy");
        Assert.AreEqual(0, Run("embed", model, "--input", idsPath, "-o", plain).Code);
        Assert.AreEqual(0, Run("embed", model, "--input", idsPath, "--mask", maskPath, "-o", masked).Code);
        CollectionAssert.AreEqual(NpyFile.ReadFloat32(masked).Data, NpyFile.ReadFloat32(plain).Data);

        string tooLong = Path.Combine(_dir, "long.npy");
        NpyFile.Write(tooLong, new long[2 * (t + 1)], [2, t + 1]);
        string line = AssertOneLine(Run("embed", model, "--input", tooLong, "-o", Path.Combine(_dir, "a.npy")));
        StringAssert.Contains(line, tooLong);
        StringAssert.Contains(line, $"sequences of {t + 1} tokens; the model has {t} positions");
        string flags = Path.Combine(_dir, "bool.npy");
        NpyFile.Write(flags, new NpyArray(DType.Bool, [2, t], new byte[2 * t]));
        StringAssert.Contains(AssertOneLine(Run("embed", model, "--input", flags, "-o", Path.Combine(_dir, "b.npy"))), "holds booleans");
        StringAssert.Contains(AssertOneLine(Run("embed", model, "--input", idsPath, "--pooling", "pooler", "-o", Path.Combine(_dir, "c.npy"))),
            "--pooling pooler: the model has no pooler");

        // A fine-tuned checkpoint as --head: its classifier, not a list of "tasks" (its encoder prefix and the head).
        string task = Path.Combine(zoo, "fortune_topic.safetensors"), logits = Path.Combine(_dir, "logits.npy");
        var (code, _, err) = Run("embed", task, "--input", idsPath, "--head", task, "-o", logits);
        Assert.AreEqual(0, code, err);
        using var reader = CheckpointReader.Open(task);
        int classes = reader.Tensors.Single(x => x.Name == "classifier.weight").Shape[0];
        CollectionAssert.AreEqual(new[] { 4, classes }, NpyFile.ReadFloat32(logits).Shape);
    }
}
