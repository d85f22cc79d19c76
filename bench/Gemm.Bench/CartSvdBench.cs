using System.Diagnostics;
using System.Globalization;
using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// `cartsvd DIR VARIANT…`: the truncated SVDs CART takes, on the merge benchmark's own centered matrices, against the
/// exact SVD that bench/merge/cart_exact_svd.py wrote to DIR. A variant is <c>rsvd:P:Q</c> (<see cref="RandomizedSvd"/>,
/// oversampling P, Q power iterations) or <c>gram:P:Q[:noshift|:shift|:shiftS][:dD]</c> (<see cref="GramSubspaceSvd"/>; the
/// filter interval updated on the first S filter applications, all of them, or none; default
/// <see cref="GramSubspaceSvd.DefaultShiftSteps"/>; Chebyshev filter of degree D, default
/// <see cref="GramSubspaceSvd.DefaultDegree"/>). Per variant it prints
/// the CPU time per matrix (run it with DOTNET_PROCESSOR_COUNT=1 for the one-matrix-per-core layout) and, over the
/// matrices, the median and largest
/// <list type="bullet">
/// <item>residual excess <c>e1 = (‖A − Â_r‖F − ‖A − A_r‖F) / ‖A − A_r‖F</c> (the project's criterion for a truncated SVD standing in for the exact one, ≤ 1e-3; docs/truncated-svd.md), and</item>
/// <item>low-rank difference <c>e2 = ‖Â_r − A_r‖F / ‖A_r‖F</c> (how far the low-rank part itself is from the exact one).</item>
/// </list>
/// </summary>
internal static class CartSvdBench
{
    private sealed record Case(string File, int M, int N, int R, double Residual, float[] A, float[] Exact);

    internal static void Run(string dir, string[] variants)
    {
        var cases = Load(dir);
        Console.WriteLine($"{cases.Count} matrices from {dir}; {KernelIsa.Describe()}");
        Console.WriteLine($"{"variant",-22} {"cpu ms/matrix",13} {"e1 median",10} {"e1 max",10} {"e2 median",10} {"e2 max",10}  worst e1");
        foreach (var v in variants)
        {
            var f = v.Split(':');
            int p = int.Parse(f[1], CultureInfo.InvariantCulture), q = int.Parse(f[2], CultureInfo.InvariantCulture);
            int shiftSteps = GramSubspaceSvd.DefaultShiftSteps, degree = GramSubspaceSvd.DefaultDegree;
            foreach (var option in f.Skip(3))
            {
                if (option == "noshift") shiftSteps = 0;
                else if (option == "shift") shiftSteps = int.MaxValue;
                else if (option.StartsWith("shift", StringComparison.Ordinal)) shiftSteps = int.Parse(option[5..], CultureInfo.InvariantCulture);
                else if (option.StartsWith('d')) degree = int.Parse(option[1..], CultureInfo.InvariantCulture);
                else throw new ArgumentException($"unknown option {option} in {v}");
            }
            Func<Case, LowRankFactors> run = f[0] switch
            {
                "rsvd" => c => RandomizedSvd.Compute(c.A, c.M, c.N, c.R, p, q, 7),
                "gram" => c => GramSubspaceSvd.Compute(c.A, c.M, c.N, c.R, p, q, 7, shiftSteps, degree: degree),
                _ => throw new ArgumentException($"unknown variant {v}"),
            };
            run(cases[0]); // JIT warm-up
            long fallbacks = RowOrthonormalizer.Fallbacks, shiftedPasses = RowOrthonormalizer.ShiftedPasses;
            var e1 = new List<double>();
            var e2 = new List<double>();
            double cpu = 0;
            string worst = "";
            double worstE1 = double.MinValue;
            foreach (var c in cases)
            {
                var t0 = Process.GetCurrentProcess().TotalProcessorTime;
                var factors = run(c);
                cpu += (Process.GetCurrentProcess().TotalProcessorTime - t0).TotalMilliseconds;
                var approx = new float[c.M * c.N]; // (m, n) Â_r
                factors.AddTo(approx);
                double res = 0, diff = 0, exact = 0;
                for (int i = 0; i < approx.Length; i++)
                {
                    double d = (double)c.A[i] - approx[i];
                    res += d * d;
                    double x = (double)approx[i] - c.Exact[i];
                    diff += x * x;
                    exact += (double)c.Exact[i] * c.Exact[i];
                }
                double a1 = (Math.Sqrt(res) - c.Residual) / c.Residual, a2 = Math.Sqrt(diff / exact);
                e1.Add(a1);
                e2.Add(a2);
                if (a1 > worstE1) { worstE1 = a1; worst = c.File; }
            }
            e1.Sort();
            e2.Sort();
            Console.WriteLine($"{v,-22} {cpu / cases.Count,13:F1} {e1[e1.Count / 2],10:E2} {e1[^1],10:E2} {e2[e2.Count / 2],10:E2} {e2[^1],10:E2}  {worst}  shifted CholeskyQR passes {RowOrthonormalizer.ShiftedPasses - shiftedPasses}, Householder fallbacks {RowOrthonormalizer.Fallbacks - fallbacks}");
        }
    }

    private static List<Case> Load(string dir)
    {
        var cases = new List<Case>();
        foreach (var line in File.ReadAllLines(Path.Combine(dir, "index.tsv")).Skip(1))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var f = line.Split('\t');
            int m = int.Parse(f[1], CultureInfo.InvariantCulture), n = int.Parse(f[2], CultureInfo.InvariantCulture), r = int.Parse(f[3], CultureInfo.InvariantCulture);
            double residual = double.Parse(f[5], CultureInfo.InvariantCulture);
            var bytes = File.ReadAllBytes(Path.Combine(dir, f[0]));
            var all = new float[bytes.Length / 4];
            Buffer.BlockCopy(bytes, 0, all, 0, bytes.Length);
            var a = all.AsSpan(0, m * n).ToArray();                 // (m, n) c_t
            var us = all.AsSpan(m * n, m * r).ToArray();            // (m, r) U_r S_r
            var vt = all.AsSpan(m * n + m * r, r * n).ToArray();    // (r, n) V_rᵀ
            var exact = new float[m * n];                           // (m, n) A_r
            Gemm.Multiply(false, false, m, n, r, 1f, us, r, vt, n, 0f, exact, n);
            cases.Add(new Case(f[0], m, n, r, residual, a, exact));
        }
        return cases;
    }
}
