using System.Diagnostics;
using MLNetMerge.Tensors;

/// <summary>
/// `kernel`: the GEMM micro-kernel alone on packed panels that stay in L1 (one tile, kc = 256, repeated), GFLOP per
/// second of process CPU time — the ceiling the packed product can approach; compare with the full product's figure.
/// </summary>
internal static unsafe class KernelPeak
{
    internal static void Run()
    {
        Console.WriteLine(KernelIsa.Describe());
        foreach (var path in new[] { Gemm.BestPath, GemmPath.Avx2 })
        {
            if (path == GemmPath.Avx512 && Gemm.BestPath != GemmPath.Avx512) continue;
            int mr = path == GemmPath.Avx512 ? GemmKernels.Avx512Mr : GemmKernels.Avx2Mr;
            int nr = path == GemmPath.Avx512 ? GemmKernels.Avx512Nr : GemmKernels.Avx2Nr;
            const int kc = 256;
            var ap = GC.AllocateArray<float>(kc * mr + 16, pinned: true);
            var bp = GC.AllocateArray<float>(kc * nr + 16, pinned: true);
            var c = GC.AllocateArray<float>(mr * nr + 16, pinned: true);
            for (int i = 0; i < ap.Length; i++) ap[i] = 1e-3f * (i % 7);
            for (int i = 0; i < bp.Length; i++) bp[i] = 1e-3f * (i % 5);
            double best = double.MaxValue;
            fixed (float* pa = ap, pb = bp, pc = c)
            {
                for (int rep = 0; rep < 5; rep++)
                {
                    var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                    const int calls = 20000;
                    for (int i = 0; i < calls; i++)
                    {
                        if (path == GemmPath.Avx512) GemmKernels.Avx512Tile(kc, pa, 1, GemmKernels.Avx512Mr, pb, GemmKernels.Avx512Nr, pc, nr, 1f, 1f, true);
                        else GemmKernels.Avx2Tile(kc, pa, 1, GemmKernels.Avx2Mr, pb, GemmKernels.Avx2Nr, pc, nr, 1f, 1f, true);
                    }
                    best = Math.Min(best, (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds / calls);
                }
            }
            Console.WriteLine($"kernel {path} {mr}x{nr} kc {kc}: {2.0 * mr * nr * kc / best / 1e9:F1} GFLOP/s of CPU time");
        }
    }
}
