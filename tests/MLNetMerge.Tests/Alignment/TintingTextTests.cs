using MLNetMerge.Alignment;
using MLNetMerge.Checkpoints;
using MLNetMerge.Data;
using MLNetMerge.Merging;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Tensors;
using MLNetMerge.Cli.Zoo;
using MLNetMerge.Encoders;

namespace MLNetMerge.Tests.Alignment;

/// <summary>
/// Tinting (head mode) on a tiny BERT family on disk with a text-zoo manifest (token ids, mean pooling): the loss falls,
/// a saved state restores to identical predictions through the <c>config</c> parameter, and block mode is refused.
/// </summary>
[TestClass]
public sealed class TintingTextTests
{
    public TestContext TestContext { get; set; } = null!;

    private const int Seq = 6, Hidden = 8, Vocab = 12;
    private static readonly string[] Names = ["alpha", "beta"];
    private static readonly int[] Classes = [3, 2];

    private const string ConfigJson = """
        {"model_type": "bert", "vocab_size": 12, "hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2,
         "intermediate_size": 16, "hidden_act": "gelu", "layer_norm_eps": 1e-12, "max_position_embeddings": 6,
         "type_vocab_size": 2, "pad_token_id": 0}
        """;

    /// <summary>Writes config.json, manifest.json (bert, T = 6, mean pooling), a seeded base θ0 (bert.* tensors) and
    /// fine-tuned models θ0 + U(±0.1) with K-class heads.</summary>
    private static string WriteFamily()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"tinting-text-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), ConfigJson);
        var split = new ZooSplitFiles(null, "none.npy", 0, "none.npy");
        var tasks = Names.Select((n, t) => new ZooTask(n, "tiny", Enumerable.Range(0, Classes[t]).Select(c => $"c{c}").ToList(),
            n + ".safetensors", 0, split, split, new ZooTaskAccuracy(0, 0, 0, 0, 0, 0))).ToList();
        new ZooManifest("tiny-text", "bert", "config.json", "base.safetensors", "token ids", tasks,
            new ZooBuildInfo(0, "none", 0, 0, 0, "test family"), [], null, Seq, "mean").Save(dir);
        var layout = new TextEncoder(new TextEncoderConfig { VocabSize = Vocab, HiddenSize = Hidden, NumLayers = 2, NumHeads = 2, IntermediateSize = 16, MaxPositions = Seq }).Parameters.Layout;
        var rng = new Random(7);
        float U(double a) => (float)((rng.NextDouble() * 2 - 1) * a);
        var theta0 = new float[layout.TotalLength];
        foreach (var e in layout.Entries)
            for (int i = 0; i < e.Length; i++)
                theta0[e.Offset + i] = e.Name.Contains("LayerNorm", StringComparison.Ordinal) && e.Name.EndsWith(".weight", StringComparison.Ordinal) ? 1 + U(0.2) : U(0.5);
        void Write(string file, float[] values, int k)
        {
            var entries = layout.Entries.Select(e => new TensorEntry("bert." + e.Name, DType.F32, e.Shape)).ToList();
            if (k > 0) { entries.Add(new TensorEntry("classifier.weight", DType.F32, [k, Hidden])); entries.Add(new TensorEntry("classifier.bias", DType.F32, [k])); }
            using var w = new SafetensorsWriter(Path.Combine(dir, file), entries);
            foreach (var e in layout.Entries) w.WriteFloat32("bert." + e.Name, values.AsSpan(e.Offset, e.Length));
            if (k > 0)
            {
                w.WriteFloat32("classifier.weight", Enumerable.Range(0, k * Hidden).Select(_ => U(1.5)).ToArray());
                w.WriteFloat32("classifier.bias", Enumerable.Range(0, k).Select(_ => U(0.2)).ToArray());
            }
        }
        Write("base.safetensors", theta0, 0);
        for (int t = 0; t < Names.Length; t++) Write(Names[t] + ".safetensors", theta0.Select(v => v + U(0.1)).ToArray(), Classes[t]);
        return dir;
    }

    /// <summary>n rows <c>[CLS] w1..wm [SEP] [PAD]…</c> with m ∈ 1..4 words drawn from ids 5..11, as floats (N, 6).</summary>
    private static Dictionary<string, TaskDataset> Data(int n)
    {
        var rng = new Random(11);
        var result = new Dictionary<string, TaskDataset>(StringComparer.Ordinal);
        for (int t = 0; t < Names.Length; t++)
        {
            var x = new float[n * Seq];                                   // (N, T) token ids, 0 = [PAD]
            for (int i = 0; i < n; i++)
            {
                int m = rng.Next(1, 5);
                x[i * Seq] = 2;
                for (int j = 1; j <= m; j++) x[i * Seq + j] = rng.Next(5, Vocab);
                x[i * Seq + m + 1] = 3;
            }
            result[Names[t]] = new TaskDataset(Names[t], x, [Seq], null, Enumerable.Range(0, Classes[t]).Select(c => $"c{c}").ToArray());
        }
        return result;
    }

    [TestMethod]
    public void HeadMode_OnBert_LowersTheLoss_RestoresToIdenticalPredictions_BlockModeRefused()
    {
        string dir = WriteFamily();
        try
        {
            using var family = ModelFamily.Load(Path.Combine(dir, "base.safetensors"), Names.Select(n => (n, Path.Combine(dir, n + ".safetensors"))));
            var merged = EngineRuns.Merge(family, new TaskArithmeticOptions { Scale = 0.3 });
            var data = Data(40);
            var inputs = new MergeInputs(family, data);

            var model = (TintedModel)EngineRuns.Stage(new TintingOptions { Rounds = 30, BatchSize = 8 }).Fit(merged, inputs);
            Assert.IsNull(model.Config, "no ViT config for a BERT encoder");
            Assert.AreEqual(-1, model.BlockIndex);
            Assert.AreEqual(30, model.LossHistory.Count);
            double first = model.LossHistory.Take(5).Average(), last = model.LossHistory.TakeLast(5).Average();
            TestContext.WriteLine($"loss: first 5 rounds {first:F4}, last 5 {last:F4}");
            Assert.IsTrue(last < 0.8 * first, $"training lowers the pseudo-label cross-entropy ({first:F4} → {last:F4})");

            // The state has no config.vision; the encoder comes back from the merged model's own architecture (the family's
            // config.json), so the parameters carry no path.
            Assert.IsFalse(model.State.Any(s => s.Name == VisionConfigState.Name));
            Assert.IsFalse(model.Parameters.ContainsKey("config"));
            Assert.AreEqual(Path.GetFullPath(Path.Combine(dir, "config.json")), merged.Architecture!.ConfigPath);
            var restored = AlignmentMethods.Find("tinting").Restore(merged, model.Parameters, model.State);
            foreach (var task in new[] { "alpha", "beta", "alpha" })
            {
                var p = model.PredictProbabilities(task, data[task]);
                CollectionAssert.AreEqual(p, restored.PredictProbabilities(task, data[task]), $"{task}: same probabilities to the bit");
                Assert.AreEqual(data[task].Count * Classes[Array.IndexOf(Names, task)], p.Length);
            }
            // A merged model that does not know its architecture cannot rebuild a BERT state.
            var bare = new Merging.MergedModel(merged.Summary, merged.Layout, merged.Tensors, merged.RawTensors, merged.Heads, merged.HeadEntries,
                merged.Modulators, merged.ModulatorBytes, merged.TaskTensors);
            Assert.IsNull(bare.Architecture);
            Assert.ThrowsExactly<MergeException>(() => AlignmentMethods.Find("tinting").Restore(bare, model.Parameters, model.State));

            var block = EngineRuns.Stage(new TintingOptions { PlusPlus = true, Block = 0, Rounds = 2, BatchSize = 8 });
            var ex = Assert.ThrowsExactly<MergeException>(() => block.Fit(merged, inputs));
            StringAssert.Contains(ex.Message, "bert");
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
