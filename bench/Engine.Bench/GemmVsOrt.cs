using System.Diagnostics;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using MLNetMerge.Export;
using MLNetMerge.Tensors;

/// <summary>
/// `gemm-ort [threads] [trials]`: our GEMM against ONNX Runtime's (MLAS) on the linear layers of the two engine benches,
/// in one process, call by call alternating: a one-node ONNX graph <c>C = A·B</c> with B a (k, n) initializer (which ORT
/// prepacks when the session is created), against <see cref="Gemm"/> with <c>W = Bᵀ</c> (n, k) packed once into a
/// <see cref="PackedMatrix"/> — the layout and the frozen-weights path of the engine's <c>x·Wᵀ</c>. Prints the median
/// and best GFLOP/s of each and the median-time ratio ORT / ours (above 1: ours faster), and the largest difference
/// (0 where both sum in the same order). Each call follows ORT_PAUSE_MS (default 100) of quiet, as in `ort`: ORT's pool
/// threads spin for a while after a call and would otherwise take a core from the next call. With ORT_CPUID_MASK (bench/engine/run.sh --isa avx2) MLAS runs its AVX2 kernels.
/// </summary>
internal static class GemmVsOrt
{
    private static readonly (string Name, int M, int N, int K)[] Shapes =
    [
        ("clip q/k/v/o (16 x 50 tokens)", 800, 768, 768),
        ("clip fc1", 800, 3072, 768),
        ("clip fc2", 800, 768, 3072),
        ("minilm q/k/v/o (32 x 64 tokens)", 2048, 384, 384),
        ("minilm fc1", 2048, 1536, 384),
        ("minilm fc2", 2048, 384, 1536),
    ];

    internal static int Run(int threads, int trials)
    {
        Console.WriteLine($"onnxruntime: {OrtCpuidMask.Apply()}");
        Console.WriteLine($"ours: {KernelIsa.Describe()}");
        Console.WriteLine($"{"product (m x n x k)",-44} {"ours med",9} {"best",7} {"ort med",8} {"best",7} {"ort/ours",9}  max |diff|   (GFLOP/s, {threads} thread(s), {trials} alternating calls)");
        var path = Gemm.BestPath;
        foreach (var (name, m, n, k) in Shapes)
        {
            var rng = new Random(7);
            var a = new float[m * k];      // (m, k) activations
            var b = new float[k * n];      // (k, n) ORT's initializer
            for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
            for (int i = 0; i < b.Length; i++) b[i] = (float)((rng.NextDouble() * 2 - 1) * 0.05);
            var w = new float[n * k];      // (n, k) = Bᵀ, the engine's weight layout
            for (int p = 0; p < k; p++)
                for (int j = 0; j < n; j++) w[j * k + p] = b[p * n + j];
            var ours = new float[m * n];   // (m, n)
            var theirs = new float[m * n]; // (m, n)

            var g = new OnnxGraphBuilder();
            g.Graph.Input.Add(OnnxGraphBuilder.FloatValue("A", m, k));
            g.Rename(g.Node("MatMul", ["A", g.Initializer("B", b, k, n)]), "C");
            g.Graph.Output.Add(OnnxGraphBuilder.FloatValue("C", m, n));
            byte[] model = OnnxExporter.Finish(g, new OnnxExportOptions(), "gemm-ort bench").ToByteArray();
            using var options = OrtComparison.OrtOptions(threads);
            using var session = new InferenceSession(model, options);
            using var input = OrtValue.CreateTensorValueFromMemory(a, [m, k]);
            using var runOptions = new RunOptions();
            using var packed = PackedMatrix.TryAllocate(path, true, n, k)
                ?? throw new InvalidOperationException($"{name}: W ({n}, {k}) does not fit one packed matrix");
            void Ours() => Gemm.MultiplyCore(false, true, m, n, k, 1f, a, k, w, k, 0f, ours, n, threads, path, default, packed);
            void Ort()
            {
                using var outputs = session.Run(runOptions, ["A"], [input], ["C"]);
                outputs[0].GetTensorDataAsSpan<float>().CopyTo(theirs);
            }
            Ours(); Ort(); Ours(); Ort(); // packs W on our side; warms both
            var tOurs = new double[trials];
            var tOrt = new double[trials];
            for (int t = 0; t < trials; t++)
            {
                Thread.Sleep(OrtComparison.PauseMs);
                var sw = Stopwatch.StartNew();
                Ours();
                tOurs[t] = sw.Elapsed.TotalSeconds;
                Thread.Sleep(OrtComparison.PauseMs);
                sw.Restart();
                Ort();
                tOrt[t] = sw.Elapsed.TotalSeconds;
            }
            float diff = 0;
            for (int i = 0; i < ours.Length; i++) diff = Math.Max(diff, Math.Abs(ours[i] - theirs[i]));
            Array.Sort(tOurs);
            Array.Sort(tOrt);
            double gflop = 2.0 * m * n * k / 1e9, medOurs = tOurs[trials / 2], medOrt = tOrt[trials / 2];
            Console.WriteLine($"{$"{name} {m} x {n} x {k}",-44} {gflop / medOurs,9:F1} {gflop / tOurs[0],7:F1} {gflop / medOrt,8:F1} {gflop / tOrt[0],7:F1} {medOrt / medOurs,8:F2}x  {diff:E1}");
        }
        return 0;
    }
}
