using System.Diagnostics;
using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// `eigen OUTDIR [N…]`: the dense symmetric eigensolvers (<see cref="TridiagonalQlEigen"/> and <see cref="DivideConquerEigen"/>, float64) and the Gram-matrix
/// SVD / polar factor the per-matrix subspace merges take (<see cref="GramSvd"/>: ISO-C, ISO-CTS and TSV-M's Procrustes
/// steps), on seeded matrices. Writes each input to OUTDIR (raw little-endian float32, row-major) for
/// bench/gemm/torch_eigh.py, which times torch.linalg.eigh and torch.linalg.svd on the same matrices and prints the
/// ratios. Per line: kind shape best_wall_ms best_cpu_ms (fastest of 5; CPU time of the whole process) and the
/// accuracy checks: for eigen the largest |VᵀV − I| and ‖A V − V Λ‖F / ‖A‖F, for polar ‖PᵀP − I‖ on the short side.
/// </summary>
internal static class EigenBench
{
    internal static void Run(string outDir, int[] sizes)
    {
        Directory.CreateDirectory(outDir);
        Console.WriteLine($"# {KernelIsa.Describe()}");
        foreach (int n in sizes.Length > 0 ? sizes : [768])
        {
            // A Wishart-like SPD matrix G = X Xᵀ / len, X (n, 4n) Gaussian: a spread, non-degenerate spectrum as CART's
            // and ISO's Gram matrices have.
            var x = new float[n * 4 * n];
            new SeededRandom(11).FillGaussian(x, 1f);
            var g = new float[n * n];
            Gemm.Multiply(false, true, n, n, 4 * n, 1f / (4 * n), x, 4 * n, x, 4 * n, 0f, g, n);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < i; j++) g[j * n + i] = g[i * n + j];
            Write(outDir, $"S_{n}.f32", g);
            var a = new double[n * n];
            var values = new double[n];
            var rows = new double[n * n];
            var (wall, cpu) = Time(() =>
            {
                for (int i = 0; i < n * n; i++) a[i] = g[i];
                TridiagonalQlEigen.Decompose(a, n, values, rows);
            });
            var (orth, resid) = EigenChecks(g, n, values, rows);
            Console.WriteLine($"eigen {n} {wall:F1} {cpu:F1} orth {orth:E2} resid {resid:E2} bits {Digest(values)}{Digest(rows)} (QL)");
            (wall, cpu) = Time(() =>
            {
                for (int i = 0; i < n * n; i++) a[i] = g[i];
                DivideConquerEigen.Decompose(a, n, values, rows);
            });
            (orth, resid) = EigenChecks(g, n, values, rows);
            Console.WriteLine($"eigen {n} {wall:F1} {cpu:F1} orth {orth:E2} resid {resid:E2} bits {Digest(values)}{Digest(rows)} (divide and conquer)");
            Stages(g, n);
        }
        foreach (var (m, n) in new[] { (768, 768), (768, 3072) })
        {
            var s = new float[m * n];
            new SeededRandom(12).FillGaussian(s, 1e-3f);
            Write(outDir, $"P_{m}x{n}.f32", s);
            var p = new float[m * n];
            var (wall, cpu) = Time(() => GramSvd.Polar(s, m, n, p));
            Console.WriteLine($"polar {m}x{n} {wall:F1} {cpu:F1} orth {PolarOrth(p, m, n):E2} bits {Digest(p)}");
        }
    }

    /// <summary>CPU time of each stage of <see cref="DivideConquerEigen"/> (fastest of 5), printed as a `# stages` comment line.</summary>
    private static void Stages(float[] g, int n)
    {
        var a = new double[n * n];
        var d = new double[n];
        var e = new double[n];
        var beta = new double[n];
        var reflectors = new double[n * n];
        var qt = new double[n * n];
        var zt = new double[n * n];
        var rows = new double[n * n];
        var dd = new double[n];
        var ee = new double[n];
        var (_, reduce) = Time(() =>
        {
            for (int i = 0; i < n * n; i++) a[i] = g[i];
            SymmetricTridiagonalization.Reduce(a, n, d, e, reflectors, beta);
        });
        var (_, accumulate) = Time(() => TridiagonalQlEigen.AccumulateTranspose(reflectors, beta, n, qt));
        var (_, conquer) = Time(() =>
        {
            d.CopyTo(dd, 0);
            e.CopyTo(ee, 0);
            TridiagonalDivideConquer.Solve(dd, ee, n, zt);
        });
        var (_, product) = Time(() => DoubleGemm.Multiply(n, n, n, zt, n, qt, n, rows, n));
        string blocked = string.Join(", ", new[] { 16, 32, 64 }.Select(b => $"{Time(() =>
        {
            zt.CopyTo(rows, 0);
            CompactWyBackTransform.Apply(reflectors, beta, n, rows, n, block: b);
        }).Cpu:F1} ({b})"));
        Console.WriteLine($"# stages {n} (CPU ms): tridiagonalise {reduce:F1}, divide and conquer {conquer:F1}, back-transformation by blocked reflectors {blocked} " +
            $"(against forming Qᵀ {accumulate:F1} + the product by it {product:F1})");
    }

    private static (double Wall, double Cpu) Time(Action run)
    {
        run(); // JIT warm-up
        double best = double.MaxValue, bestCpu = double.MaxValue;
        for (int rep = 0; rep < 5; rep++)
        {
            var c0 = Process.GetCurrentProcess().TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            run();
            best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
            bestCpu = Math.Min(bestCpu, (Process.GetCurrentProcess().TotalProcessorTime - c0).TotalMilliseconds);
        }
        return (best, bestCpu);
    }

    private static (double Orth, double Resid) EigenChecks(float[] g, int n, double[] values, double[] rows)
    {
        double orth = 0, r2 = 0, a2 = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double d = 0;
                for (int l = 0; l < n; l++) d += rows[i * n + l] * rows[j * n + l];
                orth = Math.Max(orth, Math.Abs(d - (i == j ? 1 : 0)));
            }
        for (int j = 0; j < n; j++)
            for (int i = 0; i < n; i++)
            {
                double av = 0;
                for (int l = 0; l < n; l++) av += g[i * n + l] * rows[j * n + l];
                double d = av - values[j] * rows[j * n + i];
                r2 += d * d;
            }
        foreach (float v in g) a2 += (double)v * v;
        return (orth, Math.Sqrt(r2 / a2));
    }

    private static double PolarOrth(float[] p, int m, int n)
    {
        int k = Math.Min(m, n);
        var ppt = new float[k * k];
        if (m <= n) Gemm.Multiply(false, true, k, k, n, 1f, p, n, p, n, 0f, ppt, k);
        else Gemm.Multiply(true, false, k, k, m, 1f, p, n, p, n, 0f, ppt, k);
        double worst = 0;
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) worst = Math.Max(worst, Math.Abs(ppt[i * k + j] - (i == j ? 1 : 0)));
        return worst;
    }

    private static string Digest<T>(T[] data) where T : unmanaged =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan())))[..8];

    private static void Write(string dir, string name, float[] data)
    {
        using var fs = File.Create(Path.Combine(dir, name));
        fs.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
    }
}
