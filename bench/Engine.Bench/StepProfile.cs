// `Engine.Bench profile`: where one tiny-ViT train step's time goes. Each engine call of the step is timed on its own at
// the step's shapes (B=32, T=65, C=64, H=4, I=256), best of several blocks per call, and multiplied by how often the step
// makes it; the full step is timed the same way for comparison. Times are the calling thread's CPU time, not wall time, so that
// a loaded machine's waiting does not count: run it with DOTNET_PROCESSOR_COUNT=1 (one thread) for an exact split.
using System.Runtime.InteropServices;
using MLNetMerge.Nn.Layers;
using MLNetMerge.Nn.Optim;

internal static class StepProfile
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec { public long Seconds, Nanoseconds; }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out Timespec ts);

    /// <summary>CPU time of the calling thread (Linux CLOCK_THREAD_CPUTIME_ID = 3), in ms.</summary>
    private static double ThreadCpuMs()
    {
        ClockGetTime(3, out var ts);
        return ts.Seconds * 1e3 + ts.Nanoseconds * 1e-6;
    }

    /// <summary>
    /// Best of five blocks of <paramref name="reps"/> calls, in the calling thread's CPU ms per call, after at least three
    /// calls and half a second of warm-up: with tiered compilation on, the generic element-wise paths a call takes start as
    /// unoptimised tier-0 code and are recompiled in the background after a delay (three calls timed a layer norm at
    /// 6.7 ms that takes 0.18 ms compiled).
    /// </summary>
    internal static double BestMs(Action body, int reps)
    {
        var warm = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 3 || warm.ElapsedMilliseconds < 500; i++) body();
        double best = double.MaxValue;
        for (int block = 0; block < 5; block++)
        {
            double cpu = ThreadCpuMs();
            for (int i = 0; i < reps; i++) body();
            best = Math.Min(best, (ThreadCpuMs() - cpu) / reps);
        }
        return best;
    }

    private static void SoftmaxRows(float[] probs, int t)
    {
        for (int r = 0; r < probs.Length / t; r++)
        {
            var row = probs.AsSpan(r * t, t);
            float max = System.Numerics.Tensors.TensorPrimitives.Max(row);
            System.Numerics.Tensors.TensorPrimitives.Subtract(row, max, row);
            System.Numerics.Tensors.TensorPrimitives.Exp(row, row);
            float sum = System.Numerics.Tensors.TensorPrimitives.Sum(row);
            System.Numerics.Tensors.TensorPrimitives.Multiply(row, 1f / sum, row);
        }
    }

    public static void Run(Func<float> step, int parameterCount)
    {
        const int b = 32, t = 65, c = 64, h = 4, inter = 256, layers = 4, n = b * t;
        var rng = new Random(3);
        float[] R(int len) { var a = new float[len]; for (int i = 0; i < len; i++) a[i] = (float)(rng.NextDouble() * 2 - 1); return a; }
        float[] x = R(n * c), y = R(n * c), dx = R(n * c), w = R(c * c), bias = R(c), dW = R(c * c), dB = R(c);
        float[] xi = R(n * inter), yi = R(n * inter), dxi = R(n * inter), w1 = R(inter * c), dW1 = R(inter * c), b1 = R(inter), db1 = R(inter);
        float[] mean = R(n), rstd = R(n), gamma = R(c), scratch = new float[2 * c];
        float[] q = R(n * c), k = R(n * c), v = R(n * c), probs = new float[b * h * t * t], attScratch = new float[Attention.ScratchLength(t)];
        float[] dq = R(n * c), dk = R(n * c), dv = R(n * c);
        float[] prm = R(parameterCount), grad = R(parameterCount);
        var adam = Adam.AdamW(parameterCount);
        Attention.Forward<float>(y, probs, q, k, v, default, b, t, c, h, c);
        LayerNorm.Forward<float>(y, mean, rstd, x, gamma, bias, n, c, 1e-12);
        var rows = new List<(string Name, double Ms)>
        {
            ("layernorm fwd ×2", 2 * BestMs(() => LayerNorm.Forward<float>(y, mean, rstd, x, gamma, bias, n, c, 1e-12), 20)),
            ("layernorm bwd ×2", 2 * BestMs(() => LayerNorm.Backward<float>(dx, dW, dB, scratch, y, x, mean, rstd, gamma, n, c), 20)),
            ("linear 64→64 fwd ×4 (q,k,v,o)", 4 * BestMs(() => Linear.Forward<float>(y, x, w, bias, n, c, c), 20)),
            ("linear 64→64 bwd ×4", 4 * BestMs(() => Linear.Backward<float>(dx, dW, dB, y, x, w, n, c, c), 20)),
            ("  of which dx = dy·W", 4 * BestMs(() => Linear.Backward<float>(dx, default, default, y, x, w, n, c, c), 20)),
            ("  of which dW = dyᵀ·x", 4 * BestMs(() => Linear.Backward<float>(default, dW, default, y, x, w, n, c, c), 20)),
            ("  of which db = Σ dy", 4 * BestMs(() => Linear.Backward<float>(default, default, dB, y, x, w, n, c, c), 20)),
            ("linear 64→256 fwd", BestMs(() => Linear.Forward<float>(yi, x, w1, b1, n, c, inter), 20)),
            ("linear 256→64 fwd", BestMs(() => Linear.Forward<float>(y, xi, w1, bias, n, inter, c), 20)),
            ("linear 64→256 bwd", BestMs(() => Linear.Backward<float>(dx, dW1, db1, yi, x, w1, n, c, inter), 20)),
            ("linear 256→64 bwd", BestMs(() => Linear.Backward<float>(dxi, dW1, dB, y, xi, w1, n, inter, c), 20)),
            ("gelu fwd", BestMs(() => Activation.Forward<float>(ActivationKind.GeluErf, yi, xi), 20)),
            ("gelu bwd", BestMs(() => Activation.Backward<float>(ActivationKind.GeluErf, dxi, yi, xi), 20)),
            ("attention fwd", BestMs(() => Attention.Forward<float>(y, probs, q, k, v, default, b, t, c, h, c), 10)),
            ("attention bwd", BestMs(() => Attention.Backward<float>(dq, dk, dv, attScratch, y, probs, q, k, v, b, t, c, h, c), 10)),
            ("  of which softmax rows (B·H·T rows of T)", BestMs(() => SoftmaxRows(probs, t), 10)),
            ("residual/copy/clear (~12 passes of (B,T,C))", 12 * BestMs(() => Array.Copy(x, y, x.Length), 50)),
        };
        double perLayer = rows.Where(r => !r.Name.StartsWith("  ")).Sum(r => r.Ms);
        double adamMs = BestMs(() => adam.Step(prm, grad), 20);
        double stepMs = BestMs(() => step(), 3);
        Console.WriteLine($"{"call",-46} {"ms/step",9} {"share",6}");
        foreach (var (name, ms) in rows)
            Console.WriteLine($"{name,-46} {ms * layers,9:F2} {ms * layers / stepMs,6:P0}");
        Console.WriteLine($"{"adamw (encoder)",-46} {adamMs,9:F2} {adamMs / stepMs,6:P0}");
        Console.WriteLine($"{"sum of the above (4 layers)",-46} {perLayer * layers + adamMs,9:F2} {(perLayer * layers + adamMs) / stepMs,6:P0}");
        Console.WriteLine($"{"whole step (best of 5×3, CPU ms)",-46} {stepMs,9:F2}");
    }
}
