// `Engine.Bench profile-bert` / `profile-clip`: where the batched forward goes — an all-MiniLM-L6-v2-shaped BERT (6 × 384,
// 12 heads, MLP 1536, batch 32 × 64) or CLIP ViT-B/32 vision (12 × 768, 12 heads, MLP 3072, quick GELU, batch 16 × 50
// tokens). Each engine call is timed on its own at the model's shapes, best of several blocks, and multiplied by how
// often a forward makes it; the whole forward is timed the same way. The calling thread's CPU time (see StepProfile):
// run with DOTNET_PROCESSOR_COUNT=1 for the one-thread split, without it to see what the threads buy.
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Tensors;

internal static class ForwardProfile
{
    /// <summary>Shapes of one transformer stack: batch, tokens, width, heads, MLP width, layers, activation.</summary>
    private sealed record Shape(int B, int T, int C, int H, int Inter, int Layers, ActivationKind Act, bool Masked);

    public static void RunBert() => Run(new Shape(32, 64, 384, 12, 1536, 6, ActivationKind.GeluErf, true), WholeBert);

    public static void RunClip() => Run(new Shape(16, 50, 768, 12, 3072, 12, ActivationKind.QuickGelu, false), WholeClip);

    private static double WholeBert(Random rng)
    {
        const int b = 32, t = 64;
        var cfg = new TextEncoderConfig { HiddenSize = 384, NumLayers = 6, NumHeads = 12, IntermediateSize = 1536, VocabSize = 30522, MaxPositions = 512 };
        var model = new TextEncoder(cfg);
        var v = model.Parameters.Values;
        for (int i = 0; i < v.Length; i++) v[i] = (float)((rng.NextDouble() * 2 - 1) * 0.05);
        var ids = new int[b * t];
        var mask = new bool[b * t];
        for (int i = 0; i < ids.Length; i++) { ids[i] = rng.Next(1000, 30000); mask[i] = i % t < 48; }
        return StepProfile.BestMs(() => model.Forward(ids, mask, default, b, t), 1);
    }

    private static double WholeClip(Random rng)
    {
        const int b = 16;
        var cfg = new VisionTransformerConfig
        {
            Flavor = VisionFlavor.ClipVision, ImageSize = 224, PatchSize = 32, HiddenSize = 768, NumLayers = 12, NumHeads = 12,
            IntermediateSize = 3072, Activation = ActivationKind.QuickGelu, LayerNormEps = 1e-5, ProjectionDim = 512,
        };
        var model = new VisionTransformer(cfg);
        var v = model.Parameters.Values;
        for (int i = 0; i < v.Length; i++) v[i] = (float)((rng.NextDouble() * 2 - 1) * 0.03);
        var images = new float[b * model.InputSize];
        for (int i = 0; i < images.Length; i++) images[i] = (float)(rng.NextDouble() * 2 - 1);
        return StepProfile.BestMs(() => model.Forward(images, b), 1);
    }

    private static void Run(Shape s, Func<Random, double> whole)
    {
        int b = s.B, t = s.T, c = s.C, h = s.H, inter = s.Inter, layers = s.Layers, n = b * t;
        Console.WriteLine(KernelIsa.Describe());
        var rng = new Random(3);
        float[] R(int len) { var a = new float[len]; for (int i = 0; i < len; i++) a[i] = (float)(rng.NextDouble() * 2 - 1); return a; }
        float[] x = R(n * c), y = R(n * c), w = R(c * c), bias = R(c), gamma = R(c), beta = R(c), mean = R(n), rstd = R(n);
        float[] qkv = R(3 * n * c), att = R(n * c), probs = new float[b * h * t * t];
        float[] w1 = R(inter * c), b1 = R(inter), w2 = R(c * inter), b2 = R(c), pre = R(n * inter), act = R(n * inter);
        var mask = new bool[n];
        for (int i = 0; i < n; i++) mask[i] = i % t < 48;
        ReadOnlySpan<bool> Mask() => s.Masked ? mask : default;
        double Ms(Action body, int reps = 3) => StepProfile.BestMs(body, reps);
        string cc = $"{c}->{c}", ci = $"{c}->{inter}", ic = $"{inter}->{c}";
        var rows = new List<(string Name, double Ms, int PerForward)>
        {
            ($"linear {cc} GEMM", Ms(() => Gemm.Multiply(false, true, n, c, c, 1f, x, c, w, c, 0f, y, c)), 4 * layers),
            ($"linear {cc} bias", Ms(() => { for (int i = 0; i < n; i++) System.Numerics.Tensors.TensorPrimitives.Add(y.AsSpan(i * c, c), bias, y.AsSpan(i * c, c)); }), 4 * layers),
            ($"attention (T {t}, d {c / h})", Ms(() => Attention.Forward<float>(att, probs, qkv.AsSpan(0, n * c), qkv.AsSpan(n * c, n * c), qkv.AsSpan(2 * n * c, n * c), Mask(), b, t, c, h, c)), layers),
            ("residual add", Ms(() => Residual.Forward<float>(y, y, x)), 2 * layers),
            ("layer norm", Ms(() => LayerNorm.Forward<float>(y, mean, rstd, x, gamma, beta, n, c, 1e-12)), 2 * layers + 1),
            ($"linear {ci} GEMM", Ms(() => Gemm.Multiply(false, true, n, inter, c, 1f, x, c, w1, c, 0f, pre, inter)), layers),
            ($"linear {ci} bias", Ms(() => { for (int i = 0; i < n; i++) System.Numerics.Tensors.TensorPrimitives.Add(pre.AsSpan(i * inter, inter), b1, pre.AsSpan(i * inter, inter)); }), layers),
            ($"{s.Act} {n} x {inter}", Ms(() => Activation.Forward<float>(s.Act, act, pre)), layers),
            ($"linear {ic} GEMM", Ms(() => Gemm.Multiply(false, true, n, c, inter, 1f, act, inter, w2, inter, 0f, y, c)), layers),
            ($"linear {ic} bias", Ms(() => { for (int i = 0; i < n; i++) System.Numerics.Tensors.TensorPrimitives.Add(y.AsSpan(i * c, c), b2, y.AsSpan(i * c, c)); }), layers),
            ($"fused {ci} +bias+{s.Act}", Ms(() => FusedLinear.Forward(pre, act, x, w1, b1, n, c, inter, s.Act)), layers),
            ($"fused {ic} +bias+residual", Ms(() => FusedLinear.Forward(y, default, act, w2, b2, n, inter, c, null, x)), layers),
        };
        double wholeMs = whole(rng);
        double sum = 0;
        Console.WriteLine($"{"call",-34} {"ms/call",9} {"x/forward",9} {"ms/forward",11} {"share",6}");
        foreach (var (name, ms, per) in rows)
        {
            bool fused = name.StartsWith("fused", StringComparison.Ordinal);
            if (!fused) sum += ms * per;
            Console.WriteLine($"{name,-34} {ms,9:F2} {per,9} {ms * per,11:F1} {ms * per / wholeMs,6:P0}{(fused ? "  (replaces GEMM + bias + activation/residual rows)" : "")}");
        }
        Console.WriteLine($"{"sum of the unfused calls",-34} {"",9} {"",9} {sum,11:F1} {sum / wholeMs,6:P0}");
        Console.WriteLine($"{"whole forward",-34} {"",9} {"",9} {wholeMs,11:F1}");
    }
}
