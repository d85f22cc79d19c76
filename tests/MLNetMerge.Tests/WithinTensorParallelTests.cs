using System.Runtime.InteropServices;
using MLNetMerge.Checkpoints;
using MLNetMerge.Merging;
using MLNetMerge.Merging.Methods;
using MLNetMerge.Tensors;
using MLNetMerge.Tensors.LinearAlgebra;
using static MLNetMerge.Tests.Merges;

namespace MLNetMerge.Tests;

/// <summary>
/// The per-matrix subspace merges that run one tensor at a time with their SVDs side by side (TSV-M, ISO-CTS, WUDI; ISO-C
/// keeps one tensor per worker), the pool their workspaces come from, and the float32-input Gram kernel.
/// </summary>
[TestClass]
public sealed class WithinTensorParallelTests
{
    private const string Matrix = "model.layers.0.mlp.weight";
    private const string Bias = "model.layers.0.mlp.bias";

    /// <summary>Three 96×64 task vectors (three tasks over two threads: an uneven split) and a bias.</summary>
    private static TinyFamily Family()
    {
        const int m = 96, n = 64;
        var f = new TinyFamily("t1", "t2", "t3")
            .WithTaskVectors(Matrix, [m, n], Random(m * n, 1, 0.1f), Random(m * n, 2), Random(m * n, 3), Random(m * n, 4));
        return f.WithTaskVectors(Bias, [n], Random(n, 5), Random(n, 6), Random(n, 7), Random(n, 8));
    }

    [TestMethod]
    [DataRow("tsv_m")]
    [DataRow("iso_cts")]
    [DataRow("wudi")]
    [DataRow("iso_c")]
    public void TheSameBitsOnAnyThreadCount(string method)
    {
        byte[] Bytes(int threads) => MemoryMarshal.AsBytes(Run(Family(), method, options: new MergeExecutionOptions { MaxThreads = threads, Seed = 3 })
            .Tensors[Matrix].AsSpan()).ToArray();
        var one = Bytes(1);
        CollectionAssert.AreEqual(one, Bytes(2), $"{method}: 2 threads");
        CollectionAssert.AreEqual(one, Bytes(3), $"{method}: 3 threads");
    }

    [TestMethod]
    public void SubspaceMergesHoldOneTensorAtATimeExceptIsoC()
    {
        using var family = Family().Build();
        var plan = MergePlan.Of(family, 0);
        MergeRun Begin(string method)
        {
            var parameters = Parameters(method, 3);
            return parameters.Method.Begin(plan, parameters);
        }
        bool OneTensor(string method) => Begin(method).ParallelWithinTensor;
        Assert.IsTrue(OneTensor("tsv_m"));
        Assert.IsTrue(OneTensor("iso_cts"));
        Assert.IsTrue(OneTensor("wudi"));
        Assert.IsTrue(OneTensor("cart"));
        Assert.IsFalse(OneTensor("iso_c"));        // one sequential eigendecomposition per matrix: workers use the cores
        Assert.IsFalse(OneTensor("task_arithmetic"));
        // ISO-C reads only Σ w_t τt, accumulated while loading: one task buffer per worker.
        bool SumOnly(string method) => Begin(method).UsesOnlyTaskSum;
        Assert.IsTrue(SumOnly("iso_c"));
        Assert.IsFalse(SumOnly("iso_cts"));
        Assert.IsFalse(SumOnly("tsv_m"));
    }

    [TestMethod]
    public void IsoCFromTheSumItAccumulatesWhileLoading()
    {
        // Per-model weights (2, 0.5, 1) and λ = 0.7: the matrix is θ0 + λ·σ̄·polar(S), S = Σ w_t τt, σ̄ the mean singular
        // value; the bias θ0 + λ·S/T — computed here from the task vectors directly.
        var f = Family();
        var perModel = new[] { P(("weight", 2.0)), P(("weight", 0.5)), P(("weight", 1.0)) };
        var merged = Run(f, "iso_c", P(("scale", 0.7)), perModel);
        using var family = Family().Build();
        float[] Read(ICheckpointReader r, string name, int length)
        {
            var x = new float[length];
            r.TryGetTensor(name, out var info);
            r.ReadFloat32(info, x);
            return x;
        }
        double[] w = [2, 0.5, 1];
        foreach (var (name, length) in new[] { (Matrix, 96 * 64), (Bias, 64) })
        {
            var theta0 = Read(family.Base, name, length);
            var sum = new float[length];
            for (int t = 0; t < 3; t++)
            {
                var theta = Read(family.Tasks[t].Reader, name, length);
                for (int i = 0; i < length; i++) sum[i] += (float)w[t] * (theta[i] - theta0[i]);
            }
            var expected = new double[length];
            if (name == Matrix)
            {
                var p = new float[length];
                double nuclear = GramSvd.Polar(sum, 96, 64, p);
                for (int i = 0; i < length; i++) expected[i] = theta0[i] + 0.7 * nuclear / 64 * p[i];
            }
            else
                for (int i = 0; i < length; i++) expected[i] = theta0[i] + 0.7 * sum[i] / 3;
            AssertClose(expected.Select(v => (float)v).ToArray(), merged.Tensors[name], 2e-6, name);
        }
    }

