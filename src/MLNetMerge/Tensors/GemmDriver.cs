namespace MLNetMerge.Tensors;

/// <summary>
/// The blocked, packed GEMM loop nest and its static partitioning over threads.
/// Loop nest for one part (rows i, columns j of C), vectors running along n:
/// <code>
/// for ic in steps of MC:            A block  (MC, KC) packed, L3
///   for pc in steps of KC:          k-blocks in increasing order (fixed reduction order)
///     pack A[ic.., pc..]
///     for jc in steps of NC:        B block  (KC, NC) packed, L2
///       pack B[pc.., jc..]
///       for ir in steps of MR:      A micro-panel (KC, MR) stays in L1
///         for jr in steps of NR:    B micro-panel (KC, NR) streams from L2
///           tile kernel: C[ir.., jr..] = alpha·acc + (pc == 0 ? beta : 1)·C
/// </code>
/// A part is a contiguous range of MR-row groups (or NR-column groups) of C; every element sees the same
/// k-blocks in the same order whichever part holds it, so results are bit-identical for any thread count.
/// </summary>
internal static unsafe class GemmDriver
{
    /// <summary>Blocking of one kernel path.</summary>
    private readonly record struct Blocking(int Mr, int Nr, int Kc, int Mc, int Nc);

    // Zen 4 here: L1d 32 KiB and L2 1 MiB per core, L3 32 MiB shared. KC = 384 keeps an A micro-panel
    // (KC·12·4 B = 18 KiB) in L1 while B micro-panels stream from the B block in L2 (KC·NC·4 B = 480 KiB); the A block
    // (MC·KC·4 B = 3.4 MiB) lives in L3 and is large enough that ViT shapes (M ≤ 3136 split over 2 threads) pack B
    // once per k-block. KC ∈ {256, 384, 512} × NC ∈ {192 … 1024} and MR ∈ {8, 12, 14} measured within ±5 % of each
    // other on this (shared, noisy) machine; 12×32 keeps 24 accumulators + 2 B vectors + 1 broadcast in 27 of 32 zmm.
    // AVX2 targets Zen 3 and Haswell-class cores (L2 512 KiB or less, 16 ymm): 6×16 keeps 12 accumulators + 2 B vectors
    // + 1 broadcast in 15 of 16 ymm; KC = 256, NC = 256 keep the B block at 256 KiB, half of Zen 3's L2 (384 × 320 filled
    // all of it). Measured here with AVX-512 off (CPU time, one thread): 256 × 256 equal to or up to 10 % above 384 × 320
    // on the ViT, MiniLM and randomized-SVD shapes, 93–98 % of the tile's own in-L1 rate (`Gemm.Bench kernel`).
    private static Blocking BlockingOf(GemmPath path) => path switch
    {
        GemmPath.Avx512 => new Blocking(GemmKernels.Avx512Mr, GemmKernels.Avx512Nr, Kc: 384, Mc: 192 * GemmKernels.Avx512Mr, Nc: 320),
        GemmPath.Avx2 => new Blocking(GemmKernels.Avx2Mr, GemmKernels.Avx2Nr, Kc: 256, Mc: 384 * GemmKernels.Avx2Mr, Nc: 256),
        _ => new Blocking(GemmScalarKernel.Mr, GemmScalarKernel.Nr, Kc: 256, Mc: 256, Nc: 256),
    };

    [ThreadStatic] private static GemmJob? t_job;
    [ThreadStatic] private static float[]? t_packA;
    [ThreadStatic] private static float[]? t_packB;

