// Engine side of bench/engine (see bench/README.md): the tiny-ViT train step on the weights torch_engine.py wrote,
// and ViT-B/32-shaped CLIP vision inference; `profile` splits the train step by engine call (StepProfile.cs). Prints one line per measurement; run.sh puts them next to torch's.
using System.Diagnostics;
using System.Text.Json;
using MLNetMerge.Checkpoints;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Inference;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Nn.Losses;
using MLNetMerge.Nn.Optim;

if (args.Length > 0 && args[0] == "isa") { Console.WriteLine(MLNetMerge.Tensors.KernelIsa.Describe()); return 0; }
if (args.Length < 2) { Console.Error.WriteLine("usage: Engine.Bench train OUTDIR | profile OUTDIR | clip BATCH | ort bert|clip OUTDIR [REPS] | profile-bert - | profile-clip - | minilm-forward OUTDIR [REPS] | minilm-train OUTDIR [STEPS] | gemm-ort THREADS [TRIALS] | pool-wake PAUSE_MS [TRIALS] | profile-ort MODEL.onnx [THREADS] | isa"); return 2; }
if (args[0] == "profile-bert") { ForwardProfile.RunBert(); return 0; }
if (args[0] == "profile-clip") { ForwardProfile.RunClip(); return 0; }
if (args[0] == "pool-wake") return PoolWake.Run(int.Parse(args[1]), args.Length > 2 ? int.Parse(args[2]) : 41);
if (args[0] == "gemm-ort") return GemmVsOrt.Run(args.Length > 1 ? int.Parse(args[1]) : 1, args.Length > 2 ? int.Parse(args[2]) : 25);
if (args[0] == "profile-ort") return OrtProfile.Run(args[1], args.Length > 2 ? int.Parse(args[2]) : 1);
if (args[0] == "ort") return OrtComparison.Run(args[1], args.Length > 2 ? args[2] : "bench/out/engine", args.Length > 3 ? int.Parse(args[3]) : 5);
if (args[0] == "minilm-forward") return MiniLmBench.Forward(args[1], args.Length > 2 ? int.Parse(args[2]) : 10);
if (args[0] == "minilm-train") return MiniLmBench.Train(args[1], args.Length > 2 ? int.Parse(args[2]) : 10);
if (args[0] == "train" || args[0] == "profile")
{
    string dir = args[1];
    var cfg = VisionTransformerConfig.FromJson(JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "tiny_vit.config.json"))).RootElement);
    using var weights = SafetensorsReader.Open(Path.Combine(dir, "tiny_vit.safetensors"));
    var model = VisionTransformer.Load(cfg, weights);
    using var headReader = SafetensorsReader.Open(Path.Combine(dir, "tiny_head.safetensors"));
    headReader.TryGetTensor("weight", out var hw);
    int classes = hw.Shape[0], e = model.EmbeddingSize;
    var head = new float[classes * e]; headReader.ReadFloat32(hw, head);
    using var batchReader = SafetensorsReader.Open(Path.Combine(dir, "tiny_batch.safetensors"));
    batchReader.TryGetTensor("images", out var ti); batchReader.TryGetTensor("labels", out var tl);
    int batch = ti.Shape[0];
    var images = new float[ti.ElementCount]; batchReader.ReadFloat32(ti, images);
    var labelBytes = new byte[tl.ByteLength]; batchReader.ReadRaw(tl, labelBytes);
    int[] labels = Enumerable.Range(0, batch).Select(i => (int)BitConverter.ToInt64(labelBytes, i * 8)).ToArray();
    var encoderOpt = Adam.AdamW(model.Parameters.Values.Length, 1e-3, 0.01);
    var headOpt = Adam.AdamW(head.Length, 1e-3, 0.01);
    float[] logits = new float[batch * classes], logProbs = new float[batch * classes], dLogits = new float[batch * classes];
    float[] dEmb = new float[batch * e], dHead = new float[head.Length];
    float Step()
    {
        model.Forward(images, batch);
        var emb = model.Embedding(batch);                       // (B, C): CLS of the final layernorm (no pooler)
        Linear.Forward<float>(logits, emb, head, default, batch, e, classes);
        float loss = CrossEntropy.Forward<float>(logProbs, logits, labels, batch, classes);
        Array.Clear(dLogits); Array.Clear(dEmb); Array.Clear(dHead);
        CrossEntropy.Backward<float>(dLogits, logProbs, labels, batch, classes, 1f);
        Linear.Backward<float>(dEmb, dHead, default, dLogits, emb, head, batch, e, classes);
        model.Parameters.ZeroGrad();
        model.Backward(default, dEmb, batch);
        encoderOpt.Step(model.Parameters.Values, model.Parameters.Gradients);
        headOpt.Step(head, dHead);
        return loss;
    }
    if (args[0] == "profile") { Step(); StepProfile.Run(Step, model.Parameters.Values.Length); return 0; }
    float first = Step();
    for (int i = 0; i < 20; i++) Step(); // JIT tiering and buffer warm-up
    const int steps = 30;
    long alloc = GC.GetAllocatedBytesForCurrentThread();
    var sw = Stopwatch.StartNew();
    for (int i = 0; i < steps; i++) Step();
    double s = sw.Elapsed.TotalSeconds / steps;
    alloc = GC.GetAllocatedBytesForCurrentThread() - alloc;
    Console.WriteLine($"ours first_loss {first:F6} step_ms {s * 1e3:F2} samples_per_s {batch / s:F1} alloc_bytes_per_step {alloc / steps}");
}
else if (args[0] == "clip")
{
    int batch = int.Parse(args[1]);
    var cfg = new VisionTransformerConfig
    {
        Flavor = VisionFlavor.ClipVision, ImageSize = 224, PatchSize = 32, HiddenSize = 768, NumLayers = 12, NumHeads = 12,
        IntermediateSize = 3072, Activation = ActivationKind.QuickGelu, LayerNormEps = 1e-5, ProjectionDim = 512,
    };
    var model = new VisionTransformer(cfg);
    var rng = new Random(1);
    var v = model.Parameters.Values;
    for (int i = 0; i < v.Length; i++) v[i] = (float)((rng.NextDouble() * 2 - 1) * 0.03);
    var images = new float[batch * model.InputSize];
    for (int i = 0; i < images.Length; i++) images[i] = (float)(rng.NextDouble() * 2 - 1);
    EncoderInference.Embed(model, images, batch, batch);
    int reps = int.Parse(Environment.GetEnvironmentVariable("CLIP_REPS") ?? "3");
    // CLIP_FROZEN=1: every rep inside one FrozenWeights scope (weights packed once), as an ORT session; for profiling.
    using var frozen = Environment.GetEnvironmentVariable("CLIP_FROZEN") == "1" ? MLNetMerge.Nn.FrozenWeights.Begin(model.Parameters) : null;
    // CLIP_PAUSE_MS=N: N ms of idleness before each rep, timed one by one (median): a served request after a quiet spell.
    int pauseMs = int.Parse(Environment.GetEnvironmentVariable("CLIP_PAUSE_MS") ?? "-1");
    if (pauseMs >= 0)
    {
        var times = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            Thread.Sleep(pauseMs);
            var one = Stopwatch.StartNew();
            EncoderInference.Embed(model, images, batch, batch);
            times[i] = one.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        Console.WriteLine($"ours clip_b32 batch {batch} after {pauseMs} ms idle: median ms {times[reps / 2]:F2} best {times[0]:F2} worst {times[^1]:F2} ({reps} reps)");
        return 0;
    }
    var sw = Stopwatch.StartNew();
    for (int i = 0; i < reps; i++) EncoderInference.Embed(model, images, batch, batch);
    double s = sw.Elapsed.TotalSeconds / reps;
    Console.WriteLine($"ours clip_b32 batch {batch} ms {s * 1e3:F1} images_per_s {batch / s:F2}");
}
return 0;