    [TestMethod]
    public void SideBySideRunsEveryIndexOnceAndHandsOutThreads()
    {
        var seen = new int[7];
        var threadsSeen = new int[7];
        MatrixMerge.SideBySide(7, 2, (t, threads) => { Interlocked.Increment(ref seen[t]); threadsSeen[t] = threads; });
        CollectionAssert.AreEqual(Enumerable.Repeat(1, 7).ToArray(), seen);
        CollectionAssert.AreEqual(Enumerable.Repeat(1, 7).ToArray(), threadsSeen, "side by side: one thread each");
        MatrixMerge.SideBySide(3, 1, (t, threads) => threadsSeen[t] = threads + 10);
        CollectionAssert.AreEqual(new[] { 11, 11, 11 }, threadsSeen[..3], "one at a time: each gets every thread");
    }

    [TestMethod]
    public void APooledArrayReturnedOnOneThreadServesAnother()
    {
        // ArrayPool<T>.Shared would keep it in the returning thread's cache; the merges spread SVDs over pool threads.
        var pool = new BufferPool<double>();
        double[] a = pool.Rent(1000);
        Assert.HasCount(1024, a);
        var other = new Thread(() => pool.Return(a));
        other.Start();
        other.Join();
        Assert.AreSame(a, pool.Rent(1000));
        Assert.AreNotSame(a, pool.Rent(1000), "rented twice");
    }

