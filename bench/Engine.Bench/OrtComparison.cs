using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using MLNetMerge.Nn;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Export;
using MLNetMerge.Tensors;

/// <summary>
/// `ort bert|clip OUTDIR [REPS]`: the engine's batched forward against ONNX Runtime (Microsoft.ML.OnnxRuntime, in this
/// process) on the same model: random weights of the named shape, exported with the project's own ONNX exporter, so
/// both sides run the identical network.
/// <list type="bullet">
/// <item><c>bert</c>: all-MiniLM-L6-v2's shape (BERT, 6 layers × 384 wide, 12 heads, MLP 1536, vocabulary 30522, pooler),
/// batch 32 × 64 tokens, each sequence padded after 16–64 real tokens (attention mask), output the pooled embedding.</item>
/// <item><c>clip</c>: CLIP ViT-B/32 vision (HF CLIPVisionModel + projection 512, quick GELU), batch 16, 224×224.</item>
/// </list>
/// ORT: graph optimisation level ALL, intra-op threads = processor count (as ours), sequential execution. The two sides
/// alternate, one forward each, REPS times (default 5) after 2 warm-up calls each; prints both medians, the ratio
/// ORT / ours (> 1: ours faster) and the largest difference between the two embeddings.
/// </summary>
internal static class OrtComparison
{
    internal static int Run(string which, string outDir, int reps)
    {
        Directory.CreateDirectory(outDir);
        Console.WriteLine($"ours: {KernelIsa.Describe()}");
        string ortIsa = OrtCpuidMask.Apply();
        Console.WriteLine($"onnxruntime {OrtEnv.Instance().GetVersionString()}: {ortIsa}");
        int rc = which switch
        {
            "bert" => Bert(outDir, reps),
            "clip" => Clip(outDir, reps),
            _ => throw new ArgumentException($"unknown model '{which}': bert or clip"),
        };
        Console.WriteLine($"onnxruntime: {ortIsa}{OrtCpuidMask.Answered()}");
        return rc;
    }

    /// <summary>Fills weights ~ U(−0.05, 0.05) and layer-norm scales ~ 1 + U(−0.05, 0.05), seeded.</summary>
    private static void Randomize(ParameterArena p, int seed)
    {
        var rng = new Random(seed);
        foreach (var e in p.Layout.Entries)
        {
            var v = p.Value(e.Name);
            bool normScale = e.Shape.Length == 1 && e.Name.EndsWith(".weight", StringComparison.Ordinal)
                && (e.Name.Contains("norm", StringComparison.OrdinalIgnoreCase) || e.Name.Contains("layrnorm", StringComparison.Ordinal));
            for (int i = 0; i < v.Length; i++) v[i] = (normScale ? 1f : 0f) + (float)((rng.NextDouble() * 2 - 1) * 0.05);
        }
    }

    /// <summary>The session settings every ORT reference here uses: all graph optimizations, <paramref name="threads"/>
    /// intra-op threads (default: one per core), sequential execution.</summary>
    internal static SessionOptions OrtOptions(int threads = 0) => new()
    {
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        IntraOpNumThreads = threads > 0 ? threads : Environment.ProcessorCount,
        InterOpNumThreads = 1,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
    };

    private static int Bert(string outDir, int reps)
    {
        const int batch = 32, tokens = 64;
        var cfg = new TextEncoderConfig { HiddenSize = 384, NumLayers = 6, NumHeads = 12, IntermediateSize = 1536, VocabSize = 30522, MaxPositions = 512, Pooler = true };
        var model = new TextEncoder(cfg);
        Randomize(model.Parameters, 1);
        var rng = new Random(2);
        var ids = new int[batch * tokens];
        var mask = new bool[batch * tokens];
        for (int b = 0; b < batch; b++)
        {
            int real = rng.Next(16, tokens + 1);
            for (int t = 0; t < tokens; t++)
            {
                ids[b * tokens + t] = t < real ? (t == 0 ? 101 : rng.Next(1000, 30000)) : 0;
                mask[b * tokens + t] = t < real;
            }
        }
        string path = Path.Combine(outDir, "minilm_shape.onnx");
        var head = new OnnxHead("bench", new float[2 * cfg.HiddenSize], null, 2);
        OnnxExporter.Export(cfg, name => model.Parameters.Layout.TryGet(name, out _) ? model.Parameters.Value(name).ToArray() : null, [head], path);

        var idsLong = ids.Select(x => (long)x).ToArray();
        var maskLong = mask.Select(x => x ? 1L : 0L).ToArray();
        using var options = OrtOptions();
        using var session = new InferenceSession(path, options);
        using var idsValue = OrtValue.CreateTensorValueFromMemory(idsLong, [batch, tokens]);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(maskLong, [batch, tokens]);
        var ortEmbedding = new float[batch * cfg.HiddenSize];
        using var runOptions = new RunOptions();
        void Ort()
        {
            using var outputs = session.Run(runOptions, ["input_ids", "attention_mask"], [idsValue, maskValue], ["embedding"]);
            outputs[0].GetTensorDataAsSpan<float>().CopyTo(ortEmbedding);
        }
        void Ours() => model.Forward(ids, mask, default, batch, tokens);
        return CompareBoth($"BERT 6x384 (all-MiniLM-L6-v2 shape), batch {batch} x {tokens}", model.Parameters, Ours, Ort,
            () => model.Embedding, ortEmbedding, reps, path);
    }

