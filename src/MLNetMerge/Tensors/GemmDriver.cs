using System.Runtime.CompilerServices;

namespace MLNetMerge.Tensors;

/// <summary>
/// The blocked, packed GEMM loop nest and its partitioning over threads. C is cut into units of (UnitRows rows, NC columns)
/// that the threads take one after another from a shared counter, column block by column block, so a thread that the OS
/// holds back (a loaded machine) leaves its share to the others and no thread ever waits for another inside a product.
/// Each thread packs the B column block (all of k) its units need into its own buffer and keeps it while the next unit it
/// takes is in the same column block (so B is packed about once per thread, as with a static split), and packs its unit's
/// rows of A for all of k.
/// Loop nest of one unit (rows i, columns j of C), vectors running along n:
/// <code>
/// for pc in steps of KC:              k-blocks in increasing order (fixed reduction order)
///   for ir in steps of MR:            A micro-panel (KC, MR) stays in L1
///     for jr in steps of NR:          B micro-panel (KC, NR) streams from the B block (KC, NC) in L2
///       tile kernel: C[ir.., jr..] = alpha·acc + (pc == 0 ? beta : 1)·C
///     last k-block: epilogue on C[ir.., j..] (bias, residual, activation) while it is in L1
/// </code>
/// Every element of C sees the same k-blocks in the same order through the same tile kernel whichever unit and thread
/// holds it, so results are bit-identical for any thread count and any order in which units are taken.
/// </summary>
internal static unsafe class GemmDriver
{
    /// <summary>Blocking of one kernel path.</summary>
    private readonly record struct Blocking(int Mr, int Nr, int Kc, int Nc);

    // Zen 4/5 here: L1d 32-48 KiB and L2 1 MiB per core, L3 32 MiB shared. KC = 384 keeps an A micro-panel
    // (KC·12·4 B = 18 KiB) in L1 while B micro-panels stream from the B block in L2 (KC·NC·4 B = 480 KiB).
    // KC ∈ {256, 384, 512} × NC ∈ {192 … 1024} and MR ∈ {8, 12, 14} measured within ±5 % of each
    // other on this (shared, noisy) machine; 12×32 keeps 24 accumulators + 2 B vectors + 1 broadcast in 27 of 32 zmm.
    // AVX2 targets Zen 3 and Haswell-class cores (L2 512 KiB or less, 16 ymm): 6×16 keeps 12 accumulators + 2 B vectors
    // + 1 broadcast in 15 of 16 ymm; KC = 256, NC = 256 keep the B block at 256 KiB, half of Zen 3's L2 (384 × 320 filled
    // all of it). Measured here with AVX-512 off (CPU time, one thread): 256 × 256 equal to or up to 10 % above 384 × 320
    // on the ViT, MiniLM and randomized-SVD shapes, 93–98 % of the tile's own in-L1 rate (`Gemm.Bench kernel`).
    // Changing KC changes the reduction order, hence the bits of every product: keep it fixed per path.
    private static Blocking BlockingOf(GemmPath path) => path switch
    {
        GemmPath.Avx512 => new Blocking(GemmKernels.Avx512Mr, GemmKernels.Avx512Nr, Kc: 384, Nc: 320),
        GemmPath.Avx2 => new Blocking(GemmKernels.Avx2Mr, GemmKernels.Avx2Nr, Kc: 256, Nc: 256),
        _ => new Blocking(GemmScalarKernel.Mr, GemmScalarKernel.Nr, Kc: 256, Nc: 256),
    };

    /// <summary>Register-tile rows per unit of work: 8 tiles (48 rows AVX2, 96 AVX-512) — a few hundred units at the
    /// engine's shapes, small enough to balance two threads, large enough that a unit's B block reads (KC·NC from L3) stay
    /// a few per cent of its multiply-adds.</summary>
    private const int TilesPerUnit = 8;

    [ThreadStatic] private static GemmJob? t_job;
    [ThreadStatic] private static float[]? t_packA;
    [ThreadStatic] private static float[]? t_packB;

    /// <summary>Most floats of one thread's packed B column block (16 MiB): a product whose k·NC exceeds it runs in k-slabs of
    /// whole k-blocks, in increasing order (the same k-blocks in the same order, so the same bits).</summary>
    internal const long PackedBCap = 1L << 22;

    /// <summary>Runs the packed product, split over up to <paramref name="maxThreads"/> threads.</summary>
    internal static void Run(GemmPath path, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, int maxThreads, in GemmEpilogue epilogue)
    {
        var blk = BlockingOf(path);
        int kSlab = (long)k * blk.Nc <= PackedBCap ? k : (int)Math.Max(blk.Kc, PackedBCap / blk.Nc / blk.Kc * blk.Kc);
        for (int p0 = 0; p0 < k; p0 += kSlab)
        {
            int ks = Math.Min(kSlab, k - p0);
            float* aS = transA ? a + (long)p0 * lda : a + p0;
            float* bS = transB ? b + p0 : b + (long)p0 * ldb;
            RunSlab(path, blk, transA, transB, m, n, ks, alpha, aS, lda, bS, ldb, p0 == 0 ? beta : 1f, c, ldc, maxThreads,
                p0 + ks >= k ? epilogue : default);
        }
    }

    private static void RunSlab(GemmPath path, Blocking blk, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, int maxThreads, in GemmEpilogue epilogue)
    {
        var job = t_job ??= new GemmJob();
        job.Set(path, blk, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue);
        var pool = GemmWorkerPool.Shared;
        int parts = (long)m * n * k < Gemm.ParallelThreshold ? 1 : Math.Min(maxThreads, pool.MaxParts);
        parts = Math.Min(parts, job.ComputeUnits);
        if (parts <= 1 || !pool.TryRun(job, parts))
        {
            // Same units, all on this thread (the pool is busy or one part is enough).
            job.RunPart(0);
        }
    }

