using System.Diagnostics;
using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// CART's truncated SVD (<see cref="MLNetMerge.Merging.Methods.LowRank"/>: subspace iteration on the Gram matrix, the
/// defaults CART runs with) at r = ⌊0.12·min(m, n)⌋ on low-rank-plus-noise matrices (rank 40, s_j = 10·0.92^j, noise
/// 0.02 — the generator of LinearAlgebraTests). Fastest of 8 calls. Writes each matrix to OUTDIR/A_MxN.f32 (raw little-endian float32,
/// row-major) for bench/gemm/torch_svd.py and prints: rsvd M N r best_wall_ms residual_frobenius best_cpu_ms
/// (CPU time of the whole process, both GEMM threads included).
/// </summary>
internal static class RsvdBench
{
    internal static void Run(string outDir)
    {
        Console.WriteLine(KernelIsa.Describe());
        Directory.CreateDirectory(outDir);
        foreach (var (m, n) in new[] { (768, 3072), (768, 768) })
        {
            int r = (int)Math.Floor(0.12 * Math.Min(m, n));
            var a = LowRankPlusNoise(m, n, 100);
            using (var fs = File.Create(Path.Combine(outDir, $"A_{m}x{n}.f32")))
                fs.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()));
            LowRankFactors? f = null;
            double best = double.MaxValue, bestCpu = double.MaxValue;
            for (int rep = 0; rep < 8; rep++)
            {
                var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                f = MLNetMerge.Merging.Methods.LowRank.Compute(a, m, n, r, new MLNetMerge.Merging.Methods.CartSvdSettings(GramSubspaceSvd.DefaultIterations, GramSubspaceSvd.DefaultOversampling, GramSubspaceSvd.DefaultDegree, 7));
                best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
                bestCpu = Math.Min(bestCpu, (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds);
            }
            var d = (float[])a.Clone(); // (m, n) A − Â_r
            f!.AddTo(d, -1f);
            double s = 0;
            foreach (float x in d) s += (double)x * x;
            Console.WriteLine($"rsvd {m} {n} {r} {best:F1} {Math.Sqrt(s):R} {bestCpu:F1}");
        }
    }

    private static float[] LowRankPlusNoise(int m, int n, ulong seed, int signalRank = 40, float noise = 0.02f)
    {
        var x = new float[m * signalRank];  // (m, 40)
        var yt = new float[signalRank * n]; // (40, n)
        var a = new float[m * n];           // (m, n)
        new SeededRandom(seed).FillGaussian(x, 1f / MathF.Sqrt(m));
        new SeededRandom(seed + 1).FillGaussian(yt, 1f / MathF.Sqrt(n));
        new SeededRandom(seed + 2).FillGaussian(a, noise);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < signalRank; j++) x[i * signalRank + j] *= 10f * MathF.Pow(0.92f, j);
        Gemm.Multiply(false, false, m, n, signalRank, 1f, x, signalRank, yt, n, 1f, a, n);
        return a;
    }
}