    private static int Clip(string outDir, int reps)
    {
        const int batch = 16;
        var cfg = new VisionTransformerConfig
        {
            Flavor = VisionFlavor.ClipVision, ImageSize = 224, PatchSize = 32, HiddenSize = 768, NumLayers = 12, NumHeads = 12,
            IntermediateSize = 3072, Activation = ActivationKind.QuickGelu, LayerNormEps = 1e-5, ProjectionDim = 512,
        };
        var model = new VisionTransformer(cfg);
        Randomize(model.Parameters, 3);
        var rng = new Random(4);
        var images = new float[batch * model.InputSize];
        for (int i = 0; i < images.Length; i++) images[i] = (float)(rng.NextDouble() * 2 - 1);
        string path = Path.Combine(outDir, "clip_b32.onnx");
        var head = new OnnxHead("bench", new float[2 * model.EmbeddingSize], null, 2);
        OnnxExporter.Export(cfg, name => model.Parameters.Layout.TryGet(name, out _) ? model.Parameters.Value(name).ToArray() : null, [head], path);

        using var options = OrtOptions();
        using var session = new InferenceSession(path, options);
        using var pixels = OrtValue.CreateTensorValueFromMemory(images, [batch, 3, 224, 224]);
        var ortEmbedding = new float[batch * model.EmbeddingSize];
        using var runOptions = new RunOptions();
        void Ort()
        {
            using var outputs = session.Run(runOptions, ["pixel_values"], [pixels], ["embedding"]);
            outputs[0].GetTensorDataAsSpan<float>().CopyTo(ortEmbedding);
        }
        void Ours() => model.Forward(images, batch);
        return CompareBoth($"CLIP ViT-B/32 vision + projection, batch {batch}", model.Parameters, Ours, Ort,
            () => model.Embedding(batch), ortEmbedding, reps, path);
    }

    private delegate ReadOnlySpan<float> EmbeddingGetter();

    /// <summary>Milliseconds of quiet before each timed call (ORT_PAUSE_MS, default 100; 0 for back-to-back calls).</summary>
    internal static readonly int PauseMs = int.Parse(Environment.GetEnvironmentVariable("ORT_PAUSE_MS") ?? "100");

    /// <summary>Two alternating series against ORT: ours packing each weight in every product, then ours inside a
    /// FrozenWeights scope (each weight packed once, on the first call — what ORT does when its session is created).</summary>
    private static int CompareBoth(string what, ParameterArena parameters, Action ours, Action ort, EmbeddingGetter oursEmbedding,
        float[] ortEmbedding, int reps, string path)
    {
        int rc = Compare($"{what}, weights packed per product", ours, ort, oursEmbedding, ortEmbedding, reps, path);
        using (FrozenWeights.Begin(parameters))
            rc |= Compare($"{what}, weights frozen (packed once)", ours, ort, oursEmbedding, ortEmbedding, reps, path);
        return rc;
    }

    private static int Compare(string what, Action ours, Action ort, EmbeddingGetter oursEmbedding, float[] ortEmbedding, int reps, string path)
    {
        for (int w = 0; w < 2; w++) { ours(); ort(); }
        var (tOurs, tOrt) = Alternate(ours, ort, reps);
        var e = oursEmbedding();
        double maxDiff = 0, maxAbs = 0;
        for (int i = 0; i < ortEmbedding.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs((double)e[i] - ortEmbedding[i]));
            maxAbs = Math.Max(maxAbs, Math.Abs((double)ortEmbedding[i]));
        }
        double mo = Median(tOurs), mr = Median(tOrt);
        Console.WriteLine($"{what}: ours {mo:F1} ms (best {tOurs.Min():F1}), onnxruntime {mr:F1} ms (best {tOrt.Min():F1}), "
            + $"ratio ort/ours {mr / mo:F2}x (best-to-best {tOrt.Min() / tOurs.Min():F2}x), {reps} alternating calls each; "
            + $"max |ours - ort| embedding {maxDiff:E2} (max |ort| {maxAbs:E2}); model {path}");
        return maxDiff <= 1e-3 * Math.Max(1, maxAbs) ? 0 : 1;
    }

    /// <summary>Times <paramref name="ours"/> and <paramref name="ort"/> alternately, <paramref name="reps"/> calls each, in
    /// milliseconds. A pause before each timed call: ORT's intra-op threads spin for a while after a run (and would take a
    /// core from the call after it), and neither side should start in the other's wake.</summary>
    internal static (List<double> Ours, List<double> Ort) Alternate(Action ours, Action ort, int reps)
    {
        var tOurs = new List<double>();
        var tOrt = new List<double>();
        for (int r = 0; r < reps; r++)
        {
            Thread.Sleep(PauseMs);
            long t0 = Stopwatch.GetTimestamp();
            ours();
            tOurs.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            Thread.Sleep(PauseMs);
            t0 = Stopwatch.GetTimestamp();
            ort();
            tOrt.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        return (tOurs, tOrt);
    }

    private static double Median(List<double> x)
    {
        var s = x.OrderBy(v => v).ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : 0.5 * (s[s.Count / 2 - 1] + s[s.Count / 2]);
    }
}