    /// <summary>The arguments of one product and the per-part entry the worker pool calls.</summary>
    private sealed class GemmJob : GemmWorkerPool.IJob
    {
        private GemmPath _path;
        private Blocking _blk;
        private bool _transA, _transB;
        private int _m, _n, _k, _lda, _ldb, _ldc, _unitRows, _rowUnits, _colBlocks;
        private float _alpha, _beta;
        private float* _a, _b, _c;
        private GemmEpilogue _epilogue;
        private int _nextUnit;

        /// <summary>Units of C: (column block, row group) pairs.</summary>
        internal int ComputeUnits => _rowUnits * _colBlocks;

        internal void Set(GemmPath path, Blocking blk, bool transA, bool transB, int m, int n, int k, float alpha,
            float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, in GemmEpilogue epilogue)
        {
            _path = path; _blk = blk; _transA = transA; _transB = transB;
            _m = m; _n = n; _k = k; _alpha = alpha; _beta = beta;
            _a = a; _lda = lda; _b = b; _ldb = ldb; _c = c; _ldc = ldc; _epilogue = epilogue;
            _unitRows = TilesPerUnit * blk.Mr;
            _rowUnits = (m + _unitRows - 1) / _unitRows;
            _colBlocks = (n + blk.Nc - 1) / blk.Nc;
            _nextUnit = 0;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void RunPart(int part)
        {
            int units = ComputeUnits, packedBlock = -1;
            float* packA = Buffer(ref t_packA, (long)_unitRows * _k);   // (k-blocks: (rows/mr, kc, mr) each, at pc · rows)
            float* packB = Buffer(ref t_packB, (long)_blk.Nc * _k);     // (k-blocks: (nc/nr, kc, nr) each, at pc · NC)
            float* edge = stackalloc float[_blk.Mr * _blk.Nr + 16];     // (mr, nr) scratch tile for partial tiles
            edge = Align64(edge);
            for (int u; (u = Interlocked.Increment(ref _nextUnit) - 1) < units;)
            {
                int colBlock = u / _rowUnits, j0 = colBlock * _blk.Nc, cols = Math.Min(_blk.Nc, _n - j0);
                if (colBlock != packedBlock)
                {
                    for (int pc = 0; pc < _k; pc += _blk.Kc)
                        GemmPacking.PackB(_transB, _b, _ldb, pc, j0, Math.Min(_blk.Kc, _k - pc), cols, _blk.Nr, packB + (long)pc * _blk.Nc);
                    packedBlock = colBlock;
                }
                int i0 = u % _rowUnits * _unitRows, rows = Math.Min(_unitRows, _m - i0);
                for (int pc = 0; pc < _k; pc += _blk.Kc)
                    GemmPacking.PackA(_transA, _a, _lda, i0, pc, rows, Math.Min(_blk.Kc, _k - pc), _blk.Mr, packA + (long)pc * RoundUp(rows, _blk.Mr));
                RunUnit(packA, packB, edge, i0, rows, j0, cols);
            }
        }

        /// <summary>C[i0.., j0..] (rows, cols) over all of k, from this thread's packed A rows and B column block.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RunUnit(float* packA, float* packB, float* edge, int i0, int rows, int j0, int cols)
        {
            int mr = _blk.Mr, nr = _blk.Nr, rowsPadded = RoundUp(rows, mr);
            bool epilogue = !_epilogue.IsEmpty;
            for (int pc = 0; pc < _k; pc += _blk.Kc)
            {
                int kc = Math.Min(_blk.Kc, _k - pc);
                bool first = pc == 0, last = pc + kc >= _k;
                float beta = first ? _beta : 1f;
                bool loadC = !first || _beta != 0f;
                float* aBlock = packA + (long)pc * rowsPadded;                    // (rows/mr, kc, mr)
                float* bBlock = packB + (long)pc * _blk.Nc;                       // (cols/nr, kc, nr)
                for (int ir = 0; ir < rows; ir += mr)
                {
                    int tileRows = Math.Min(mr, rows - ir);
                    float* ap = aBlock + (long)ir * kc;
                    float* crow = _c + (long)(i0 + ir) * _ldc + j0;
                    for (int jr = 0; jr < cols; jr += nr)
                    {
                        int tileCols = Math.Min(nr, cols - jr);
                        float* bp = bBlock + (long)jr * kc;
                        if (tileRows == mr && tileCols == nr)
                        {
                            Tile(kc, ap, bp, crow + jr, _ldc, _alpha, beta, loadC);
                        }
                        else
                        {
                            // Same kernel on a scratch tile, so edge elements get the same arithmetic.
                            for (int r = 0; r < tileRows; r++)
                            {
                                var src = new ReadOnlySpan<float>(crow + (long)r * _ldc + jr, tileCols);
                                if (loadC) src.CopyTo(new Span<float>(edge + r * nr, tileCols));
                            }
                            Tile(kc, ap, bp, edge, nr, _alpha, beta, loadC);
                            for (int r = 0; r < tileRows; r++)
                                new ReadOnlySpan<float>(edge + r * nr, tileCols).CopyTo(new Span<float>(crow + (long)r * _ldc + jr, tileCols));
                        }
                    }
                    if (last && epilogue) _epilogue.Apply(_c, _ldc, i0 + ir, tileRows, j0, cols);
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
