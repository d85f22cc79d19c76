// GEMM throughput of MLNetMerge.Tensors.Gemm on the shapes in bench/gemm/shapes.txt, and the randomized SVD.
// Usage: dotnet run -c Release --project bench/Gemm.Bench -- [shapes.txt] [threads] [cpu]
//        Prints one line per shape: name M N K GFLOP/s (fastest single call over ≥ 1.5 s).
//        With "cpu": one thread, GFLOP per second of process CPU time (best of 5 batches of ≥ 0.3 s), a measure
//        that other processes' load on a shared machine barely moves.
//        dotnet run -c Release --project bench/Gemm.Bench -- rsvd OUTDIR
//        See RsvdBench.cs.
//        isa: one line on the CPU and the instruction sets the kernels use (KernelIsa.Describe); kernel: the GEMM tile's
//        in-L1 rate; cartsvd DIR VARIANT…: CART's truncated SVDs against exact ones (CartSvdBench.cs);
//        eigen OUTDIR [N…]: the symmetric eigensolver and Gram-matrix polar factor (EigenBench.cs, bench/gemm/torch_eigh.py);
//        packing: GB/s of the A and B panel packing at the engine's shapes (PackingRate.cs); gram: the lower-triangle
//        Gram product of the SVD methods, one thread (GramRate.cs).
using System.Diagnostics;
using MLNetMerge.Tensors;

if (args.Length > 0 && args[0] == "isa")
{
    Console.WriteLine(KernelIsa.Describe());
    return;
}
if (args.Length > 0 && args[0] == "kernel")
{
    KernelPeak.Run();
    return;
}
if (args.Length > 0 && args[0] == "gram")
{
    GramRate.Run();
    return;
}
if (args.Length > 0 && args[0] == "packing")
{
    PackingRate.Run();
    return;
}
if (args.Length > 0 && args[0] == "cartsvd")
{
    CartSvdBench.Run(args[1], args[2..]);
    return;
}
if (args.Length > 0 && args[0] == "eigen")
{
    EigenBench.Run(args[1], args[2..].Select(int.Parse).ToArray());
    return;
}
if (args.Length > 0 && args[0] == "rsvd")
{
    RsvdBench.Run(args[1]);
    return;
}

string shapesPath = args.Length > 0 ? args[0] : Path.Combine("bench", "gemm", "shapes.txt");
int threads = args.Length > 1 ? int.Parse(args[1]) : 2;
bool cpuTime = args.Length > 2 && args[2] == "cpu";
if (cpuTime) threads = 1;

foreach (var line in File.ReadAllLines(shapesPath))
{
    if (line.StartsWith('#') || string.IsNullOrWhiteSpace(line)) continue;
    var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    string name = f[0];
    bool ta = f[1] == "1", tb = f[2] == "1";
    int m = int.Parse(f[3]), n = int.Parse(f[4]), k = int.Parse(f[5]);
    var a = BenchData.Floats(m * k, 1); // (m, k) or (k, m)
    var b = BenchData.Floats(k * n, 2); // (k, n) or (n, k)
    var c = new float[m * n]; // (m, n)
    int lda = ta ? m : k, ldb = tb ? k : n;
    void Once() => Gemm.Multiply(ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, c, n, threads);
    for (int w = 0; w < 3; w++) Once();
    double flops = 2.0 * m * n * k, best = double.MaxValue;
    if (cpuTime) best = CpuTimer.BestSecondsPerCall(Once);
    else
    {
        // Fastest single call over ≥ 1.5 s (at least 20 calls): on a shared machine the minimum is the least disturbed run.
        var total = Stopwatch.StartNew();
        for (int calls = 0; calls < 20 || total.Elapsed.TotalSeconds < 1.5; calls++)
        {
            long t0 = Stopwatch.GetTimestamp();
            Once();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
    }
    Console.WriteLine($"{name} {m} {n} {k} {flops / best / 1e9:F1}");
}
