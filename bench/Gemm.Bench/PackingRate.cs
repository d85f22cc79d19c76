// `Gemm.Bench packing`: GB/s of the GEMM's A and B packing (GemmPacking) at the engine's shapes, the source rows hot
// in cache (one group packed over and over) and cold (every group of an 800 × K activation, as a product packs them).
using System.Diagnostics;
using MLNetMerge.Tensors;

internal static unsafe class PackingRate
{
    public static void Run()
    {
        Console.WriteLine(KernelIsa.Describe());
        int mr = GemmKernels.Avx512Mr, nr = GemmKernels.Avx512Nr, kc = 384;
        foreach (int k in new[] { 768, 3072 })
        {
            const int m = 800;
            var a = new float[m * k];
            for (int i = 0; i < a.Length; i++) a[i] = i * 1e-3f;
            int groupRows = 24;
            var dst = new float[groupRows * k + 64];
            fixed (float* fa = a, fd = dst)
            {
                nint ia = (nint)fa, id = (nint)fd; // lambdas cannot capture fixed locals
                float* pa() => (float*)ia;
                float* pd() => (float*)id;
                double hot = Rate(() =>
                {
                    for (int pc = 0; pc < k; pc += kc)
                        GemmPacking.PackA(false, pa(), k, 0, pc, groupRows, Math.Min(kc, k - pc), mr, pd() + (long)pc * groupRows);
                }, (long)groupRows * k);
                double cold = Rate(() =>
                {
                    for (int i0 = 0; i0 + groupRows <= m; i0 += groupRows)
                        for (int pc = 0; pc < k; pc += kc)
                            GemmPacking.PackA(false, pa(), k, i0, pc, groupRows, Math.Min(kc, k - pc), mr, pd() + (long)pc * groupRows);
                }, (long)(m / groupRows * groupRows) * k);
                Console.WriteLine($"PackA 12-row panels, k {k}: one 24-row group (hot) {hot:F1} GB/s, all 800 rows {cold:F1} GB/s");
            }
            var b = new float[768 * k];
            var pb = new float[(768 + nr) * k];
            fixed (float* fb = b, fdb = pb)
            {
                nint ib = (nint)fb, idb = (nint)fdb;
                float* sb() => (float*)ib;
                float* db() => (float*)idb;
                double rate = Rate(() =>
                {
                    for (int pc = 0; pc < k; pc += kc)
                        GemmPacking.PackB(true, sb(), k, pc, 0, Math.Min(kc, k - pc), 768, nr, db() + (long)pc * 768);
                }, 768L * k);
                Console.WriteLine($"PackB (transposed weight 768 x {k}): {rate:F1} GB/s");
            }
        }
    }

    /// <summary>Bytes read (floats × 4) per second, best of 5 batches of ≥ 0.2 s.</summary>
    private static double Rate(Action pack, long floats)
    {
        for (int i = 0; i < 20; i++) pack();
        double best = double.MaxValue;
        for (int batch = 0; batch < 5; batch++)
        {
            int calls = 0;
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed.TotalSeconds < 0.2) { pack(); calls++; }
            best = Math.Min(best, sw.Elapsed.TotalSeconds / calls);
        }
        return floats * 4 / best / 1e9;
    }
}
