// MiniLM side of bench/minilm (see bench/minilm/README.md): the real all-MiniLM-L6-v2, imported from its NuGet package.
//   minilm-forward OUT   the engine's forward at batch 32 × length 64 and ONNX Runtime 1.32's on the same ids, in one process
//   minilm-train OUT     a fine-tuning step (forward, mean pooling, linear head, cross-entropy, backward, AdamW) on the batch
//                        torch_minilm.py wrote; prints the first loss so both sides can be seen to compute the same thing
using System.Diagnostics;
using System.Numerics;
using System.Runtime.Intrinsics.X86;
using MLNetMerge.Checkpoints;
using MLNetMerge.Nn;
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Inference;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Nn.Losses;
using MLNetMerge.Nn.Optim;
using MLNetMerge.Checkpoints.Onnx.Import;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

internal static class MiniLmBench
{
    private static string BaseDir() => MiniLmPackage.Prepare(Path.Combine(MiniLmPackage.DefaultCacheDirectory, $"minilm-{MiniLmPackage.Version}", "base"));

    /// <summary>The instruction set the engine's GEMM and vector code use here.</summary>
    public static string Isa() =>
        $"engine GEMM {(Avx512F.IsSupported ? "AVX-512F" : Avx2.IsSupported && Fma.IsSupported ? "AVX2+FMA" : "scalar")}, Vector<float> {Vector<float>.Count} lanes, {Environment.ProcessorCount} threads";

    private static (int[] Ids, int[] Labels, float[] Head, int B, int T, int K) Batch(string outDir)
    {
        using var r = SafetensorsReader.Open(Path.Combine(outDir, "minilm_batch.safetensors"));
        r.TryGetTensor("input_ids", out var ti); r.TryGetTensor("labels", out var tl); r.TryGetTensor("head", out var th);
        var raw = new byte[ti.ByteLength]; r.ReadRaw(ti, raw);
        var ids = Enumerable.Range(0, (int)ti.ElementCount).Select(i => (int)BitConverter.ToInt64(raw, i * 8)).ToArray();
        raw = new byte[tl.ByteLength]; r.ReadRaw(tl, raw);
        var labels = Enumerable.Range(0, (int)tl.ElementCount).Select(i => (int)BitConverter.ToInt64(raw, i * 8)).ToArray();
        var head = new float[th.ElementCount]; r.ReadFloat32(th, head);
        return (ids, labels, head, ti.Shape[0], ti.Shape[1], th.Shape[0]);
    }

    private static TextEncoder Model(string dir, bool pooler)
    {
        var cfg = (TextEncoderConfig)ModelConfigFile.Load(Path.Combine(dir, "config.json")).Config with { Pooler = pooler };
        var model = new TextEncoder(cfg);
        using var w = SafetensorsReader.Open(Path.Combine(dir, "model.safetensors"));
        model.Load(w);
        return model;
    }

