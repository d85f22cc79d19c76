using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Tensors;
using static MLNetMerge.Tests.Safety.CliProcess;

namespace MLNetMerge.Tests.Safety;

/// <summary>
/// Issue 15's trial, case by case, on the built CLI: no data loss with <c>--force</c>, one line (exit 2) for every bad
/// input instead of a stack trace or the whole help, inputs checked against what the model takes, no file overwritten
/// without <c>--force</c>, and the friction points (outputs that describe themselves, <c>embed --task</c>, plain text in pipes).
/// </summary>
[TestClass]
public sealed class SafeByDefaultCliTests
{
    private string _dir = "";

    private static string Vision => ZooPaths.Vision;

    [TestInitialize]
    public void Init()
    {
        _dir = Path.Combine(Path.GetTempPath(), "mlnm-safe-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TestCleanup]
    public void Cleanup()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A three-model family (layers.0.w [2, 2], heads) and a task-arithmetic recipe beside it; returns the recipe.</summary>
    private string SmallFamily(string folder, string output)
    {
        string dir = Path.Combine(_dir, folder);
        Directory.CreateDirectory(dir);
        new TinyFamily("t1", "t2")
            .WithTaskVectors("layers.0.w", [2, 2], [1f, 2f, 3f, 4f], [0.5f, 0f, 0f, 0.5f], [0f, 0.5f, 0.5f, 0f])
            .WithHead("t1", "classifier.weight", [2, 2], [1f, 0f, 0f, 1f]).WithHead("t2", "classifier.weight", [3, 2], [1f, 1f, 0f, 1f, 1f, 0f])
            .Save(dir);
        string recipe = Path.Combine(dir, "recipe.yaml");
        File.WriteAllText(recipe, $"method: task_arithmetic\nbase: base.safetensors\nmodels:\n  - {{ name: t1, path: t1.safetensors }}\n  - {{ name: t2, path: t2.safetensors }}\noutput: {output}\n");
        return recipe;
    }

    // ---- data loss ----

    [TestMethod]
    public void MergeForce_IntoAFolderThatIsNotAnOutput_IsRefused_AndItsFilesStay()
    {
        string recipe = SmallFamily("family", "out");
        string target = Path.Combine(_dir, "thesis");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "chapter1.tex"), "years of work");
        string line = AssertOneLine(Run("merge", recipe, "-o", target, "--force"));
        StringAssert.Contains(line, target);
        StringAssert.Contains(line, "is not a previous MLNetMerge output");
        StringAssert.Contains(line, "chapter1.tex");
        Assert.AreEqual("years of work", File.ReadAllText(Path.Combine(target, "chapter1.tex")));
        Assert.AreEqual(1, Directory.GetFileSystemEntries(target).Length);
        Assert.IsFalse(Directory.GetDirectories(_dir, ".thesis*").Any(), "no temporary folder left");
    }

    [TestMethod]
    public void MergeForce_WithOutputTheFolderOfTheInputs_IsRefused_AndTheInputsStay()
    {
        string recipe = SmallFamily("family", ".");
        string family = Path.GetDirectoryName(recipe)!;
        var before = Directory.GetFiles(family).ToDictionary(f => f, File.ReadAllBytes);
        // Even when the folder looks like an earlier output (someone merged into it before).
        File.WriteAllText(Path.Combine(family, "manifest.json"), "{\"format\": \"mlnetmerge.merged-model\", \"version\": 3}");
        string line = AssertOneLine(Run("merge", recipe, "--force"));
        StringAssert.Contains(line, "input of this run");
        foreach (var (f, bytes) in before) CollectionAssert.AreEqual(bytes, File.ReadAllBytes(f), f);
    }