    /// <summary>Runs the packed product, split over up to <paramref name="maxThreads"/> threads.</summary>
    internal static void Run(GemmPath path, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, int maxThreads)
    {
        var blk = BlockingOf(path);
        var job = t_job ??= new GemmJob();
        job.Set(path, blk, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

        var pool = GemmWorkerPool.Shared;
        int parts = (long)m * n * k < Gemm.ParallelThreshold ? 1 : Math.Min(maxThreads, pool.MaxParts);
        // Split the longer side of C; never more parts than register tiles along it.
        job.SplitRows = m >= n;
        int units = job.SplitRows ? (m + blk.Mr - 1) / blk.Mr : (n + blk.Nr - 1) / blk.Nr;
        parts = Math.Min(parts, units);
        job.Parts = parts;
        job.Units = units;
        if (parts <= 1 || !pool.TryRun(job, parts))
        {
            // Same parts, one after another on this thread (the pool is busy or one part is enough).
            for (int p = 0; p < parts; p++) job.RunPart(p);
        }
    }

    /// <summary>The arguments of one product and the per-part entry the worker pool calls.</summary>
    private sealed class GemmJob : GemmWorkerPool.IJob
    {
        private GemmPath _path;
        private Blocking _blk;
        private bool _transA, _transB;
        private int _m, _n, _k, _lda, _ldb, _ldc;
        private float _alpha, _beta;
        private float* _a, _b, _c;
        internal bool SplitRows;
        internal int Parts, Units;

        internal void Set(GemmPath path, Blocking blk, bool transA, bool transB, int m, int n, int k, float alpha,
            float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
        {
            _path = path; _blk = blk; _transA = transA; _transB = transB;
            _m = m; _n = n; _k = k; _alpha = alpha; _beta = beta;
            _a = a; _lda = lda; _b = b; _ldb = ldb; _c = c; _ldc = ldc;
        }

        public void RunPart(int part)
        {
            int u0 = (int)((long)Units * part / Parts), u1 = (int)((long)Units * (part + 1) / Parts);
            if (SplitRows)
            {
                int i0 = u0 * _blk.Mr, i1 = Math.Min(_m, u1 * _blk.Mr);
                if (i1 <= i0) return;
                float* a = _transA ? _a + i0 : _a + (long)i0 * _lda;
                RunBlock(a, _b, _c + (long)i0 * _ldc, i1 - i0, _n);
            }
            else
            {
                int j0 = u0 * _blk.Nr, j1 = Math.Min(_n, u1 * _blk.Nr);
                if (j1 <= j0) return;
                float* b = _transB ? _b + (long)j0 * _ldb : _b + j0;
                RunBlock(_a, b, _c + j0, _m, j1 - j0);
            }
        }

        /// <summary>The loop nest over one (m, n) sub-problem of C, on the calling thread with its own pack buffers.</summary>
        private void RunBlock(float* a, float* b, float* c, int m, int n)
        {
            var blk = _blk;
            int mr = blk.Mr, nr = blk.Nr;
            int kcMax = Math.Min(blk.Kc, _k);
            int mcMax = RoundUp(Math.Min(blk.Mc, m), mr);
            int ncMax = RoundUp(Math.Min(blk.Nc, n), nr);
            float* packA = Buffer(ref t_packA, (long)mcMax * kcMax); // (mc/mr, kc, mr)
            float* packB = Buffer(ref t_packB, (long)ncMax * kcMax); // (nc/nr, kc, nr)
            float* edge = stackalloc float[mr * nr + 16];            // (mr, nr) scratch tile for partial tiles
            edge = Align64(edge);
            for (int ic = 0; ic < m; ic += blk.Mc)
            {
                int mc = Math.Min(blk.Mc, m - ic);
                for (int pc = 0; pc < _k; pc += blk.Kc)
                {
                    int kc = Math.Min(blk.Kc, _k - pc);
                    bool first = pc == 0;
                    float beta = first ? _beta : 1f;
                    bool loadC = !first || _beta != 0f;
                    GemmPacking.PackA(_transA, a, _lda, ic, pc, mc, kc, mr, packA);
                    for (int jc = 0; jc < n; jc += blk.Nc)
                    {
                        int nc = Math.Min(blk.Nc, n - jc);
                        GemmPacking.PackB(_transB, b, _ldb, pc, jc, kc, nc, nr, packB);
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int rows = Math.Min(mr, mc - ir);
                            float* ap = packA + (long)ir * kc;
                            float* crow = c + (long)(ic + ir) * _ldc + jc;
                            for (int jr = 0; jr < nc; jr += nr)
                            {
                                int cols = Math.Min(nr, nc - jr);
                                float* bp = packB + (long)jr * kc;
                                if (rows == mr && cols == nr)
                                {
                                    Tile(kc, ap, bp, crow + jr, _ldc, _alpha, beta, loadC);
                                }
                                else
                                {
                                    // Same kernel on a scratch tile, so edge elements get the same arithmetic.
                                    for (int r = 0; r < rows; r++)
                                    {
                                        var src = new ReadOnlySpan<float>(crow + (long)r * _ldc + jr, cols);
                                        if (loadC) src.CopyTo(new Span<float>(edge + r * nr, cols));
                                    }
                                    Tile(kc, ap, bp, edge, nr, _alpha, beta, loadC);
                                    for (int r = 0; r < rows; r++)
                                        new ReadOnlySpan<float>(edge + r * nr, cols).CopyTo(new Span<float>(crow + (long)r * _ldc + jr, cols));
                                }
                            }
                        }
                    }
                }
            }
        }

        private void Tile(int kc, float* ap, float* bp, float* c, int ldc, float alpha, float beta, bool loadC)
        {
            switch (_path)
            {
                case GemmPath.Avx512: GemmKernels.Avx512Tile(kc, ap, bp, c, ldc, alpha, beta, loadC); break;
                case GemmPath.Avx2: GemmKernels.Avx2Tile(kc, ap, bp, c, ldc, alpha, beta, loadC); break;
                default: GemmScalarKernel.Tile(kc, ap, bp, c, ldc, alpha, beta, loadC); break;
            }
        }
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    private static float* Align64(float* p) => (float*)(((nint)p + 63) & ~(nint)63);

    /// <summary>A thread's pinned pack buffer of at least <paramref name="length"/> floats, 64-byte aligned; grown, never shrunk.</summary>
    private static float* Buffer(ref float[]? array, long length)
    {
        if (array == null || array.Length < length + 16)
            array = GC.AllocateUninitializedArray<float>((int)(length + 16), pinned: true);
        fixed (float* p = array) return Align64(p); // pinned object heap: the address stays valid
    }
}
