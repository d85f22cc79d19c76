using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Checkpoints.Onnx;
using MLNetMerge.Encoders;
using MLNetMerge.Export;

namespace MLNetMerge.Tests.Onnx;

/// <summary>
/// Exports merged ViT, CLIP vision and MLP models (per task and multi-head) and checks them against the engine:
/// onnx.checker(full_check) and ONNX Runtime outputs (in process) within 1e-4 of <see cref="VisionTransformer"/> / <see cref="Mlp"/>
/// plus the head, on a batch of 3 (the exported batch axis is symbolic).
/// </summary>
[TestClass]
[TestCategory("onnx")]
public sealed class OnnxExportTests
{
    private const int Batch = 3;
    private static readonly (string Task, int Classes)[] Tasks = [("a", 3), ("b", 5)];

    internal static VisionTransformerConfig Vit => new()
    {
        Flavor = VisionFlavor.Vit, ImageSize = 8, PatchSize = 4, NumChannels = 3, HiddenSize = 16, NumLayers = 2, NumHeads = 2,
        IntermediateSize = 32, Activation = ActivationKind.GeluErf, LayerNormEps = 1e-12, QkvBias = true, Pooler = true,
    };

    internal static VisionTransformerConfig Clip => new()
    {
        Flavor = VisionFlavor.ClipVision, ImageSize = 8, PatchSize = 4, NumChannels = 3, HiddenSize = 16, NumLayers = 2, NumHeads = 2,
        IntermediateSize = 32, Activation = ActivationKind.QuickGelu, LayerNormEps = 1e-5, ProjectionDim = 8,
    };

    internal static VisionTransformerConfig OpenClip => Clip with { Flavor = VisionFlavor.OpenClipVisual, Activation = ActivationKind.GeluErf };

    internal static TextEncoderConfig Bert => new()
    {
        Flavor = TextFlavor.Bert, VocabSize = 30, HiddenSize = 16, NumLayers = 2, NumHeads = 2, IntermediateSize = 32,
        Activation = ActivationKind.GeluErf, LayerNormEps = 1e-12, MaxPositions = 16, TypeVocabSize = 2, PadTokenId = 0, Pooler = true,
    };

    internal static TextEncoderConfig Roberta => Bert with { Flavor = TextFlavor.Roberta, PadTokenId = 1, LayerNormEps = 1e-5, TypeVocabSize = 1, Pooler = false };

    internal static MlpConfig MlpCfg => new() { InputSize = 12, HiddenSizes = [16, 16], OutputSize = 10, Activation = ActivationKind.GeluErf };

    /// <summary>Parameter names and shapes of an architecture, from the engine's own layout.</summary>
    internal static IReadOnlyList<(string Name, int[] Shape)> LayoutOf(object cfg) => (cfg switch
    {
        VisionTransformerConfig v => new VisionTransformer(v).Parameters.Layout,
        MlpConfig m => new Mlp(m).Parameters.Layout,
        TextEncoderConfig t => new TextEncoder(t).Parameters.Layout,
        _ => throw new ArgumentException("architecture"),
    }).Entries.Select(e => (e.Name, e.Shape)).ToList();

    internal static int EmbeddingWidth(object cfg) => cfg switch
    {
        VisionTransformerConfig { Flavor: VisionFlavor.ClipVision or VisionFlavor.OpenClipVisual } c => c.ProjectionDim,
        VisionTransformerConfig v => v.HiddenSize,
        MlpConfig m => m.OutputSize,
        TextEncoderConfig t => t.HiddenSize,
        _ => 0,
    };

