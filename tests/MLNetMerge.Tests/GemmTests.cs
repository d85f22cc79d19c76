using MLNetMerge.Tensors;

namespace MLNetMerge.Tests;

[TestClass]
public sealed class GemmTests
{
    /// <summary>Deterministic values in [-1, 1) from a 64-bit LCG, so failures reproduce.</summary>
    internal static float[] Random(int length, ulong seed)
    {
        var x = new float[length];
        ulong s = seed * 6364136223846793005UL + 1442695040888963407UL;
        for (int i = 0; i < length; i++)
        {
            s = s * 6364136223846793005UL + 1442695040888963407UL;
            x[i] = (int)(s >> 40) / (float)(1 << 23) - 1f;
        }
        return x;
    }

    /// <summary>C = alpha·op(A)·op(B) + beta·C in float64, with beta = 0 ignoring C.</summary>
    private static double[] Reference(bool transA, bool transB, int m, int n, int k, float alpha,
        float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc)
    {
        var r = new double[m * n]; // (m, n)
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (double)(transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                r[i * n + j] = alpha * s + (beta == 0f ? 0.0 : beta * (double)c[i * ldc + j]);
            }
        return r;
    }

    /// <summary>Runs one case on <paramref name="path"/> and checks every element against the float64 reference:
    /// |got − ref| ≤ 1e-5·(|alpha|·Σ_p|a||b| + |beta·c|) + 1e-6 (float32 rounding grows with k).</summary>
    private static void CheckCase(GemmPath path, bool transA, bool transB, int m, int n, int k, float alpha, float beta,
        int padA, int padB, int padC, int threads, ulong seed)
    {
        int lda = (transA ? m : k) + padA, ldb = (transB ? k : n) + padB, ldc = n + padC;
        var a = Random((transA ? k : m) * lda, seed);
        var b = Random((transB ? n : k) * ldb, seed + 1);
        var c = beta == 0f ? Enumerable.Repeat(float.NaN, m * ldc).ToArray() : Random(m * ldc, seed + 2);
        var expected = Reference(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        var got = (float[])c.Clone();
        Gemm.MultiplyCore(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc, threads, path);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double tol = 1e-5 * (Math.Abs(alpha) * k + Math.Abs(beta)) + 1e-6;
                double e = expected[i * n + j];
                Assert.AreEqual(e, got[i * ldc + j], tol, $"{path} tA={transA} tB={transB} m={m} n={n} k={k} at ({i},{j})");
            }
            // Padding past column n is never written.
            for (int j = n; j < ldc && i * ldc + j < got.Length; j++)
                Assert.AreEqual(c[i * ldc + j], got[i * ldc + j], $"padding ({i},{j}) changed");
        }
    }

    /// <summary>Every kernel path this CPU runs (scalar always).</summary>
    internal static IEnumerable<GemmPath> SupportedPaths()
    {
        yield return GemmPath.Scalar;
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported) yield return GemmPath.Avx2;
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported) yield return GemmPath.Avx512;
    }

    [TestMethod]
    public void AllTransposesMatchFloat64ReferenceOverSizeSweep()
    {
        int[] sizes = [1, 2, 3, 5, 7, 8, 13, 16, 17, 31, 33, 47, 64, 67];
        ulong seed = 1;
        foreach (var path in SupportedPaths())
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    for (int s = 0; s < sizes.Length; s++)
                    {
                        int m = sizes[s], n = sizes[(s + 5) % sizes.Length], k = sizes[(s + 9) % sizes.Length];
                        CheckCase(path, ta, tb, m, n, k, 1f, 0f, 0, 0, 0, 1, seed++);
                        CheckCase(path, ta, tb, m, n, k, 1f, 0f, 3, 5, 7, 1, seed++);
                    }
    }

    [TestMethod]
    public void PackedPathHandlesEdgesAndOddStridesForAllTransposes()
    {
        // Sizes above the direct threshold, with partial register tiles on every side and k spanning several k-blocks.
        foreach (var path in SupportedPaths())
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    CheckCase(path, ta, tb, 67, 61, 45, 1f, 0f, 1, 3, 5, 1, 11);
                    CheckCase(path, ta, tb, 37, 100, 800, 0.5f, 0f, 7, 1, 3, 2, 12);
                    CheckCase(path, ta, tb, 130, 35, 67, -1.5f, 2f, 0, 0, 1, 2, 13);
                }
    }

    [TestMethod]
    public void SixRowPanelsPackEveryKTail()
    {
        // The AVX2 tile's 6-row A panels are packed by 8×8 transposes with an overlapping store and a scalar tail:
        // k from 1 to 17 (and across a 256 k-block edge) with m = 6·30 + 5, so full and partial panels both occur, and
        // m·n·k = 65,305·k above the direct-product threshold (40³ = 64,000) even at k = 1, so every case is packed.
        foreach (var path in SupportedPaths())
            foreach (int k in new[] { 1, 7, 8, 9, 15, 16, 17, 255, 257, 263 })
                CheckCase(path, false, k % 2 == 0, 185, 353, k, 1f, k % 3 == 0 ? 0.5f : 0f, 3, 1, 2, 1, (ulong)(900 + k));
    }

    [TestMethod]
    public void AlphaBetaVariants()
    {
        foreach (var path in SupportedPaths())
            foreach (var (alpha, beta) in new[] { (1f, 1f), (2f, 0f), (-0.5f, 0.25f), (1f, -1f), (0.75f, 1f) })
            {
                CheckCase(path, false, true, 50, 70, 60, alpha, beta, 2, 2, 2, 2, 21); // packed
                CheckCase(path, true, false, 9, 10, 11, alpha, beta, 1, 1, 1, 1, 22);  // direct
            }
    }

    [TestMethod]
    public void BetaZeroOverwritesNaN()
    {
        foreach (var path in SupportedPaths())
            foreach (var (m, n, k) in new[] { (3, 4, 5), (70, 90, 100) })
            {
                var a = Random(m * k, 5);
                var b = Random(k * n, 6);
                var c = Enumerable.Repeat(float.NaN, m * n).ToArray();
                Gemm.MultiplyCore(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n, 2, path);
                Assert.IsTrue(c.All(float.IsFinite), $"{path} {m}x{n}x{k}: NaN leaked from C with beta = 0");
            }
    }

    [TestMethod]
    public void KZeroOrAlphaZeroScalesC()
    {
        // k = 0: C = beta·C; with beta = 0, C = 0 even from NaN.
        var c = new float[] { 1f, 2f, 3f, 4f };
        Gemm.Multiply(false, false, 2, 2, 0, 1f, [], 0, [], 2, 0.5f, c, 2);
        CollectionAssert.AreEqual(new[] { 0.5f, 1f, 1.5f, 2f }, c);
        var nan = new float[] { float.NaN, float.NaN };
        Gemm.Multiply(false, false, 1, 2, 3, 0f, new float[3], 3, new float[6], 2, 0f, nan, 2);
        CollectionAssert.AreEqual(new[] { 0f, 0f }, nan);
    }

    [TestMethod]
    public void HandWorked2x2()
    {
        // [1 2; 3 4]·[5 6; 7 8] = [1·5+2·7, 1·6+2·8; 3·5+4·7, 3·6+4·8] = [19 22; 43 50];
        // alpha 2, beta 1 over C = [1 1; 1 1] → [39 45; 87 101].
        float[] a = [1, 2, 3, 4], b = [5, 6, 7, 8], c = [1, 1, 1, 1];
        Gemm.Multiply(false, false, 2, 2, 2, 2f, a, 2, b, 2, 1f, c, 2);
        CollectionAssert.AreEqual(new float[] { 39, 45, 87, 101 }, c);
        // Aᵀ·Bᵀ = [1 3; 2 4]·[5 7; 6 8] = [1·5+3·6, 1·7+3·8; 2·5+4·6, 2·7+4·8] = [23 31; 34 46].
        Gemm.Multiply(true, true, 2, 2, 2, 1f, a, 2, b, 2, 0f, c, 2);
        CollectionAssert.AreEqual(new float[] { 23, 31, 34, 46 }, c);
    }

    [TestMethod]
    public void OneAndTwoThreadsAreBitIdentical()
    {
        foreach (var path in SupportedPaths())
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    foreach (var (m, n, k) in new[] { (210, 150, 400), (150, 333, 129), (97, 1000, 64), (800, 70, 50) })
                    {
                        int lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 3, ldc = n + 2;
                        var a = Random((ta ? k : m) * lda, 31);
                        var b = Random((tb ? n : k) * ldb, 32);
                        var c0 = Random(m * ldc, 33);
                        var one = (float[])c0.Clone();
                        var two = (float[])c0.Clone();
                        Gemm.MultiplyCore(ta, tb, m, n, k, 0.7f, a, lda, b, ldb, 0.3f, one, ldc, 1, path);
                        Gemm.MultiplyCore(ta, tb, m, n, k, 0.7f, a, lda, b, ldb, 0.3f, two, ldc, 2, path);
                        for (int i = 0; i < one.Length; i++)
                            Assert.AreEqual(BitConverter.SingleToInt32Bits(one[i]), BitConverter.SingleToInt32Bits(two[i]),
                                $"{path} tA={ta} tB={tb} {m}x{n}x{k}: element {i} differs between 1 and 2 threads");
                    }
    }

    /// <summary>
    /// Seeded operands of C (m, n) = α op(A) op(B) + β C with strides wider than the rows (lda = k + 1, ldb = (k if op(B) =
    /// Bᵀ else n) + 3, ldc = n + 2): A, B and C from seeds <paramref name="seed"/>, +1 and +2.
    /// </summary>
    internal static (float[] A, int Lda, float[] B, int Ldb, float[] C, int Ldc) StridedOperands(int m, int n, int k, bool transB, ulong seed)
    {
        int lda = k + 1, ldb = (transB ? k : n) + 3, ldc = n + 2;
        return (Random(m * lda, seed), lda, Random((transB ? n : k) * ldb, seed + 1), ldb, Random(m * ldc, seed + 2), ldc);
    }

    /// <summary>
    /// Runs C = 0.7 op(A) op(B) + 0.3 C on seeded strided operands (a transposed A stored (k, m) with lda = m + 1) with the
    /// driver's default layout and again with <paramref name="switchLayout"/> set (reset after), and asserts every element
    /// of C has the same bits both ways.
    /// </summary>
    private static void AssertLayoutSwitchKeepsBits(GemmPath path, bool ta, bool tb, int m, int n, int k, int threads, ulong seed,
        Action<bool> switchLayout, string layouts)
    {
        var (a, lda, b, ldb, c0, ldc) = StridedOperands(m, n, k, tb, seed);
        if (ta) { lda = m + 1; a = Random(k * lda, seed + 3); }
        var usual = (float[])c0.Clone();
        var other = (float[])c0.Clone();
        Gemm.MultiplyCore(ta, tb, m, n, k, 0.7f, a, lda, b, ldb, 0.3f, usual, ldc, threads, path);
        try
        {
            switchLayout(true);
            Gemm.MultiplyCore(ta, tb, m, n, k, 0.7f, a, lda, b, ldb, 0.3f, other, ldc, threads, path);
        }
        finally
        {
            switchLayout(false);
        }
        for (int i = 0; i < usual.Length; i++)
            Assert.AreEqual(BitConverter.SingleToInt32Bits(usual[i]), BitConverter.SingleToInt32Bits(other[i]),
                $"{path} tA={ta} tB={tb} {m}x{n}x{k}, {threads} thread(s): element {i} differs between {layouts}");
    }

    [TestMethod]
    public void PrivatelyPackedBlocksOfBGiveTheSharedBuffersBits()
    {
        // A part whose block of B another part is still packing packs its own copy: same floats, other addresses.
        foreach (var path in SupportedPaths())
            foreach (bool tb in new[] { false, true })
                foreach (var (m, n, k) in new[] { (210, 1000, 800), (150, 333, 129) })
                    AssertLayoutSwitchKeepsBits(path, false, tb, m, n, k, 2, 41, on => GemmDriver.PackPrivatelyForTests = on,
                        "the shared and a private packed B");
    }

    [TestMethod]
    public void OperandsReadInPlaceGiveThePackedPanelsBits()
    {
        // Narrow products (n ≤ 4 column tiles) read A in place, row-major or transposed, packing only a last partial panel
        // of rows; short ones (m ≤ 8 row tiles, n a multiple of NR) read a row-major B in place. Shapes: the training step's
        // activations (2080 × 64) and weight gradients (64 × 64 over 2080 tokens), several k-blocks (k > KC), rows that leave
        // a partial panel, columns that leave a partial tile, n a multiple of only the AVX2 tile's 16 columns.
        foreach (var path in SupportedPaths())
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    foreach (var (m, n, k) in new[] { (2080, 64, 64), (64, 64, 2080), (151, 61, 900), (90, 96, 500), (40, 48, 700) })
                        foreach (int threads in new[] { 1, 2 })
                            AssertLayoutSwitchKeepsBits(path, ta, tb, m, n, k, threads, 43, on => GemmDriver.ReadInPlace = !on,
                                "operands read in place and packed");
    }

    [TestMethod]
    public void BlockUnitsGiveTheRowGroupsBits()
    {
        // Large-B products on the AVX2 tile run as row group × column block units with A read in place. Shapes: B over
        // 2^18 floats, n at least three column blocks with a partial tile, k at least three k-blocks with a partial one,
        // rows leaving a partial panel.
        if (!SupportedPaths().Contains(GemmPath.Avx2)) Assert.Inconclusive("no AVX2 on this CPU");
        foreach (bool tb in new[] { false, true })
            foreach (var (m, n, k) in new[] { (200, 790, 800), (97, 1000, 900) })
                foreach (int threads in new[] { 1, 2 })
                {
                    Assert.IsTrue((long)k * n > 1L << 18 && m > 48 && n > 512 && k >= 768, "the shape must take block units");
                    AssertLayoutSwitchKeepsBits(GemmPath.Avx2, false, tb, m, n, k, threads, 45, on => GemmDriver.BlockUnits = !on,
                        "block units and row groups");
                }
    }

    [TestMethod]
    [DataRow(2048, 12, 2, 8)]  // MiniLM's rows: 171 tiles, 22 groups of 8, 11 per part
    [DataRow(800, 12, 2, 2)]   // CLIP's: 67 tiles; groups of 8 split 5 : 4 (40 of 67 tiles on one part), of 4 9 : 8 (36), of 2 17 : 17
    [DataRow(96, 12, 2, 4)]    // one group of 8 would leave a part idle
    [DataRow(210, 12, 2, 1)]   // 18 tiles: 16, 12, 10 tiles on the busiest part for 8, 4, 2; 9 for 1
    [DataRow(800, 12, 1, 8)]   // one part: the largest group
    [DataRow(800, 6, 2, 4)]    // AVX2 tiles: 134; 17 groups of 8 split 9 : 8 (72 tiles, 7.5 % over), 34 of 4 split 17 : 17
    public void RowGroupsAreTheLargestWithinFivePercentOfAnEvenSplit(int m, int mr, int parts, int expected)
    {
        Assert.AreEqual(expected, GemmDriver.TilesPerUnit(m, mr, parts));
    }

    [TestMethod]
    public void WarmCallsAllocateNothingOnTheCallingThread()
    {
        // Pack buffers, the job object and the worker pool are reused: after a warm-up on the full problem
        // (largest buffers), packed and direct calls with 1 or 2 threads allocate no managed memory here.
        int m = 200, n = 250, k = 300;
        var a = Random(m * k, 81);
        var b = Random(n * k, 82);
        var c = new float[m * n];
        Gemm.Multiply(false, true, m, n, k, 1f, a, k, b, k, 0f, c, n, 1);
        Gemm.Multiply(false, false, 5, 6, 7, 1f, a, 7, b, 6, 0f, c, 6, 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++)
        {
            Gemm.Multiply(false, true, m, n, k, 1f, a, k, b, k, 0.5f, c, n, 1);
            Gemm.Multiply(false, true, m, n, k, 1f, a, k, b, k, 0.5f, c, n, 2);
            Gemm.Multiply(false, false, 5, 6, 7, 1f, a, 7, b, 6, 0f, c, 6, 2);
        }
        Assert.AreEqual(0L, GC.GetAllocatedBytesForCurrentThread() - before, "bytes allocated by warm GEMM calls");
    }

    private sealed class NestedJob(GemmWorkerPool pool) : GemmWorkerPool.IJob
    {
        public readonly bool[] NestedAccepted = new bool[2];
        public readonly int[] Ran = new int[2];

        public void RunPart(int part)
        {
            Interlocked.Increment(ref Ran[part]);
            NestedAccepted[part] = pool.TryRun(new NestedJob(pool), 2);
        }
    }

    [TestMethod]
    public void WorkerPoolRunsEveryPartOnceAndRefusesNestedJobs()
    {
        // A part that calls back into the pool (on the caller's thread or a worker's) must be refused, not
        // allowed to overwrite the running job; both parts of the outer job run exactly once.
        var pool = new GemmWorkerPool(1);
        var job = new NestedJob(pool);
        Assert.IsTrue(pool.TryRun(job, 2));
        CollectionAssert.AreEqual(new[] { 1, 1 }, job.Ran);
        CollectionAssert.AreEqual(new[] { false, false }, job.NestedAccepted);
        Assert.IsTrue(pool.TryRun(new NestedJob(pool), 1), "the pool is free again after the job");
    }

    [TestMethod]
    public void RejectsBadArguments()
    {
        var x = new float[16];
        Assert.ThrowsExactly<ArgumentException>(() => Gemm.Multiply(false, false, -1, 2, 2, 1f, x, 2, x, 2, 0f, x, 2));
        Assert.ThrowsExactly<ArgumentException>(() => Gemm.Multiply(false, false, 2, 2, 3, 1f, x, 2, x, 2, 0f, x, 2)); // lda < k
        Assert.ThrowsExactly<ArgumentException>(() => Gemm.Multiply(false, false, 4, 4, 4, 1f, new float[15], 4, x, 4, 0f, x, 4));
        Assert.ThrowsExactly<ArgumentException>(() => Gemm.Multiply(false, false, 2, 2, 2, 1f, x, 2, x, 2, 0f, x, 2, 0));
    }
}