    [TestMethod]
    public void MergeForce_ReplacesAPreviousOutput_AndAStaleTempFolderIsRemoved()
    {
        string recipe = SmallFamily("family", "../out");
        string output = Path.Combine(_dir, "out");
        Assert.AreEqual(0, Run("merge", recipe).Code);
        StringAssert.Contains(AssertOneLine(Run("merge", recipe)), "already exists");
        // What kill -9 leaves: a marked temporary folder of a process that is gone.
        int dead = DeadProcessId();
        string stale = Path.Combine(_dir, $".out.tmp-{dead}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(stale);
        File.WriteAllBytes(Path.Combine(stale, "model.safetensors"), new byte[4096]);
        File.WriteAllText(Path.Combine(stale, TempFolders.MarkerName), $"mlnetmerge-temp {Path.GetFileName(stale).Split('-')[^1]} {dead} 0\n");
        var (code, _, err) = Run("merge", recipe, "--force");
        Assert.AreEqual(0, code, err);
        StringAssert.Contains(err, $"note: removed {stale}");
        Assert.IsFalse(Directory.Exists(stale));
        Assert.IsTrue(File.Exists(Path.Combine(output, "model.safetensors")));
        Assert.AreEqual(1, Directory.GetFileSystemEntries(_dir, ".out*").Length + Directory.GetFileSystemEntries(_dir, "out").Length);
    }

    // ---- stack traces ----

    [TestMethod]
    [DataRow("0")]
    [DataRow("-1")]
    public void EmbedBatchSizeNotPositive_IsOneLine(string size)
    {
        string line = AssertOneLine(Run("embed", Path.Combine(Vision, "base.safetensors"), "--input", Path.Combine(Vision, "fashion", "test_images.npy"),
            "--pixels", "zoo", "-o", Path.Combine(_dir, "e.npy"), "--batch-size", size));
        StringAssert.Contains(line, $"--batch-size must be at least 1; got {size}");
    }

    [TestMethod]
    public void ExportNoPerTaskAlone_IsOneLine()
    {
        string line = AssertOneLine(Run("export", Path.Combine(_dir, "merged"), "--no-per-task", "-o", Path.Combine(_dir, "onnx")));
        StringAssert.Contains(line, "--no-per-task leaves nothing to write");
    }

    [TestMethod]
    public void EvaluateKnnWithMoreShotsThanValidation_IsOneLine_BeforeTheMerge()
    {
        string recipe = Path.Combine(_dir, "knn.yaml");
        string text = File.ReadAllText(Path.Combine(Vision, "recipes", "weight_average.yaml")).Replace("../", Vision + "/");
        text = System.Text.RegularExpressions.Regex.Replace(text, @"evaluate:.*", $"evaluate: {{ zoo: {Vision}, protocols: [current, knn], shots: 100000, seeds: 1 }}");
        File.WriteAllText(recipe, text);
        var result = Run("evaluate", recipe);
        string line = AssertOneLine(result);
        StringAssert.Contains(line, "evaluate.shots: 100000 labeled anchors per class");
        Assert.IsFalse(result.Out.Contains("merge:", StringComparison.Ordinal), "refused before merging:\n" + result.Out);
    }

    // ---- misleading messages ----

    [TestMethod]
    public void UnknownOption_SaysUnknownOption()
    {
        StringAssert.Contains(AssertOneLine(Run("merge", "--frobnicate")), "unknown option '--frobnicate' for 'merge'");
        StringAssert.Contains(AssertOneLine(Run("inspect", Path.Combine(Vision, "base.safetensors"), "--frobnicate")), "--frobnicate");
    }

    [TestMethod]
    public void BadOptionValue_AndMissingRequiredOptions_AreOneLineWithExitTwo()
    {
        string seed = AssertOneLine(Run("merge", Path.Combine(Vision, "recipes", "ties.yaml"), "--seed", "abc"));
        StringAssert.Contains(seed, "'abc'");
        StringAssert.Contains(seed, "--seed");
        string missing = AssertOneLine(Run("embed", Path.Combine(Vision, "base.safetensors")));
        StringAssert.Contains(missing, "'--input' is required");
        StringAssert.Contains(missing, "'--output' is required");
        StringAssert.Contains(missing, "mlnetmerge embed --help");
        // Help itself still works.
        var help = Run("merge", "--help");
        Assert.AreEqual(0, help.Code, help.Err);
        StringAssert.Contains(help.Out, "--force");
    }

    [TestMethod]
    public void ParameterWord_SaysTheWord()
    {
        string recipe = SmallFamily("family", "out");
        File.WriteAllText(recipe, File.ReadAllText(recipe).Replace("task_arithmetic", "ties") + "parameters: { keep: abc }\n");
        string line = AssertOneLine(Run("merge", recipe));
        StringAssert.Contains(line, "must be a number in [0, 1]; got 'abc'");
    }

    [TestMethod]
    public void InspectOnNpyOrYaml_SaysWhatTheFileIs()
    {
        StringAssert.Contains(AssertOneLine(Run("inspect", Path.Combine(Vision, "fashion", "test_images.npy"))), "is a NumPy .npy array, not a checkpoint");
        StringAssert.Contains(AssertOneLine(Run("inspect", Path.Combine(Vision, "recipes", "ties.yaml"))), "is a text file (YAML, CSV or similar), not a checkpoint");
    }

    [TestMethod]
    public void EvaluateReportOverAForeignFile_IsRefusedBeforeRunning()
    {
        string report = Path.Combine(_dir, "notes.json");
        File.WriteAllText(report, "{\"mine\": true}");
        var result = Run("evaluate", Path.Combine(Vision, "recipes", "weight_average.yaml"), "--report", report);
        StringAssert.Contains(AssertOneLine(result), "is not an MLNetMerge report");
        Assert.IsFalse(result.Out.Contains("merge:", StringComparison.Ordinal), result.Out);
        Assert.AreEqual("{\"mine\": true}", File.ReadAllText(report));
    }

    [TestMethod]
    public void MissingZoo_IsOneLineNamingIt()
    {
        string recipe = SmallFamily("family", "out");
        File.AppendAllText(recipe, "evaluate: { zoo: /nonexistent/zoo }\n");
        string line = AssertOneLine(Run("evaluate", recipe));
        StringAssert.Contains(line, "no zoo at /nonexistent/zoo");
    }

    [TestMethod]
    public void ReportOnAnUnrelatedJson_AndDemoWithoutAZoo_FailInOneLine()
    {
        string json = Path.Combine(_dir, "package.json");
        File.WriteAllText(json, "{\"name\": \"x\"}");
        StringAssert.Contains(AssertOneLine(Run("report", json)), "is not an MLNetMerge report");
        Assert.IsFalse(File.Exists(Path.Combine(_dir, "report.html")));
        StringAssert.Contains(AssertOneLine(Run("demo", "--zoo", "/nonexistent", "-o", Path.Combine(_dir, "demo"))), "/nonexistent");
        Assert.IsFalse(Directory.Exists(Path.Combine(_dir, "demo")));
    }

    [TestMethod]
    public void UnknownOptionsEmptyValuesAndStrayWords_AreNamed()
    {
        // Found by a command-line trial: each was reported as something else, or not at all.
        string model = Path.Combine(Vision, "base.safetensors");
        StringAssert.Contains(AssertOneLine(Run("inspect", "--json", model)), "unknown option '--json' for 'inspect'");
        StringAssert.Contains(AssertOneLine(Run("merge", "--method", "ties", "--base", model, "--model", "a=" + Path.Combine(Vision, "fashion.safetensors"), "-o", "")),
            "option '--output' has an empty value");
        StringAssert.Contains(AssertOneLine(Run("report", "")), "argument 'report' is empty");
        StringAssert.Contains(AssertOneLine(Run("demo", "--zoo", Vision, "--family", "text", "-o", Path.Combine(_dir, "demo"))), "--zoo and --family both name the zoo to run");
        StringAssert.Contains(AssertOneLine(Run("merge", "--method", "ties", "--base", model, "--model", "a=" + Path.Combine(Vision, "fashion.safetensors"),
            "--param", "keep", "0.2", "-o", Path.Combine(_dir, "g"))), "'0.2' is not a recipe file");
        // A negative value split from its option was named as an unknown option '-0.5' (a late re-check).
        StringAssert.Contains(AssertOneLine(Run("merge", "--method", "ties", "--base", model, "--model", "a=" + Path.Combine(Vision, "fashion.safetensors"),
            "--param", "scale", "-0.5", "-o", Path.Combine(_dir, "g"))), "'-0.5' is a value without its option: give NAME=VALUE as one word");
        StringAssert.Contains(AssertOneLine(Run("merge", Path.Combine(Vision, "recipes", "ties.yaml"), "--materialize", "fashion,", "-o", Path.Combine(_dir, "m"))),
            "--materialize: an empty model name");
        Assert.IsFalse(Directory.Exists(Path.Combine(_dir, "g")) || Directory.Exists(Path.Combine(_dir, "m")) || Directory.Exists(Path.Combine(_dir, "demo")));
        // '@' starts a path, not a file of arguments.
        string at = Path.Combine(_dir, "@base.safetensors");
        File.Copy(model, at);
        var (code, output, err) = Run("inspect", at);
        Assert.AreEqual(0, code, err);
        StringAssert.Contains(output, "tensor");
    }

    [TestMethod]
    public void ExportWithTheConfigOfAnotherEncoder_NamesTheConfig()
    {
        // It failed as "tensor 'embeddings.word_embeddings.weight': is missing from the model being exported" (a command-line trial).
        string merged = Path.Combine(_dir, "merged-vit");
        var (code, _, err) = Run("merge", "--method", "task_arithmetic", "--base", Path.Combine(Vision, "base.safetensors"),
            "--model", "fashion=" + Path.Combine(Vision, "fashion.safetensors"), "-o", merged);
        Assert.AreEqual(0, code, err);
        string textConfig = Path.Combine(ZooPaths.Text, "config.json");
        string line = AssertOneLine(Run("export", merged, "--config", textConfig, "-o", Path.Combine(_dir, "onnx-x")));
        StringAssert.Contains(line, $"the bert encoder of {textConfig} needs it");
        Assert.IsFalse(Directory.Exists(Path.Combine(_dir, "onnx-x")));
    }

    [TestMethod]
    public void AnOptionWithoutItsValue_IsNamed()
    {
        // '-o' was read as the dtype and the output path as a recipe (found by a number-format trial).
        string line = AssertOneLine(Run("merge", "--method", "ties", "--base", Path.Combine(Vision, "base.safetensors"),
            "--model", "a=" + Path.Combine(Vision, "fashion.safetensors"), "--dtype", "-o", Path.Combine(_dir, "q")));
        StringAssert.Contains(line, "option '--dtype' has no value: the word after it, '-o', is an option");
        // With a recipe first too (the words left behind were reported instead: 'Unrecognized … q'), and --materialize.
        StringAssert.Contains(AssertOneLine(Run("merge", Path.Combine(Vision, "recipes", "ties.yaml"), "--dtype", "-o", Path.Combine(_dir, "q"))),
            "option '--dtype' has no value");
        StringAssert.Contains(AssertOneLine(Run("merge", Path.Combine(Vision, "recipes", "ties.yaml"), "--materialize", "-o", Path.Combine(_dir, "q"))),
            "--materialize: no model named");
        Assert.IsFalse(Directory.Exists(Path.Combine(_dir, "q")));
    }

    [TestMethod]
    public void Embed_TokenIdsOfNoLength_IsOneLine()
    {
        // (2, 0) ids failed with "Specified argument was out of the range of valid values." (a structure-aware fuzz trial).
        string ids = Path.Combine(_dir, "ids.npy");
        NpyFile.Write(ids, ReadOnlySpan<long>.Empty, [2, 0]);
        string line = AssertOneLine(Run("embed", Path.Combine(ZooPaths.Text, "base.safetensors"), "--input", ids, "-o", Path.Combine(_dir, "e.npy")));
        StringAssert.Contains(line, ids);
        StringAssert.Contains(line, "token ids of shape [2, 0]: every sequence needs at least one token");
    }

    // ---- silently wrong ----

    [TestMethod]
    public void Embed_RefusesUint8PixelsUnlessNormalised_AndZooPixelsMatchTheNormalisedInput()
    {
        string images = Path.Combine(Vision, "fashion", "test_images.npy");
        string model = Path.Combine(Vision, "base.safetensors");
        StringAssert.Contains(AssertOneLine(Run("embed", model, "--input", images, "-o", Path.Combine(_dir, "raw.npy"))), "holds uint8 pixels");
        var (code, _, err) = Run("embed", model, "--input", images, "--pixels", "zoo", "-o", Path.Combine(_dir, "zoo.npy"));
        Assert.AreEqual(0, code, err);
        // The same images normalised by hand (x = b / 127.5 − 1) as float32 give the same bytes.
        var raw = NpyFile.Read(images);
        string normalised = Path.Combine(_dir, "normalised.npy");
        NpyFile.Write(normalised, raw.Data.Select(b => b / 127.5f - 1f).ToArray(), raw.Shape);
        (code, _, err) = Run("embed", model, "--input", normalised, "-o", Path.Combine(_dir, "float.npy"));
        Assert.AreEqual(0, code, err);
        CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(_dir, "float.npy")), File.ReadAllBytes(Path.Combine(_dir, "zoo.npy")));
        // Raw pixel values as float32 are refused too.
        string floats = Path.Combine(_dir, "floats.npy");
        NpyFile.Write(floats, raw.Data.Select(b => (float)b).ToArray(), raw.Shape);
        StringAssert.Contains(AssertOneLine(Run("embed", model, "--input", floats, "-o", Path.Combine(_dir, "f.npy"))), "raw pixel values?");
    }

    [TestMethod]
    public void Embed_RefusesInt64ForAViT_NaN_AndMaskOnAViT()
    {
        string model = Path.Combine(Vision, "base.safetensors");
        string ids = Path.Combine(_dir, "ids.npy");
        NpyFile.Write(ids, new long[2 * 784], [2, 1, 28, 28]);
        StringAssert.Contains(AssertOneLine(Run("embed", model, "--input", ids, "-o", Path.Combine(_dir, "a.npy"))), "holds I64 values");
        string nan = Path.Combine(_dir, "nan.npy");
        var x = new float[2 * 784];
        x[784 + 5] = float.NaN;
        NpyFile.Write(nan, x, [2, 1, 28, 28]);
        StringAssert.Contains(AssertOneLine(Run("embed", model, "--input", nan, "-o", Path.Combine(_dir, "b.npy"))), "holds NaN at element 789 (example 1)");
        string ok = Path.Combine(_dir, "ok.npy");
        NpyFile.Write(ok, new float[2 * 784], [2, 1, 28, 28]);
        string mask = Path.Combine(_dir, "mask.npy");
        NpyFile.Write(mask, new long[2 * 784], [2, 784]);
        StringAssert.Contains(AssertOneLine(Run("embed", model, "--input", ok, "--mask", mask, "-o", Path.Combine(_dir, "c.npy"))), "--mask applies to text models");
        Assert.AreEqual(0, Directory.GetFiles(_dir, "?.npy").Length, "nothing written");
    }

    [TestMethod]
    public void EmbedOutput_NeverReplacesAFileWithoutForce_NorAnInput_NorWithItAnythingButAnEarlierNpy()
    {
        string model = Path.Combine(Vision, "base.safetensors");
        string input = Path.Combine(_dir, "x.npy");
        NpyFile.Write(input, new float[784], [1, 1, 28, 28]);
        string recipe = Path.Combine(_dir, "recipe.yaml");
        File.WriteAllText(recipe, "precious");
        StringAssert.Contains(AssertOneLine(Run("embed", model, "--input", input, "-o", recipe)), "already exists; to replace it, pass --force");
        Assert.AreEqual("precious", File.ReadAllText(recipe));
        StringAssert.Contains(AssertOneLine(Run("embed", model, "--input", input, "-o", input, "--force")), "is an input of this command");
        // --force replaces only an array the command wrote (its ledger lists it), never another file — an NPY array included.
        StringAssert.Contains(AssertOneLine(Run("embed", model, "--input", input, "-o", recipe, "--force")), "was not written by an earlier run");
        Assert.AreEqual("precious", File.ReadAllText(recipe));
        string dataset = Path.Combine(_dir, "images.npy");
        NpyFile.Write(dataset, new float[3], [3]);
        StringAssert.Contains(AssertOneLine(Run("embed", model, "--input", input, "-o", dataset, "--force")), "was not written by an earlier run");
        CollectionAssert.AreEqual(new[] { 3 }, NpyFile.ReadFloat32(dataset).Shape);
        string earlier = Path.Combine(_dir, "y.npy");
        Assert.AreEqual(0, Run("embed", model, "--input", input, "-o", earlier).Code);
        var (code, _, err) = Run("embed", model, "--input", input, "-o", earlier, "--force");
        Assert.AreEqual(0, code, err);
        CollectionAssert.AreEqual(new[] { 1, 64 }, NpyFile.ReadFloat32(earlier).Shape);
        // An output changed since it was written is no longer the command's.
        NpyFile.Write(earlier, new float[2], [2]);
        StringAssert.Contains(AssertOneLine(Run("embed", model, "--input", input, "-o", earlier, "--force")), "was not written by an earlier run");
    }

    [TestMethod]
    public void Cart_WhenNoTensorMatchesTheBlockRule_FailsInsteadOfAveraging()
    {
        string dir = Path.Combine(_dir, "flat");
        Directory.CreateDirectory(dir);
        new TinyFamily("t1", "t2").WithTaskVectors("dense.w", [2, 2], [1f, 2f, 3f, 4f], [1f, 0f, 0f, 1f], [0f, 1f, 1f, 0f]).Save(dir);
        string recipe = Path.Combine(dir, "cart.yaml");
        File.WriteAllText(recipe, "method: cart\nbase: base.safetensors\nmodels:\n  - { name: t1, path: t1.safetensors }\n  - { name: t2, path: t2.safetensors }\noutput: out\n");
        StringAssert.Contains(AssertOneLine(Run("merge", recipe)), "no merged tensor is a block matrix");
        Assert.IsFalse(Directory.Exists(Path.Combine(dir, "out")));
    }

    [TestMethod]
    public void Merge_PrintsWarningsForRulesThatMatchNothing()
    {
        string recipe = SmallFamily("family", "out");
        File.AppendAllText(recipe, "parameters: { scale: [{ filter: mlp, value: 0.5 }, { value: 0.3 }] }\n");
        var (code, _, err) = Run("merge", recipe);
        Assert.AreEqual(0, code, err);
        StringAssert.Contains(err, "warning: parameter 'scale': the filter 'mlp' is in no merged tensor's name");
        string manifest = File.ReadAllText(Path.Combine(Path.GetDirectoryName(recipe)!, "out", "manifest.json"));
        StringAssert.Contains(manifest, "warning.filter.scale.mlp");
    }

    // ---- portability and friction ----

    [TestMethod]
    public void MergeOutput_DescribesItself_EmbedTaskPicksOneHead_AndExportsDoNotDependOnTheirFolder()
    {
        string merged = Path.Combine(_dir, "ties");
        var (code, _, err) = Run("merge", Path.Combine(Vision, "recipes", "ties.yaml"), "-o", merged);
        Assert.AreEqual(0, code, err);
        Assert.IsTrue(File.Exists(Path.Combine(merged, "config.json")));
        string images = Path.Combine(Vision, "digits", "test_images.npy");
        (code, _, err) = Run("embed", merged, "--input", images, "--pixels", "zoo", "-o", Path.Combine(_dir, "emb.npy"));
        Assert.AreEqual(0, code, err);
        (code, _, err) = Run("embed", merged, "--input", images, "--pixels", "zoo", "--task", "digits", "-o", Path.Combine(_dir, "logits.npy"));
        Assert.AreEqual(0, code, err);
        // logits = e·Wᵀ + b with the digits head (copied unchanged from digits.safetensors).
        var (e, es) = NpyFile.ReadFloat32(Path.Combine(_dir, "emb.npy"));
        var (l, ls) = NpyFile.ReadFloat32(Path.Combine(_dir, "logits.npy"));
        using var digits = CheckpointReader.Open(Path.Combine(Vision, "digits.safetensors"));
        var wInfo = digits.Tensors.Single(t => t.Name == "classifier.weight");
        var w = new float[wInfo.ElementCount];
        digits.ReadFloat32(wInfo, w);
        var b = new float[wInfo.Shape[0]];
        digits.ReadFloat32(digits.Tensors.Single(t => t.Name == "classifier.bias"), b);
        Assert.AreEqual(wInfo.Shape[0], ls[1]);
        for (int n = 0; n < 3; n++)
            for (int k = 0; k < ls[1]; k++)
            {
                double expected = b[k];
                for (int j = 0; j < es[1]; j++) expected += (double)e[n * es[1] + j] * w[k * es[1] + j];
                Assert.AreEqual(expected, l[n * ls[1] + k], 1e-4);
            }
        StringAssert.Contains(AssertOneLine(Run("embed", merged, "--input", images, "--pixels", "zoo", "--task", "nope", "-o", Path.Combine(_dir, "n.npy"))),
            "has no head of task 'nope'; its tasks are: fashion, digits");
        StringAssert.Contains(AssertOneLine(Run("embed", merged, "--input", images, "--pixels", "zoo", "--head", Path.Combine(merged, "heads.safetensors"), "-o", Path.Combine(_dir, "h.npy"))),
            "pick one with --task NAME");

        // Export without --config (the output carries it), into two folders: the same bytes, and no path inside.
        string one = Path.Combine(_dir, "onnx1"), two = Path.Combine(_dir, "deeper", "folder", "onnx2");
        Assert.AreEqual(0, Run("export", merged, "-o", one, "--multi-head").Code);
        Assert.AreEqual(0, Run("export", merged, "-o", two, "--multi-head").Code);
        foreach (var f in Directory.GetFiles(one).Select(Path.GetFileName))
        {
            CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(one, f!)), File.ReadAllBytes(Path.Combine(two, f!)), f);
            string text = System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(Path.Combine(two, f!)));
            Assert.IsFalse(text.Contains(_dir, StringComparison.Ordinal), $"{f} holds a path");
        }
        // The export folder recognises itself under --force; the merge folder may not become an export.
        Assert.AreEqual(0, Run("export", merged, "-o", one, "--multi-head", "--force").Code);
        StringAssert.Contains(AssertOneLine(Run("export", merged, "-o", merged, "--force")), "input of this run");
        Assert.IsTrue(File.Exists(Path.Combine(merged, "model.safetensors")));
    }

    [TestMethod]
    public void PipedOutput_HasNoEscapeCodes_EvenWhereCiClaimsColour()
    {
        var env = new Dictionary<string, string> { ["TERM"] = "xterm-256color", ["GITHUB_ACTIONS"] = "true", ["COLORTERM"] = "truecolor" };
        var (code, output, err) = RunIn(null, env, "inspect", Path.Combine(Vision, "base.safetensors"));
        Assert.AreEqual(0, code, err);
        Assert.IsFalse(output.Contains('\u001b'), "escape code in piped output");
        StringAssert.Contains(output, "vit.embeddings.cls_token");
    }

    [TestMethod]
    public void Console_OnATerminal_HasColour_UnlessNoColor()
    {
        var plain = MLNetMerge.Cli.Commands.Terminal.Create(terminal: true, noColor: true, new StringWriter());
        var piped = MLNetMerge.Cli.Commands.Terminal.Create(terminal: false, noColor: false, new StringWriter());
        Assert.AreEqual(Spectre.Console.ColorSystem.NoColors, plain.Profile.Capabilities.ColorSystem);
        Assert.AreEqual(Spectre.Console.ColorSystem.NoColors, piped.Profile.Capabilities.ColorSystem);
        Assert.IsFalse(piped.Profile.Capabilities.Ansi);
        Assert.AreEqual(160, piped.Profile.Width);
        var sw = new StringWriter();
        var styled = MLNetMerge.Cli.Commands.Terminal.Create(terminal: true, noColor: true, sw);
        Spectre.Console.AnsiConsoleExtensions.Markup(styled, "[red]x[/]");
        Assert.IsFalse(sw.ToString().Contains("\u001b[31m", StringComparison.Ordinal) || sw.ToString().Contains("\u001b[38", StringComparison.Ordinal), sw.ToString());
    }

    [TestMethod]
    public void InternalErrors_AreOneLineWithExitOne()
    {
        foreach (var e in new Exception[] { new InvalidOperationException("x\ny"), new OverflowException("too big"), new NullReferenceException() })
        {
            var (code, line) = MLNetMerge.Cli.ExitCodes.Of(e, null);
            Assert.AreEqual(1, code);
            StringAssert.StartsWith(line, $"internal error: {e.GetType().Name}: ");
            Assert.IsFalse(line.Contains('\n'));
        }
        Assert.AreEqual(2, MLNetMerge.Cli.ExitCodes.Of(new RecipeException("r.yaml", "bad"), null).Code);
        Assert.AreEqual(2, MLNetMerge.Cli.ExitCodes.Of(new FileNotFoundException("gone"), null).Code);
        Assert.AreEqual(130, MLNetMerge.Cli.ExitCodes.Of(new OperationCanceledException(), System.Runtime.InteropServices.PosixSignal.SIGINT).Code);
        Assert.AreEqual(143, MLNetMerge.Cli.ExitCodes.Of(new AggregateException(new OperationCanceledException()), System.Runtime.InteropServices.PosixSignal.SIGTERM).Code);
    }

    [TestMethod]
    public void ErrorLines_EscapeControlCharacters_AndCutHugeNames()
    {
        // A tensor name holding a NUL or a right-to-left override was printed raw, and a 100 KB name made a 100 KB line
        // (found by a structure-aware fuzz trial).
        var (_, line) = MLNetMerge.Cli.ExitCodes.Of(new MergeException("f.safetensors", "a\0b\u202Ec", "is bad."), null);
        StringAssert.Contains(line, "a\\u0000b\\u202Ec");
        Assert.IsFalse(line.Any(c => char.IsControl(c) || c == '\u202E'), line);
        var (_, huge) = MLNetMerge.Cli.ExitCodes.Of(new MergeException("f.safetensors", new string('x', 100_000), "is bad."), null);
        Assert.IsTrue(huge.Length < MLNetMerge.Cli.ExitCodes.MaxLine + 100, $"{huge.Length} characters");
        StringAssert.EndsWith(huge, "more characters)");
        Assert.ThrowsExactly<RecipeException>(() => MLNetMerge.Recipes.RecipeParser.ParseSize("99999999999999999999GB", "r.yaml"));
    }

    private static int DeadProcessId()
    {
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("true") { UseShellExecute = false })!;
        p.WaitForExit();
        return p.Id;
    }
}