    /// <summary>A base and one fine-tuned copy per task (weights N(0, 0.3²); layer-norm scales 1 + N(0, 0.1²); tasks add N(0, 0.05²)), each with its head.</summary>
    internal static ModelFamily Family(object cfg, int seed, (string Task, int Classes)[]? taskHeads = null)
    {
        var rng = new Random(seed);
        float Normal(double sd) => (float)(sd * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        var layout = LayoutOf(cfg);
        var baseValues = layout.Select(e =>
        {
            int n = e.Shape.Aggregate(1, (a, b) => a * b);
            bool scale = e.Name.Contains("norm", StringComparison.OrdinalIgnoreCase) && e.Name.EndsWith(".weight", StringComparison.Ordinal);
            return Enumerable.Range(0, n).Select(_ => (scale ? 1f : 0f) + Normal(scale ? 0.1 : 0.3)).ToArray();
        }).ToList();
        var b = new InMemoryCheckpoint("base");
        for (int i = 0; i < layout.Count; i++) b.Add(layout[i].Name, layout[i].Shape, baseValues[i]);
        int width = EmbeddingWidth(cfg);
        var tasks = new List<TaskModel>();
        foreach (var (task, classes) in taskHeads ?? Tasks)
        {
            var t = new InMemoryCheckpoint(task);
            for (int i = 0; i < layout.Count; i++) t.Add(layout[i].Name, layout[i].Shape, baseValues[i].Select(v => v + Normal(0.05)).ToArray());
            t.Add("classifier.weight", [classes, width], Enumerable.Range(0, classes * width).Select(_ => Normal(0.5)).ToArray());
            t.Add("classifier.bias", [classes], Enumerable.Range(0, classes).Select(_ => Normal(0.5)).ToArray());
            tasks.Add(new TaskModel(task, t));
        }
        return ModelFamily.Create(b, tasks, new HeadFilter(HeadFilter.DefaultPattern));
    }

    internal static (float[] Values, int[] Shape) Inputs(object cfg, int seed)
    {
        var rng = new Random(seed);
        int[] shape = cfg is VisionTransformerConfig v ? [Batch, v.NumChannels, v.ImageSize, v.ImageSize] : [Batch, ((MlpConfig)cfg).InputSize];
        return (Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray(), shape);
    }

    /// <summary>The engine's embedding (B, E) for task <paramref name="task"/>'s weights.</summary>
    internal static float[] EngineEmbedding(object cfg, MergedModel model, string task, float[] x, int batch = Batch)
    {
        var ckpt = new InMemoryCheckpoint("merged-" + task);
        foreach (var (name, shape) in LayoutOf(cfg)) ckpt.Add(name, shape, model.TensorFor(task, name));
        switch (cfg)
        {
            case VisionTransformerConfig v:
            {
                var m = VisionTransformer.Load(v, ckpt);
                m.Forward(x, batch);
                return m.Embedding(batch).ToArray();
            }
            default:
            {
                var m = new Mlp((MlpConfig)cfg);
                m.Load(ckpt);
                m.Forward(x, batch);
                return m.Output(batch).ToArray();
            }
        }
    }

    /// <summary>logits = embedding Wᵀ + b with the task's head, through the engine's Linear layer.</summary>
    internal static float[] EngineLogits(MergedModel model, string task, float[] embedding, int width, int classes, int batch = Batch)
    {
        var logits = new float[batch * classes];
        Linear.Forward<float>(logits, embedding, model.HeadFloat32(task, "classifier.weight"), model.HeadFloat32(task, "classifier.bias"), batch, width, classes);
        return logits;
    }

    [TestMethod]
    [DataRow("vit")]
    [DataRow("clip_vision")]
    [DataRow("openclip_visual")]
    [DataRow("mlp")]
    public void PerTaskAndMultiHeadExportsMatchTheEngine(string arch)
    {
        object cfg = arch switch { "vit" => Vit, "clip_vision" => Clip, "openclip_visual" => OpenClip, _ => MlpCfg };
        using var family = Family(cfg, seed: 11);
        var merged = EngineRuns.Merge(family, new TaskArithmeticOptions { Scale = 0.5 });
        string dir = Directory.CreateTempSubdirectory("onnx-export-").FullName;
        try
        {
            string outDir = Path.Combine(dir, "models");
            var files = OnnxExport.Write(merged, outDir, new OnnxExportOptions { Architecture = cfg, PerTask = true, MultiHead = true });
            CollectionAssert.AreEqual(new[] { "a.onnx", "b.onnx", "model.onnx" }, files.ToArray());

            var cases = new OnnxTools.Cases(outDir);
            var (x, xShape) = Inputs(cfg, seed: 5);
            int width = EmbeddingWidth(cfg);
            var inputs = new Dictionary<string, (float[], int[])> { ["pixel_values"] = (x, xShape) };
            var multi = new Dictionary<string, (float[], int[])>();
            foreach (var (task, classes) in Tasks)
            {
                float[] emb = EngineEmbedding(cfg, merged, task, x);
                float[] logits = EngineLogits(merged, task, emb, width, classes);
                cases.Add(task + ".onnx", inputs, new Dictionary<string, (float[], int[])>
                {
                    ["logits"] = (logits, [Batch, classes]), ["embedding"] = (emb, [Batch, width]),
                });
                multi["logits_" + task] = (logits, [Batch, classes]);
                multi["embedding"] = (emb, [Batch, width]);
            }
            cases.Add("model.onnx", inputs, multi);
            cases.Save();
            string report = OnnxTools.CheckAll(outDir);
            StringAssert.Contains(report, "onnx checker: 3 passed, 0 failed");
            StringAssert.Contains(report, ": 3 passed, 0 failed");
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>Token ids (3, 6) with the last two tokens of row 1 and the last one of row 2 padded (mask 0, pad id).</summary>
    internal static (long[] Ids, long[] Mask) TextInputs(TextEncoderConfig cfg, int seed)
    {
        var rng = new Random(seed);
        const int tokens = 6;
        var ids = new long[Batch * tokens];
        var mask = new long[Batch * tokens];
        for (int b = 0; b < Batch; b++)
            for (int t = 0; t < tokens; t++)
            {
                bool real = !(b == 1 && t >= 4) && !(b == 2 && t == 5);
                mask[b * tokens + t] = real ? 1 : 0;
                ids[b * tokens + t] = real ? rng.Next(2, cfg.VocabSize) : cfg.PadTokenId;
            }
        return (ids, mask);
    }

    internal static float[] EngineTextEmbedding(TextEncoderConfig cfg, MergedModel model, string task, long[] ids, long[] mask)
    {
        var ckpt = new InMemoryCheckpoint("merged-" + task);
        foreach (var (name, shape) in LayoutOf(cfg)) ckpt.Add(name, shape, model.TensorFor(task, name));
        var m = TextEncoder.Load(cfg, ckpt);
        m.Forward(ids.Select(i => (int)i).ToArray(), mask.Select(v => v != 0).ToArray(), default, Batch, ids.Length / Batch);
        return m.Embedding.ToArray();
    }

    [TestMethod]
    [DataRow("bert")]
    [DataRow("roberta")]
    public void TextEncoderExportsMatchTheEngine(string arch)
    {
        var cfg = arch == "bert" ? Bert : Roberta;
        using var family = Family(cfg, seed: 13);
        var merged = EngineRuns.Merge(family, new TiesOptions { Keep = 0.5, Scale = 1.0 });
        string dir = Directory.CreateTempSubdirectory("onnx-export-").FullName;
        try
        {
            string outDir = Path.Combine(dir, "models");
            OnnxExport.Write(merged, outDir, new OnnxExportOptions { Architecture = cfg, PerTask = true, MultiHead = true });
            var cases = new OnnxTools.Cases(outDir);
            var (ids, mask) = TextInputs(cfg, seed: 3);
            var ints = new Dictionary<string, (long[], int[])> { ["input_ids"] = (ids, [Batch, 6]), ["attention_mask"] = (mask, [Batch, 6]) };
            var none = new Dictionary<string, (float[], int[])>();
            var multi = new Dictionary<string, (float[], int[])>();
            foreach (var (task, classes) in Tasks)
            {
                float[] emb = EngineTextEmbedding(cfg, merged, task, ids, mask);
                float[] logits = EngineLogits(merged, task, emb, cfg.HiddenSize, classes);
                cases.Add(task + ".onnx", none, new Dictionary<string, (float[], int[])>
                {
                    ["logits"] = (logits, [Batch, classes]), ["embedding"] = (emb, [Batch, cfg.HiddenSize]),
                }, int64Inputs: ints);
                multi["logits_" + task] = (logits, [Batch, classes]);
                multi["embedding"] = (emb, [Batch, cfg.HiddenSize]);
            }
            cases.Add("model.onnx", none, multi, int64Inputs: ints);
            cases.Save();
            string report = OnnxTools.CheckAll(outDir);
            StringAssert.Contains(report, "onnx checker: 3 passed, 0 failed");
            StringAssert.Contains(report, ": 3 passed, 0 failed");
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void ExternalDataExportsRunInOnnxRuntime()
    {
        // The >2 GiB path, forced: every initializer of at least 64 bytes goes to {file}.data (4096-aligned offsets).
        object cfg = Vit;
        using var family = Family(cfg, seed: 14);
        var merged = EngineRuns.Merge(family, new TaskArithmeticOptions { Scale = 0.5 });
        string dir = Directory.CreateTempSubdirectory("onnx-export-").FullName;
        try
        {
            string outDir = Path.Combine(dir, "models");
            var files = OnnxExport.Write(merged, outDir, new OnnxExportOptions
            {
                Architecture = cfg, Write = new OnnxWriteOptions { ExternalDataThresholdBytes = 0, ExternalDataMinimumBytes = 64 },
            });
            CollectionAssert.AreEqual(new[] { "a.onnx", "a.onnx.data", "b.onnx", "b.onnx.data" }, files.ToArray());
            Assert.IsLessThan(new FileInfo(Path.Combine(outDir, "a.onnx.data")).Length / 4, new FileInfo(Path.Combine(outDir, "a.onnx")).Length,
                "the weights live in the data file");
            var cases = new OnnxTools.Cases(outDir);
            var (x, xShape) = Inputs(cfg, seed: 8);
            foreach (var (task, classes) in Tasks)
            {
                float[] emb = EngineEmbedding(cfg, merged, task, x);
                cases.Add(task + ".onnx", new Dictionary<string, (float[], int[])> { ["pixel_values"] = (x, xShape) }, new Dictionary<string, (float[], int[])>
                {
                    ["logits"] = (EngineLogits(merged, task, emb, 16, classes), [Batch, classes]), ["embedding"] = (emb, [Batch, 16]),
                });
            }
            cases.Save();
            string report = OnnxTools.CheckAll(outDir);
            StringAssert.Contains(report, "onnx checker: 2 passed, 0 failed");
            StringAssert.Contains(report, ": 2 passed, 0 failed");
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void PerTaskMethodExportsEachTasksOwnWeights()
    {
        // EMR gives each task its own weights θ̂t = θ0 + λt·(mt ⊙ τuni); each task's file must carry exactly those.
        object cfg = MlpCfg;
        using var family = Family(cfg, seed: 12);
        var merged = EngineRuns.Merge(family, new EmrOptions());
        Assert.AreEqual(2, merged.TaskTensors.Count);
        string dir = Directory.CreateTempSubdirectory("onnx-export-").FullName;
        try
        {
            string outDir = Path.Combine(dir, "models");
            Assert.ThrowsExactly<IncompatibleModelsException>(() =>
                OnnxExport.Write(merged, outDir, new OnnxExportOptions { Architecture = cfg, MultiHead = true }));
            Assert.IsFalse(Directory.Exists(outDir), "nothing written");
            // A saved EMR model without its materialized tasks has only the unified weights: per-task files would be wrong.
            string saved = Path.Combine(dir, "saved");
            EngineRuns.Save(merged, [], 0, saved);
            Directory.Delete(Path.Combine(saved, "tasks"), recursive: true);
            var e = Assert.ThrowsExactly<IncompatibleModelsException>(() =>
                OnnxExport.Write(EngineRuns.Load(saved).Merged, outDir, new OnnxExportOptions { Architecture = cfg }));
            StringAssert.Contains(e.Message, "--materialize");
            Assert.IsFalse(Directory.Exists(outDir), "nothing written");

            // With the base, the task weights are rebuilt from the masks and rescalers; the files must match the engine
            // on the materialized weights as well (checked below for both directories).
            OnnxExport.Write(merged, outDir, new OnnxExportOptions { Architecture = cfg });
            OnnxExport.Write(EngineRuns.Load(saved).Merged, Path.Combine(outDir, "rebuilt"), new OnnxExportOptions { Architecture = cfg, BaseModel = family.Base });
            var cases = new OnnxTools.Cases(outDir);
            var (x, xShape) = Inputs(cfg, seed: 6);
            foreach (var (task, classes) in Tasks)
            {
                float[] emb = EngineEmbedding(cfg, merged, task, x);
                var expected = new Dictionary<string, (float[], int[])>
                {
                    ["logits"] = (EngineLogits(merged, task, emb, 10, classes), [Batch, classes]), ["embedding"] = (emb, [Batch, 10]),
                };
                cases.Add(task + ".onnx", new Dictionary<string, (float[], int[])> { ["pixel_values"] = (x, xShape) }, expected);
                cases.Add($"rebuilt/{task}.onnx", new Dictionary<string, (float[], int[])> { ["pixel_values"] = (x, xShape) }, expected);
            }
            cases.Save();
            StringAssert.Contains(OnnxTools.CheckAll(outDir), ": 4 passed, 0 failed");
        }
        finally { Directory.Delete(dir, true); }
    }
}