    public static int Forward(string outDir, int reps)
    {
        string dir = BaseDir();
        var (ids, _, _, b, t, _) = Batch(outDir);
        var model = Model(dir, pooler: true);
        var mask = new bool[b * t]; Array.Fill(mask, true);
        string ortIsa = OrtCpuidMask.Apply();
        using var options = new SessionOptions { IntraOpNumThreads = Environment.ProcessorCount, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(Path.Combine(dir, "model.onnx"), options);
        var longIds = ids.Select(i => (long)i).ToArray();
        var feeds = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(longIds, [b, t])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, b * t).ToArray(), [b, t])),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[b * t], [b, t])),
        };
        float[] Ort() { using var res = session.Run(feeds); return res.First(x => x.Name == "last_hidden_state").AsTensor<float>().ToArray(); }
        model.Forward(ids, mask, default, b, t);                             // warm-up: JIT, arena
        var ort = Ort();
        double diff = 0;
        var hidden = model.Hidden;
        for (int i = 0; i < ort.Length; i++) diff = Math.Max(diff, Math.Abs(hidden[i] - ort[i]));
        // Alternating calls with a pause before each (OrtComparison.Alternate); then again with the weights frozen (packed
        // once, on the first call), which is what ONNX Runtime does with its constant weights when the session is created.
        void Ours() => model.Forward(ids, mask, default, b, t);
        void OrtCall() => Ort();
        var (ours, theirs) = OrtComparison.Alternate(Ours, OrtCall, reps);
        List<double> frozen;
        using (FrozenWeights.Begin(model.Parameters))
        {
            Ours();
            (frozen, var theirsFrozen) = OrtComparison.Alternate(Ours, OrtCall, reps);
            theirs.AddRange(theirsFrozen);
        }
        Console.WriteLine($"ours forward batch {b} tokens {t} best_ms {ours.Min():F1} median_ms {Median(ours):F1}");
        Console.WriteLine($"ours_frozen forward batch {b} tokens {t} best_ms {frozen.Min():F1} median_ms {Median(frozen):F1}");
        Console.WriteLine($"onnxruntime forward batch {b} tokens {t} best_ms {theirs.Min():F1} median_ms {Median(theirs):F1} max_abs_diff_hidden {diff:E2}");
        Console.WriteLine($"isa {Isa()}; onnxruntime: {ortIsa}{OrtCpuidMask.Answered()}");
        return 0;
    }

    public static int Train(string outDir, int steps)
    {
        string dir = BaseDir();
        var (ids, labels, headInit, b, t, k) = Batch(outDir);
        var encoder = new TextDenseEncoder(Model(dir, pooler: false), t, TextPooling.Mean);
        int e = encoder.EmbeddingSize;
        var head = (float[])headInit.Clone();                             // (K, E)
        var headBias = new float[k];                                      // (K)
        var x = ids.Select(i => (float)i).ToArray();                       // (B, T) ids as floats
        var encoderOpt = Adam.AdamW(encoder.Parameters.Values.Length, 5e-5, 0.01);
        var headOpt = Adam.AdamW(k * e + k, 1e-3, 0.01);
        float[] logits = new float[b * k], logp = new float[b * k], dLogits = new float[b * k], dEmb = new float[b * e];
        float[] headParams = new float[k * e + k], headGrads = new float[k * e + k];
        float Step()
        {
            encoder.Parameters.ZeroGrad();
            encoder.Forward(x, b);
            var emb = encoder.Embedding(b);                                // (B, E): mean over tokens
            Linear.Forward<float>(logits, emb, head, headBias, b, e, k);
            float loss = CrossEntropy.Forward<float>(logp, logits, labels, b, k);
            Array.Clear(dLogits); Array.Clear(dEmb); Array.Clear(headGrads);
            CrossEntropy.Backward<float>(dLogits, logp, labels, b, k, 1f);
            Linear.Backward<float>(dEmb, headGrads.AsSpan(0, k * e), headGrads.AsSpan(k * e), dLogits, emb, head, b, e, k);
            encoder.BackwardFromEmbedding(dEmb, b);
            encoderOpt.Step(encoder.Parameters.Values, encoder.Parameters.Gradients);
            head.CopyTo(headParams, 0); headBias.CopyTo(headParams, k * e);
            headOpt.Step(headParams, headGrads);
            headParams.AsSpan(0, k * e).CopyTo(head); headParams.AsSpan(k * e).CopyTo(headBias);
            return loss;
        }
        float first = Step();
        float second = Step();
        var times = new List<double>();
        for (int i = 0; i < steps; i++) { var sw = Stopwatch.StartNew(); Step(); times.Add(sw.Elapsed.TotalMilliseconds); }
        Console.WriteLine($"ours train batch {b} tokens {t} first_loss {first:F6} second_loss {second:F6} best_ms {times.Min():F1} median_ms {Median(times):F1}");
        Console.WriteLine($"isa {Isa()}");
        return 0;
    }

    private static double Median(List<double> v) { var s = v.Order().ToList(); return s[s.Count / 2]; }
}
