// `Engine.Bench profile-bert`: where the batched forward of an all-MiniLM-L6-v2-shaped BERT (6 × 384, 12 heads, MLP 1536,
// batch 32 × 64) goes. Each engine call is timed on its own at the model's shapes, best of several blocks, and multiplied by
// how often a forward makes it; the whole forward is timed the same way. The calling thread's CPU time (see StepProfile):
// run with DOTNET_PROCESSOR_COUNT=1 for the one-thread split, without it to see what the threads buy.
using MLNetMerge.Nn.Architectures;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Tensors;

internal static class ForwardProfile
{
    public static void Run()
    {
        const int b = 32, t = 64, c = 384, h = 12, inter = 1536, layers = 6, n = b * t;
        Console.WriteLine(KernelIsa.Describe());
        var rng = new Random(3);
        float[] R(int len) { var a = new float[len]; for (int i = 0; i < len; i++) a[i] = (float)(rng.NextDouble() * 2 - 1); return a; }
        float[] x = R(n * c), y = R(n * c), w = R(c * c), bias = R(c), gamma = R(c), beta = R(c), mean = R(n), rstd = R(n);
        float[] qkv = R(3 * n * c), att = R(n * c), probs = new float[b * h * t * t];
        float[] w1 = R(inter * c), b1 = R(inter), w2 = R(c * inter), b2 = R(c), pre = R(n * inter), act = R(n * inter);
        var mask = new bool[n];
        for (int i = 0; i < n; i++) mask[i] = i % t < 48;
        double Ms(Action body, int reps = 3) => StepProfile.BestMs(body, reps);
        var rows = new List<(string Name, double Ms, int PerForward)>
        {
            ("linear 384->384 GEMM", Ms(() => Gemm.Multiply(false, true, n, c, c, 1f, x, c, w, c, 0f, y, c)), 4 * layers),
            ("linear 384->384 bias", Ms(() => { for (int i = 0; i < n; i++) System.Numerics.Tensors.TensorPrimitives.Add(y.AsSpan(i * c, c), bias, y.AsSpan(i * c, c)); }), 4 * layers),
            ("attention (T 64, d 32)", Ms(() => Attention.Forward<float>(att, probs, qkv.AsSpan(0, n * c), qkv.AsSpan(n * c, n * c), qkv.AsSpan(2 * n * c, n * c), mask, b, t, c, h, c)), layers),
            ("residual add", Ms(() => Residual.Forward<float>(y, y, x)), 2 * layers),
            ("layer norm", Ms(() => LayerNorm.Forward<float>(y, mean, rstd, x, gamma, beta, n, c, 1e-12)), 2 * layers + 1),
            ("linear 384->1536 GEMM", Ms(() => Gemm.Multiply(false, true, n, inter, c, 1f, x, c, w1, c, 0f, pre, inter)), layers),
            ("linear 384->1536 bias", Ms(() => { for (int i = 0; i < n; i++) System.Numerics.Tensors.TensorPrimitives.Add(pre.AsSpan(i * inter, inter), b1, pre.AsSpan(i * inter, inter)); }), layers),
            ("GELU (erf) 2048 x 1536", Ms(() => Activation.Forward<float>(ActivationKind.GeluErf, act, pre)), layers),
            ("linear 1536->384 GEMM", Ms(() => Gemm.Multiply(false, true, n, c, inter, 1f, act, inter, w2, inter, 0f, y, c)), layers),
            ("linear 1536->384 bias", Ms(() => { for (int i = 0; i < n; i++) System.Numerics.Tensors.TensorPrimitives.Add(y.AsSpan(i * c, c), b2, y.AsSpan(i * c, c)); }), layers),
        };
        var cfg = new TextEncoderConfig { HiddenSize = c, NumLayers = layers, NumHeads = h, IntermediateSize = inter, VocabSize = 30522, MaxPositions = 512 };
        var model = new TextEncoder(cfg);
        var v = model.Parameters.Values;
        for (int i = 0; i < v.Length; i++) v[i] = (float)((rng.NextDouble() * 2 - 1) * 0.05);
        var ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = rng.Next(1000, 30000);
        double whole = Ms(() => model.Forward(ids, mask, default, b, t), 1);
        double sum = 0;
        Console.WriteLine($"{"call",-26} {"ms/call",9} {"x/forward",9} {"ms/forward",11} {"share",6}");
        foreach (var (name, ms, per) in rows)
        {
            sum += ms * per;
            Console.WriteLine($"{name,-26} {ms,9:F2} {per,9} {ms * per,11:F1} {ms * per / whole,6:P0}");
        }
        Console.WriteLine($"{"sum of the calls",-26} {"",9} {"",9} {sum,11:F1} {sum / whole,6:P0}");
        Console.WriteLine($"{"whole forward",-26} {"",9} {"",9} {whole,11:F1}");
    }
}