    [TestMethod]
    [DataRow(9, 37, "Narrow4x2")]
    [DataRow(8, 3, "Narrow4x2")]
    [DataRow(5, 64, "Narrow4x2")]
    [DataRow(13, 45, "Narrow4x2")]
    [DataRow(9, 37, "Narrow4x3")]
    [DataRow(13, 45, "Narrow4x3")]
    [DataRow(24, 50, "Narrow4x3")]
    [DataRow(9, 37, "Wide4x4")]
    [DataRow(13, 45, "Wide4x4")]
    [DataRow(16, 64, "Wide4x4")]
    public void GramOfFloatRowsIsTheFloat64Gram(int rows, int len, string kernelName)
    {
        var kernel = Enum.Parse<GramOfRowsKernel.Kernel>(kernelName);
        // Every product of two floats is exact in float64; the sums of ≤ 64 terms agree with a plain float64 loop to
        // rounding (1e-14 relative), and G is exactly symmetric. Every block kernel: the 512-bit one (four rows against
        // four, a tail of len mod 8, diagonal blocks) where the CPU has AVX-512, the 256-bit ones everywhere.
        var x = Random(rows * len, 9);
        var g = new double[rows * rows];
        if (kernel == GramOfRowsKernel.Kernel.Wide4x4 && !GramOfRowsKernel.Wide512)
        {
            // Without AVX-512 the 512-bit kernel is refused, not emulated.
            Assert.ThrowsExactly<PlatformNotSupportedException>(() => GramOfRowsKernel.Compute(x, rows, len, g, 1, kernel));
            return;
        }
        GramOfRowsKernel.Compute(x, rows, len, g, 1, kernel);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < rows; j++)
            {
                double s = 0, scale = 0;
                for (int l = 0; l < len; l++) { s += (double)x[i * len + l] * x[j * len + l]; scale += Math.Abs((double)x[i * len + l] * x[j * len + l]); }
                Assert.AreEqual(s, g[i * rows + j], 1e-14 * scale + 1e-300, $"G[{i},{j}]");
                Assert.AreEqual(g[j * rows + i], g[i * rows + j], 0.0, $"symmetric [{i},{j}]");
            }
    }

    [TestMethod]
    [DataRow(300)]
    [DataRow(129)]
    public void TheEigensolverGivesTheSameBitsOnTwoThreads(int n)
    {
        // Two threads: Qᵀ accumulated by interleaved rows, the two top halves of the divide and conquer side by side and
        // its top merge's products side by side, the back-transformation by row halves. A Wishart-like matrix with a
        // repeated block (near-equal eigenvalues: the rotation deflation) as well as a spread spectrum.
        var x = Random(n * 2 * n, 21);
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = 0;
                for (int l = 0; l < 2 * n; l++) s += (double)x[i * 2 * n + l] * x[j * 2 * n + l];
                a[i * n + j] = a[j * n + i] = i < 20 && j < 20 ? (i == j ? 3.0 : 0.0) : s / (2 * n);
            }
        (double[] Values, double[] Rows) Solve(int threads)
        {
            var copy = (double[])a.Clone();
            var values = new double[n];
            var rows = new double[n * n];
            DivideConquerEigen.Decompose(copy, n, values, rows, threads);
            return (values, rows);
        }
        var one = Solve(1);
        var two = Solve(2);
        CollectionAssert.AreEqual(one.Values, two.Values, "eigenvalues");
        CollectionAssert.AreEqual(one.Rows, two.Rows, "eigenvectors");
        double worst = 0; // and they are eigenpairs: ‖A v − λ v‖∞ small
        for (int j = 0; j < n; j += 37)
            for (int i = 0; i < n; i++)
            {
                double av = 0;
                for (int l = 0; l < n; l++) av += a[i * n + l] * two.Rows[j * n + l];
                worst = Math.Max(worst, Math.Abs(av - two.Values[j] * two.Rows[j * n + i]));
            }
        Assert.IsLessThan(1e-12, worst);
    }

    [TestMethod]
    public void TheGramKernelGivesTheSameBitsOnTwoThreads()
    {
        const int rows = 130, len = 50;
        var x = Random(rows * len, 22);
        var one = new double[rows * rows];
        var two = new double[rows * rows];
        GramOfRowsKernel.Compute(x, rows, len, one, 1);
        GramOfRowsKernel.Compute(x, rows, len, two, 2);
        CollectionAssert.AreEqual(one, two);
        // Every block kernel keeps that property; the default is the 512-bit one wherever the CPU has AVX-512, else four
        // rows against three, whose sums are those of four against two bit for bit.
        var chosen = new double[rows * rows];
        GramOfRowsKernel.Compute(x, rows, len, chosen, 2, GramOfRowsKernel.Default);
        CollectionAssert.AreEqual(one, chosen);
        var pairsOne = new double[rows * rows];
        var triples = new double[rows * rows];
        var triplesTwo = new double[rows * rows];
        GramOfRowsKernel.Compute(x, rows, len, pairsOne, 1, GramOfRowsKernel.Kernel.Narrow4x2);
        GramOfRowsKernel.Compute(x, rows, len, triples, 1, GramOfRowsKernel.Kernel.Narrow4x3);
        GramOfRowsKernel.Compute(x, rows, len, triplesTwo, 2, GramOfRowsKernel.Kernel.Narrow4x3);
        CollectionAssert.AreEqual(pairsOne, triples, "four against three gives four against two's bits");
        CollectionAssert.AreEqual(triples, triplesTwo);
    }

    [TestMethod]
    [DataRow(1, 37)]
    [DataRow(1, 1000)]
    [DataRow(2, (1 << 19) + 13)]
    public void WudiAdamStepIsTheScalarFormulaBitForBit(int threads, int length)
    {
        var x = Random(length, 30); var grad = Random(length, 31);
        var m = Random(length, 32); var v = Random(length, 33);
        for (int i = 0; i < length; i++) v[i] = Math.Abs(v[i]) * 1e-3f;
        float[] ex = [.. x], em = [.. m], ev = [.. v];
        const int step = 7;
        const double lr = 3e-4;
        // torch.optim.Adam's single-tensor path in float32, written out element by element.
        float stepSize = (float)(lr / (1.0 - Math.Pow(0.9, step))), bc2 = (float)Math.Sqrt(1.0 - Math.Pow(0.999, step));
        for (int i = 0; i < length; i++)
        {
            float g = grad[i];
            em[i] = em[i] * 0.9f + (float)(1 - 0.9) * g;
            ev[i] = ev[i] * 0.999f + (float)(1 - 0.999) * g * g;
            ex[i] -= stepSize * (em[i] / (MathF.Sqrt(ev[i]) / bc2 + 1e-8f));
        }
        WudiSolver.AdamStep(x, grad, m, v, step, lr, threads);
        CollectionAssert.AreEqual(em, m);
        CollectionAssert.AreEqual(ev, v);
        CollectionAssert.AreEqual(ex, x);
    }

    [TestMethod]
    public void DotShort4IsFourDotShortsBitForBit()
    {
        var rng = new Random(40);
        double[] Draw(int n) => [.. Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 2 - 1)];
        Span<double> four = stackalloc double[4];
        foreach (var lengths in new[] { new[] { 0, 1, 2, 3 }, [4, 4, 4, 4], [37, 36, 35, 34], [94, 7, 150, 8], [5, 160, 0, 33] })
        {
            var x = lengths.Select(Draw).ToArray();
            var y = lengths.Select(Draw).ToArray();
            DenseKernels.DotShort4(x[0], y[0], x[1], y[1], x[2], y[2], x[3], y[3], four);
            for (int r = 0; r < 4; r++)
                Assert.AreEqual(BitConverter.DoubleToInt64Bits(DenseKernels.DotShort(x[r], y[r])), BitConverter.DoubleToInt64Bits(four[r]), $"lengths {string.Join(",", lengths)}, row {r}");
        }
    }

    /// <summary>A method that copies θ0 and records, per tensor, the buffers the executor handed it.</summary>
    private sealed class BufferProbe(bool withinTensor) : MergeMethod
    {
        public readonly List<(string Tensor, float[] Base, float[] Task0, float[] Output)> Seen = [];

        public override string Name => "buffer_probe";

        public override string Reference => "a test probe";

        public override string Summary => "records the buffers each tensor gets";

        public override IReadOnlyList<MethodParameter> Parameters { get; } = [];

        public override MergeRun Begin(MergePlan plan, MergeParameters parameters) => new Run(this, withinTensor);

        private sealed class Run(BufferProbe probe, bool withinTensor) : MergeRun
        {
            internal override bool ParallelWithinTensor => withinTensor;

            public override void Merge(MergeTensorContext ctx, Span<float> output)
            {
                lock (probe.Seen) probe.Seen.Add((ctx.Name, ctx.BaseArray, ctx.TaskArrays[0], ctx.OutputArray));
                ctx.Base.CopyTo(output);
            }
        }
    }

    [TestMethod]
    [DataRow(true, 1)]
    [DataRow(false, 1)]
    [DataRow(false, 2)]
    public void EachWorkerHoldsOneSetOfBuffersSizedForTheLargestTensor(bool withinTensor, int threads)
    {
        // Tensors of 6144, 64 and 700 elements: one set of buffers per worker for all of them (renting per tensor drew a
        // new set from each of the pool's size classes and kept them all).
        var family = Family().WithTaskVectors("model.layers.0.extra", [700], Random(700, 9), Random(700, 10), Random(700, 11), Random(700, 12));
        var probe = new BufferProbe(withinTensor);
        using var built = family.Build();
        var merged = MergeExecutor.RunInMemory(built, probe, new MergeParameters(probe, null, [null, null, null]), new MergeExecutionOptions { MaxThreads = threads });
        Assert.HasCount(3, probe.Seen);
        int workers = probe.Seen.Select(s => s.Base).Distinct(ReferenceEqualityComparer.Instance).Count();
        Assert.IsLessThanOrEqualTo(withinTensor ? 1 : threads, workers);
        foreach (var (tensor, b, t0, o) in probe.Seen)
            foreach (var array in new[] { b, t0, o }) Assert.IsGreaterThanOrEqualTo(96 * 64, array.Length, tensor);
        if (workers == 1)
            foreach (var s in probe.Seen)
            {
                Assert.AreSame(probe.Seen[0].Base, s.Base);
                Assert.AreSame(probe.Seen[0].Task0, s.Task0);
                Assert.AreSame(probe.Seen[0].Output, s.Output);
            }
        CollectionAssert.AreEqual(Read(built.Base, "model.layers.0.extra", 700), merged.Tensors["model.layers.0.extra"]);
    }

    private static float[] Read(ICheckpointReader reader, string name, int length)
    {
        var x = new float[length];
        reader.TryGetTensor(name, out var info);
        reader.ReadFloat32(info, x);
        return x;
    }
}
