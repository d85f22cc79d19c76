using System.Text.Json.Nodes;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Encoders;
using MLNetMerge.Recipes;

namespace MLNetMerge.Tests.Safety;

/// <summary>
/// The JSON beside the weights — config.json, a merge output's manifest.json, a safetensors index, the tokenizer's
/// settings, a zoo's manifest and splits — damaged or hand-edited (found by a structure-aware fuzz trial): each is a
/// one-line typed error naming the file and the key, where a wrong type was read as a default (a 768-wide model for
/// "hidden_size": "64"), failed inside the JSON reader as an internal error, ran an encoder without blocks the weights
/// hold, or failed only after the merge was written.
/// </summary>
[TestClass]
public sealed class DamagedSideFilesTests
{
    private string _dir = "";

    [TestInitialize]
    public void Init() => _dir = Directory.CreateTempSubdirectory("damaged-").FullName;

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_dir, true);

    private static string VisionConfig => File.ReadAllText(Path.Combine(ZooPaths.Vision, "config.json"));

    private string Config(Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(VisionConfig)!.AsObject();
        edit(json);
        string path = Path.Combine(_dir, "config.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    private MergeException Refused(Action<JsonObject> edit)
    {
        string config = Config(edit);
        using var reader = CheckpointReader.Open(Path.Combine(ZooPaths.Vision, "base.safetensors"));
        return Assert.ThrowsExactly<MergeException>(() => ModelArchitecture.Load(reader.Path, n => reader.TryGetTensor(n, out _), config));
    }

    [TestMethod]
    public void ConfigValuesOfAnotherTypeOrRangeAreNamed()
    {
        StringAssert.Contains(Refused(c => c["hidden_size"] = "64").Message, "'hidden_size' is the string \"64\"; expected a whole number from 1 up.");
        StringAssert.Contains(Refused(c => c["image_size"] = 64.5).Message, "'image_size' is 64.5; expected a whole number from 1 up.");
        StringAssert.Contains(Refused(c => c["num_attention_heads"] = 0).Message, "'num_attention_heads' is 0; expected a whole number from 1 up.");
        StringAssert.Contains(Refused(c => c["image_size"] = null).Message, "'image_size' is null");
        StringAssert.Contains(Refused(c => c["layer_norm_eps"] = -1).Message, "'layer_norm_eps' is -1; expected a finite number greater than 0.");
        StringAssert.Contains(Refused(c => c["qkv_bias"] = "yes").Message, "'qkv_bias' is the string \"yes\"; expected true or false.");
        StringAssert.Contains(Refused(c => c["hidden_act"] = 3).Message, "'hidden_act' is 3; expected a string.");
        StringAssert.Contains(Refused(c => c["num_hidden_layers"] = 1e12).Message, "'num_hidden_layers' is 1000000000000");
        StringAssert.Contains(Refused(c => c["layer_norm_eps"] = 0).Message, "expected a finite number greater than 0.");
        var e = Refused(c => c["hidden_size"] = "64");
        Assert.AreEqual(Path.Combine(_dir, "config.json"), e.File);
        File.WriteAllText(Path.Combine(_dir, "config.json"), "[1, 2]");
        using var reader = CheckpointReader.Open(Path.Combine(ZooPaths.Vision, "base.safetensors"));
        StringAssert.Contains(Assert.ThrowsExactly<MergeException>(() => ModelArchitecture.Load(reader.Path, n => reader.TryGetTensor(n, out _), Path.Combine(_dir, "config.json"))).Message,
            "config.json holds a list; expected a JSON object of settings.");
    }

    [TestMethod]
    public void AMergePassesOverAConfigItCannotRun_AndSaysSo()
    {
        // A malformed config.json or settings file beside the base made the merge succeed without writing config.json and
        // without a word (found by a docs walkthrough). It still merges — the tensors need no encoder, and stopping
        // refused configs of models the engine does not run (silu, max pooling, no model_type: a late re-check) — but warns,
        // and carries the base's config over as it is.
        foreach (string f in new[] { "base.safetensors", "fashion.safetensors" }) File.Copy(Path.Combine(ZooPaths.Vision, f), Path.Combine(_dir, f));
        (string Output, List<string> Log) Merge(string name)
        {
            var log = new List<string>();
            string output = Path.Combine(_dir, name);
            RecipeRunner.Merge(MergeRecipe.Parse(
                $"method: task_arithmetic\nbase: base.safetensors\nmodels:\n  - {{ name: fashion, path: fashion.safetensors }}\noutput: \"{output}\"\n",
                Path.Combine(_dir, "r.yaml"), _dir), new RecipeRunOptions { Log = log.Add });
            return (output, log);
        }
        var (bare, quiet) = Merge("bare");
        Assert.IsFalse(File.Exists(Path.Combine(bare, "config.json")));
        Assert.IsFalse(quiet.Any(l => l.StartsWith("warning:", StringComparison.Ordinal)), "no config at all: a merge of bare checkpoints, nothing to say");
        Config(c => c["hidden_size"] = "64");
        var (bad, log) = Merge("bad");
        // The base's config goes into the output as it is (mergekit's habit); it was left out.
        Assert.AreEqual(File.ReadAllText(Path.Combine(_dir, "config.json")), File.ReadAllText(Path.Combine(bad, "config.json")));
        var warning = log.Single(l => l.StartsWith("warning:", StringComparison.Ordinal));
        StringAssert.Contains(warning, Path.Combine(_dir, "config.json"));
        StringAssert.Contains(warning, "'hidden_size' is the string \"64\"");
        StringAssert.Contains(warning, "its output gets the base's config.json as it is");
        Config(c => { c["hidden_size"] = 64; c["hidden_act"] = "silu"; });
        StringAssert.Contains(Merge("silu").Log.Single(l => l.StartsWith("warning:", StringComparison.Ordinal)), "'hidden_act' is 'silu'");
        Config(c => c["model_type"] = "llama");
        StringAssert.Contains(Merge("llama").Log.Single(l => l.StartsWith("warning:", StringComparison.Ordinal)), "model_type 'llama' is not supported");
        Config(_ => { });
        var (good, fine) = Merge("good");
        Assert.IsTrue(File.Exists(Path.Combine(good, "config.json")));
        Assert.IsFalse(fine.Any(l => l.StartsWith("warning:", StringComparison.Ordinal)));
    }

    [TestMethod]
    public void WeightsWithMoreBlocksThanTheConfigAreRefused()
    {
        // num_hidden_layers 2 of a 4-block checkpoint ran two blocks and ignored the rest (embeddings off by up to 3.4).
        var e = Refused(c => c["num_hidden_layers"] = 2);
        StringAssert.Contains(e.Message, "is transformer block 2's, but ");
        StringAssert.Contains(e.Message, "says num_hidden_layers 2: the weights have more blocks than the config");
        StringAssert.Contains(e.Tensor!, "layer.2.");
    }

    [TestMethod]
    public void ADamagedMergeManifestIsNamed()
    {
        string output = Path.Combine(_dir, "merged");
        RecipeRunner.Merge(MergeRecipe.Parse(
            $"method: task_arithmetic\nbase: base.safetensors\nmodels:\n  - {{ name: fashion, path: fashion.safetensors }}\noutput: \"{output}\"\n",
            Path.Combine(ZooPaths.Vision, "r.yaml"), ZooPaths.Vision));
        string manifest = Path.Combine(output, "manifest.json");
        var original = File.ReadAllText(manifest);
        void Edit(Action<JsonObject> edit)
        {
            var json = JsonNode.Parse(original)!.AsObject();
            edit(json);
            File.WriteAllText(manifest, json.ToJsonString());
        }
        Edit(j => j.Remove("tasks"));
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointFormatException>(() => OutputFormat.LoadMerged(output)).Message, "'tasks' is missing; a merge output's manifest records it.");
        Edit(j => j["merged_parameters"] = "many");
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => OutputFormat.LoadMerged(output));
        Assert.AreEqual(manifest, e.File);
        StringAssert.Contains(e.Message, "'merged_parameters' is a string; expected a whole number.");
        Edit(j => j["per_task"] = null);
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointFormatException>(() => OutputFormat.LoadMerged(output)).Message, "'per_task' is null; expected true or false.");
        Edit(j => j["version"] = "1");
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointFormatException>(() => OutputFormat.LoadMerged(output)).Message, "'version' is a string; expected a whole number");
        File.WriteAllText(manifest, original);
        Assert.AreEqual(1, OutputFormat.LoadMerged(output).TaskNames.Count);
    }

    [TestMethod]
    public void AnIndexWithInvalidUtf8OrNoTensorIsNamed()
    {
        File.Copy(Path.Combine(ZooPaths.Vision, "base.safetensors"), Path.Combine(_dir, "model-00001-of-00001.safetensors"));
        string index = Path.Combine(_dir, "model.safetensors.index.json");
        File.WriteAllBytes(index, [.. "{\"weight_map\": {\"a"u8.ToArray(), 0xFF, .. "\": \"model-00001-of-00001.safetensors\"}}"u8.ToArray()]);
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointFormatException>(() => CheckpointReader.Open(index)).Message, "index is not valid UTF-8 text");
        File.WriteAllText(index, "{\"weight_map\": {}}");
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointFormatException>(() => CheckpointReader.Open(index)).Message, "'weight_map' is empty");
    }

    [TestMethod]
    public void ANamedPipeAsACheckpointIsRefusedWithoutWaiting()
    {
        // Opening a pipe waits for a writer: inspect and merge hung (found by a structure-aware fuzz trial).
        string empty = Path.Combine(_dir, "empty.safetensors");
        File.WriteAllBytes(empty, []);
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointFormatException>(() => CheckpointReader.Open(empty)).Message, "is empty (0 bytes), or not a regular file");
        if (OperatingSystem.IsWindows()) return;
        string pipe = Path.Combine(_dir, "pipe.safetensors");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", pipe)) mkfifo.WaitForExit();
        var open = Task.Run(() => Assert.ThrowsExactly<CheckpointFormatException>(() => CheckpointReader.Open(pipe)));
        Assert.IsTrue(open.Wait(TimeSpan.FromSeconds(20)), "opening a named pipe waited for a writer");
        StringAssert.Contains(open.Result.Message, "a named pipe or a device");
    }

    [TestMethod]
    public void TokenizerSettingsOfAnotherTypeAreNamed()
    {
        string Write(string file, string json)
        {
            string path = Path.Combine(_dir, file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, json);
            return path;
        }
        Write("sentence_bert_config.json", "{\"max_seq_length\": \"128\"}");
        var e = Assert.ThrowsExactly<MergeException>(() => TextSettings.Read(_dir, 512));
        Assert.AreEqual(Path.Combine(_dir, "sentence_bert_config.json"), e.File);
        StringAssert.Contains(e.Message, "'max_seq_length' is the string \"128\"; expected a whole number from 1 up.");
        Write("sentence_bert_config.json", "{\"max_seq_length\": 128}");
        // null is Hugging Face's "not set" (the recheck trial: real files write it).
        Write("tokenizer_config.json", "{\"do_lower_case\": null, \"model_max_length\": 16.5}");
        StringAssert.Contains(Assert.ThrowsExactly<MergeException>(() => TextSettings.Read(_dir, 512)).Message, "'model_max_length' is 16.5; expected a whole number from 1 up.");
        Write("tokenizer_config.json", "{\"do_lower_case\": null, \"model_max_length\": 1000000000000000019884624838656}");
        Write("1_Pooling/config.json", "[1]");
        StringAssert.Contains(Assert.ThrowsExactly<MergeException>(() => TextSettings.Read(_dir, 512)).Message, "holds a JSON array; expected an object of settings.");
        Write("1_Pooling/config.json", "{\"pooling_mode_mean_tokens\": true, \"pooling_mode_cls_token\": true}");
        StringAssert.Contains(Assert.ThrowsExactly<MergeException>(() => TextSettings.Read(_dir, 512)).Message, "sets both pooling_mode_mean_tokens and pooling_mode_cls_token");
        Write("1_Pooling/config.json", "{\"pooling_mode_mean_tokens\": true}");
        Assert.AreEqual(128, TextSettings.Read(_dir, 512).SequenceLength);
    }

    [TestMethod]
    public void AZooManifestAndItsSplitsAreCheckedBeforeAnythingRuns()
    {
        string zoo = Path.Combine(_dir, "zoo");
        Directory.CreateDirectory(zoo);
        foreach (string f in new[] { "base.safetensors", "config.json", "fashion.safetensors", "manifest.json" }) File.Copy(Path.Combine(ZooPaths.Vision, f), Path.Combine(zoo, f));
        CopyDirectory(Path.Combine(ZooPaths.Vision, "fashion"), Path.Combine(zoo, "fashion"));
        var original = File.ReadAllText(Path.Combine(zoo, "manifest.json"));
        void Manifest(Action<JsonObject> edit)
        {
            var json = JsonNode.Parse(original)!.AsObject();
            edit(json["tasks"]!.AsArray().Select(t => t!.AsObject()).First(t => (string?)t["name"] == "fashion"));
            File.WriteAllText(Path.Combine(zoo, "manifest.json"), json.ToJsonString());
        }
        string output = Path.Combine(_dir, "out");
        MergeRecipe Recipe() => MergeRecipe.Parse($"method: task_arithmetic\nbase: base.safetensors\nmodels:\n  - {{ name: fashion, path: fashion.safetensors }}\nevaluate: {{ zoo: ., protocols: [current] }}\noutput: \"{output}\"\n",
            Path.Combine(zoo, "r.yaml"), zoo);

        Manifest(t => t["test"] = null);
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointFormatException>(() => RecipeRunner.Run(Recipe())).Message, "$.tasks[");
        Manifest(t => t["test"]!["images"] = "../../../etc/passwd");
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointFormatException>(() => RecipeRunner.Run(Recipe())).Message, "'tasks[fashion].test.images' is '../../../etc/passwd'; a zoo's files are named relative to its folder, inside it.");

        Manifest(t => t["classes"]![1] = (string?)t["classes"]![0]);
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointFormatException>(() => RecipeRunner.Run(Recipe())).Message, "names class 'T-shirt/top' twice");
        Manifest(t => t["test"]!["count"] = 7);
        StringAssert.Contains(Assert.ThrowsExactly<CheckpointFormatException>(() => RecipeRunner.Run(Recipe())).Message, "holds 500 labels; the zoo's manifest counts 7 examples in this split of task 'fashion'.");

        // A label outside the task's classes names the labels file.
        Manifest(_ => { });
        string labels = Path.Combine(zoo, "fashion", "test_labels.npy");
        var (values, shape) = NpyFile.ReadInt64(labels);
        values[3] = 99;
        File.Delete(labels);
        NpyFile.Write(labels, values, shape);
        var e = Assert.ThrowsExactly<CheckpointFormatException>(() => RecipeRunner.Run(Recipe()));
        Assert.AreEqual(labels, e.File);
        StringAssert.Contains(e.Message, "label 99 of example 3 is outside task 'fashion''s 10 classes (0 … 9).");
        Assert.IsFalse(Directory.Exists(output), "nothing is written before the check");
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }
}
