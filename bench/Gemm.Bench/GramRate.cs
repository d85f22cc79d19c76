using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// `gram`: the lower-triangle Gram product CART, TSV-M and ISO-CTS form for every matrix (<see cref="TriangularGram"/>,
/// block rows of <see cref="GramSubspaceSvd.GramBlock"/>), one thread, at the bench family's shapes; GFLOP per second
/// of process CPU time counting only the triangle's multiply-adds (2 · Σ rows · cols · inner; <see cref="CpuTimer"/>) — to
/// set beside `kernel`'s in-L1 rate and the plain product of one block row; then the float64 Gram matrix of ISO-C's and
/// TSV-M's polar factors (<see cref="GramOfRowsKernel"/>, the kernel this CPU takes).
/// </summary>
internal static class GramRate
{
    internal static void Run()
    {
        Console.WriteLine(KernelIsa.Describe());
        foreach (var (m, n, ofRows) in new[] { (768, 3072, true), (3072, 768, false), (768, 768, true) })
        {
            var a = BenchData.Floats(m * n, 3); // (m, n)
            int k = ofRows ? m : n, inner = ofRows ? n : m, block = GramSubspaceSvd.GramBlock;
            var g = new float[k * k]; // (k, k)
            double flops = 0;
            for (int i0 = 0; i0 < k; i0 += block) flops += 2.0 * Math.Min(block, k - i0) * (i0 + Math.Min(block, k - i0)) * inner;
            double best = CpuTimer.BestSecondsPerCall(() => TriangularGram.Compute(a, m, n, ofRows, g, block, 1));
            Console.WriteLine($"gram {(ofRows ? "A Aᵀ" : "Aᵀ A")} of {m}x{n}: {best * 1e3:F2} ms, {flops / best / 1e9:F1} GFLOP/s of CPU time (triangle only)");
        }
        foreach (var (rows, len) in new[] { (768, 3072), (768, 768), (96, 3072) })
        {
            var x = BenchData.Floats(rows * len, 5); // (rows, len)
            var g = new double[rows * rows]; // (rows, rows)
            double flops = (double)rows * (rows + 1) * len; // 2 · rows(rows + 1)/2 · len
            double best = CpuTimer.BestSecondsPerCall(() => GramOfRowsKernel.Compute(x, rows, len, g, 1));
            Console.WriteLine($"float64 gram X Xᵀ of {rows}x{len} (ISO-C, TSV-M): {best * 1e3:F2} ms, {flops / best / 1e9:F1} GFLOP/s of CPU time (triangle only)");
        }
        // The eigensolver's float64 products (DoubleGemm): the back-transformation's updates and a divide-and-conquer merge.
        foreach (var (m, n, k) in new[] { (768, 768, 32), (768, 32, 768), (384, 384, 384), (768, 768, 768) })
        {
            var a = BenchData.Doubles(m * k, 7); // (m, k)
            var b = BenchData.Doubles(k * n, 8); // (k, n)
            var c = new double[m * n];           // (m, n)
            double best = CpuTimer.BestSecondsPerCall(() => DoubleGemm.Multiply(m, n, k, a, k, b, n, c, n));
            Console.WriteLine($"float64 product {m}x{n}x{k} (eigensolver): {best * 1e3:F3} ms, {2.0 * m * n * k / best / 1e9:F1} GFLOP/s of CPU time");
        }
    }
}
