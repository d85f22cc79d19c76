using System.Runtime.CompilerServices;

namespace MLNetMerge.Tensors;

/// <summary>
/// The blocked, packed GEMM loop nest and its partitioning over threads. The rows of C are cut into groups of whole tiles (TilesPerUnit)
/// that the threads take one after another from a shared counter, so a thread that the OS holds back (a loaded machine)
/// leaves its share to the others. B (of the current slab) is packed once per product into one buffer the parts share,
/// a column block (all of k × NC) at a time, by the first part that needs it (ColumnBlockPacking); each group's rows of A are
/// packed once by the part that takes the group. No thread ever waits for another inside a product: a part that finds a
/// block being packed by another goes on to its other blocks, and if that one is still not ready when nothing else is left,
/// packs a private copy.
/// Loop nest of one row group (rows i of C, all columns), vectors running along n:
/// <code>
/// for jc in steps of NC:              the group's C block (UnitRows, NC) stays in L1/L2 over all of k
///   for pc in steps of KC:            k-blocks in increasing order (fixed reduction order); B block (KC, NC) in L2
///     for ir in steps of MR:          A micro-panel (KC, MR) stays in L1
///       for jr in steps of NR:        B micro-panel (KC, NR) streams from the B block
///         tile kernel: C[ir.., jr..] = alpha·acc + (pc == 0 ? beta : 1)·C
///       last k-block: epilogue on C[ir.., jc..] (bias, residual, activation) while it is in L1
/// </code>
/// Every element of C sees the same k-blocks in the same order through the same tile kernel whichever group and thread
/// hold it, so results are bit-identical for any thread count and any order in which groups are taken.
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

    /// <summary>Register-tile rows per row group at most: 8 tiles (48 rows AVX2, 96 AVX-512), so each B block visit from L3
    /// feeds 8 tiles.</summary>
    private const int MaxTilesPerUnit = 8;

    /// <summary>Largest split of a part's work the row groups may leave uneven: 5 %.</summary>
    private const int ImbalancePercent = 5;

    /// <summary>
    /// Tiles per row group for <paramref name="m"/> rows over <paramref name="parts"/> parts: the largest of 8, 4, 2, 1
    /// whose busiest part holds at most 5 % more tiles than an even split. 8 at MiniLM's 2048 rows (22 groups, 11 per part
    /// on two threads), 2 at CLIP's 800 (with 8, nine groups split 5 : 4 and the busier thread held 480 rows of 800).
    /// Groups are whole tiles, so every element of C is in the same tile whatever the group size, and gets the same bits.
    /// </summary>
    internal static int TilesPerUnit(int m, int mr, int parts)
    {
        if (parts <= 1) return MaxTilesPerUnit;
        int tiles = (m + mr - 1) / mr;
        for (int perUnit = MaxTilesPerUnit; perUnit > 1; perUnit /= 2)
        {
            int units = (tiles + perUnit - 1) / perUnit;
            long busiest = (long)((units + parts - 1) / parts) * perUnit; // tiles of the busiest part
            if (busiest * parts * 100 <= (long)tiles * (100 + ImbalancePercent)) return perUnit;
        }
        return 1;
    }

    [ThreadStatic] private static GemmJob? t_job;

    /// <summary>Tests only: every part packs every column block of B into its private buffer (the path a part takes when
    /// another part's packing of a block is held up), to check that it gives the same bits.</summary>
    internal static volatile bool PackPrivatelyForTests;

    /// <summary>Most floats of one thread's packed B (16 MiB): a larger product runs in slabs of whole k-blocks × whole column
    /// blocks, k-slabs in increasing order (the same k-blocks in the same order, so the same bits).</summary>
    internal const long PackedBCap = 1L << 22;

    /// <summary>k and n of one slab of a product (each the whole dimension when B fits <see cref="PackedBCap"/>).</summary>
    private static (int KSlab, int NSlab) Slabs(Blocking blk, int n, int k)
    {
        int kSlab = (long)k * blk.Nc <= PackedBCap ? k : (int)Math.Max(blk.Kc, PackedBCap / blk.Nc / blk.Kc * blk.Kc);
        int nSlab = (int)Math.Min(RoundUp(n, blk.Nc), Math.Max(blk.Nc, PackedBCap / kSlab / blk.Nc * blk.Nc));
        return (kSlab, nSlab);
    }

    /// <summary>True when a product with op(B) of (<paramref name="k"/>, <paramref name="n"/>) runs as one slab, reading one
    /// packed B (the only case a <see cref="PackedMatrix"/> serves).</summary>
    internal static bool IsOneSlab(GemmPath path, int n, int k)
    {
        var (kSlab, nSlab) = Slabs(BlockingOf(path), n, k);
        return kSlab >= k && nSlab >= n;
    }

    /// <summary>Floats of a whole packed B for <paramref name="path"/>: ⌈n / NR⌉ · NR · k.</summary>
    internal static long PackedFloats(GemmPath path, int n, int k) => (long)RoundUp(n, BlockingOf(path).Nr) * k;

    /// <summary>Packs all of op(B) (k, n) into <paramref name="dst"/> in the layout <see cref="PackedMatrix"/> describes.</summary>
    internal static void PackWhole(GemmPath path, bool transB, float* b, int ldb, int n, int k, float* dst)
    {
        var blk = BlockingOf(path);
        PackColumns(blk, transB, b, ldb, k, 0, n, dst, RoundUp(n, blk.Nr), 0);
    }

    /// <summary>
    /// Packs op(B)[0..k, j0..j0+cols] into <paramref name="dst"/>, whose k-block at pc starts at pc · <paramref name="stride"/>
    /// floats, with these columns at its column <paramref name="dstColumn"/>: (cols/nr, kc, nr) at pc · stride + dstColumn · kc.
    /// </summary>
    private static void PackColumns(Blocking blk, bool transB, float* b, int ldb, int k, int j0, int cols, float* dst, int stride, int dstColumn)
    {
        for (int pc = 0; pc < k; pc += blk.Kc)
        {
            int kc = Math.Min(blk.Kc, k - pc);
            GemmPacking.PackB(transB, b, ldb, pc, j0, kc, cols, blk.Nr, dst + (long)pc * stride + (long)dstColumn * kc);
        }
    }

    /// <summary>Runs the packed product, split over up to <paramref name="maxThreads"/> threads; reads B from
    /// <paramref name="packedB"/> when it holds this op(B) packed for this path (see <see cref="PackedMatrix"/>).</summary>
    internal static void Run(GemmPath path, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, int maxThreads, in GemmEpilogue epilogue,
        PackedMatrix? packedB = null)
    {
        var blk = BlockingOf(path);
        var (kSlab, nSlab) = Slabs(blk, n, k);
        if (packedB != null && packedB.Fits(path, transB, n, k) && kSlab >= k && nSlab >= n)
        {
            if (RunSlab(path, blk, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, maxThreads, epilogue, packedB.Data, packedB.IsComplete))
                packedB.MarkComplete();
            return;
        }
        for (int p0 = 0; p0 < k; p0 += kSlab)
        {
            int ks = Math.Min(kSlab, k - p0);
            bool lastK = p0 + ks >= k;
            for (int j0 = 0; j0 < n; j0 += nSlab)
            {
                int ns = Math.Min(nSlab, n - j0);
                float* aS = transA ? a + (long)p0 * lda : a + p0;
                float* bS = transB ? b + (long)j0 * ldb + p0 : b + (long)p0 * ldb + j0;
                var epi = !lastK || epilogue.IsEmpty ? default : epilogue with
                {
                    Bias = epilogue.Bias == null ? null : epilogue.Bias + j0,
                    Residual = epilogue.Residual == null ? null : epilogue.Residual + j0,
                    Output = epilogue.Output == null ? null : epilogue.Output + j0,
                };
                RunSlab(path, blk, transA, transB, m, ns, ks, alpha, aS, lda, bS, ldb, p0 == 0 ? beta : 1f, c + j0, ldc, maxThreads, epi, null, false);
            }
        }
    }

    /// <summary>
    /// One slab. B is packed by the parts into a rented buffer, or into <paramref name="packedB"/> (room for the whole slab's
    /// packed B) when given, unless <paramref name="complete"/> says it is packed already. Returns whether every panel of
    /// <paramref name="packedB"/> is packed at the end.
    /// </summary>
    private static bool RunSlab(GemmPath path, Blocking blk, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, int maxThreads, in GemmEpilogue epilogue,
        float* packedB, bool complete)
    {
        var job = t_job ??= new GemmJob();
        var pool = GemmWorkerPool.Shared;
        int parts = (long)m * n * k < Gemm.ParallelThreshold ? 1 : Math.Min(maxThreads, pool.MaxParts);
        job.Set(path, blk, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue, TilesPerUnit(m, blk.Mr, parts));
        parts = Math.Min(parts, job.ComputeUnits);
        if (packedB != null)
        {
            job.Start(packedB, parts, packed: complete);
            if (parts <= 1 || !pool.TryRun(job, parts)) job.RunPart(0);
            return complete || job.AllPacked;
        }
        var buffers = BufferPool<float>.Shared;
        float[] bufB = buffers.Rent((long)RoundUp(n, blk.Nr) * k + 16);
        try
        {
            fixed (float* pb = bufB)
            {
                job.Start(Align64(pb), parts, packed: false);
                if (parts <= 1 || !pool.TryRun(job, parts))
                {
                    // Same units, all on this thread (the pool is busy or one part is enough).
                    job.RunPart(0);
                }
            }
        }
        finally
        {
            buffers.Return(bufB);
        }
        return false;
    }

    /// <summary>The arguments of one product and the per-part entry the worker pool calls.</summary>
    private sealed class GemmJob : GemmWorkerPool.IJob
    {
        private GemmPath _path;
        private Blocking _blk;
        private bool _transA, _transB;
        private int _m, _n, _k, _lda, _ldb, _ldc, _nPadded, _unitRows, _rowUnits;
        private float _alpha, _beta;
        private float* _a, _b, _c;
        private GemmEpilogue _epilogue;
        private int _nextUnit;
        private float* _packB;          // shared packed B: (nPadded, k) as k-blocks of (nPadded/nr, kc, nr)
        private int _columnBlocks, _parts;
        private int[] _blockState = new int[16]; // per column block: Unpacked, Packing, Packed

        /// <summary>Row groups of C.</summary>
        internal int ComputeUnits => _rowUnits;

        /// <summary>True when every column block is in the shared buffer (after the parts ran: each block was claimed by
        /// the first part to reach it, which packed it before its part ended).</summary>
        internal bool AllPacked
        {
            get
            {
                for (int jb = 0; jb < _columnBlocks; jb++) if (Volatile.Read(ref _blockState[jb]) != Packed) return false;
                return true;
            }
        }

        internal void Set(GemmPath path, Blocking blk, bool transA, bool transB, int m, int n, int k, float alpha,
            float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, in GemmEpilogue epilogue, int tilesPerUnit)
        {
            _path = path; _blk = blk; _transA = transA; _transB = transB;
            _m = m; _n = n; _k = k; _alpha = alpha; _beta = beta;
            _a = a; _lda = lda; _b = b; _ldb = ldb; _c = c; _ldc = ldc; _epilogue = epilogue;
            _nPadded = RoundUp(n, blk.Nr);
            _unitRows = tilesPerUnit * blk.Mr;
            _rowUnits = (m + _unitRows - 1) / _unitRows;
            _nextUnit = 0;
            _columnBlocks = (n + blk.Nc - 1) / blk.Nc;
        }

        /// <summary>Gives the product its shared packed-B buffer: every column block still to pack, or all of them
        /// <paramref name="packed"/> already.</summary>
        internal void Start(float* packB, int parts, bool packed)
        {
            _packB = packB;
            _parts = Math.Max(1, parts);
            if (_blockState.Length < _columnBlocks) _blockState = new int[Math.Max(_columnBlocks, 2 * _blockState.Length)];
            Array.Fill(_blockState, packed ? Packed : Unpacked, 0, _columnBlocks);
        }

        /// <summary>
        /// Takes row groups until none is left. The A pack buffer (and a private B block, only when needed) is rented from
        /// <see cref="BufferPool{T}"/> for the part and pinned while it runs (not kept per thread: the SVD methods run
        /// products on many pool threads in turn).
        /// </summary>
        public void RunPart(int part)
        {
            if (Volatile.Read(ref _nextUnit) >= _rowUnits) return; // the other parts took every group
            var pool = BufferPool<float>.Shared;
            float[] bufA = pool.Rent((long)_unitRows * _k + 16);
            try
            {
                fixed (float* pa = bufA) RunGroups(part, Align64(pa));
            }
            finally
            {
                pool.Return(bufA);
            }
        }

        /// <summary>
        /// The groups this part takes; <paramref name="packA"/> (unitRows, k) packed here. Column blocks are visited from
        /// a start that differs per part (part · blocks / parts), so parts that start together pack different blocks.
        /// A block nobody has packed is claimed and packed into the shared buffer; one another part is packing at that
        /// moment is put off until the group's other blocks are done, and if it is still not ready then (its packer held
        /// back by the OS), it is packed into a private (k × NC) buffer for this group. The visiting order does not touch
        /// any element's arithmetic (each element's k-blocks run in order inside one block), nor does which copy of B a
        /// block is read from.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RunGroups(int part, float* packA)
        {
            int units = _rowUnits, blocks = _columnBlocks, startBlock = (int)((long)Math.Min(part, _parts - 1) * blocks / _parts);
            float* edge = stackalloc float[_blk.Mr * _blk.Nr + 16]; // edge: (mr, nr) scratch tile
            edge = Align64(edge);
            int deferredWords = (blocks + 63) / 64;
            Span<ulong> deferred = deferredWords <= 64 ? stackalloc ulong[deferredWords] : new ulong[deferredWords]; // bit per block
            deferred.Clear();
            float[]? privateB = null;
            try
            {
                for (int u; (u = Interlocked.Increment(ref _nextUnit) - 1) < units;)
                {
                    int i0 = u * _unitRows, rows = Math.Min(_unitRows, _m - i0);
                    for (int pc = 0; pc < _k; pc += _blk.Kc)
                        GemmPacking.PackA(_transA, _a, _lda, i0, pc, rows, Math.Min(_blk.Kc, _k - pc), _blk.Mr, packA + (long)pc * RoundUp(rows, _blk.Mr));
                    bool anyDeferred = false;
                    for (int t = 0; t < blocks; t++)
                    {
                        int jb = (startBlock + t) % blocks;
                        if (EnsurePacked(jb)) RunSharedBlock(packA, edge, i0, rows, jb);
                        else { deferred[jb >> 6] |= 1UL << jb; anyDeferred = true; }
                    }
                    for (int jb = 0; anyDeferred && jb < blocks; jb++)
                    {
                        if ((deferred[jb >> 6] & (1UL << jb)) == 0) continue;
                        deferred[jb >> 6] &= ~(1UL << jb);
                        if (!PackPrivatelyForTests && Volatile.Read(ref _blockState[jb]) == Packed)
                        {
                            RunSharedBlock(packA, edge, i0, rows, jb);
                            continue;
                        }
                        privateB ??= BufferPool<float>.Shared.Rent((long)_blk.Nc * _k + 16);
                        fixed (float* pp = privateB)
                        {
                            float* own = Align64(pp); // (colsPadded, k) as k-blocks of (colsPadded/nr, kc, nr)
                            int j0 = jb * _blk.Nc, cols = Math.Min(_blk.Nc, _n - j0), colsPadded = RoundUp(cols, _blk.Nr);
                            PackColumnBlock(own, colsPadded, 0, j0, cols);
                            RunUnit(packA, own, colsPadded, 0, edge, i0, rows, j0, cols);
                        }
                    }
                }
            }
            finally
            {
                if (privateB != null) BufferPool<float>.Shared.Return(privateB);
            }
        }

        private const int Unpacked = 0, Packing = 1, Packed = 2;

        /// <summary>
        /// True when column block <paramref name="jb"/> of the shared packed B is ready: it was, or this part claimed and
        /// packed it now. False when another part is packing it. The release write of Packed after the block's floats and
        /// the acquire read before using them order the packing before any part's reads.
        /// </summary>
        private bool EnsurePacked(int jb)
        {
            if (PackPrivatelyForTests) return false;
            int state = Volatile.Read(ref _blockState[jb]);
            if (state == Packed) return true;
            if (state != Unpacked || Interlocked.CompareExchange(ref _blockState[jb], Packing, Unpacked) != Unpacked) return false;
            int j0 = jb * _blk.Nc;
            PackColumnBlock(_packB, _nPadded, j0, j0, Math.Min(_blk.Nc, _n - j0));
            Volatile.Write(ref _blockState[jb], Packed);
            return true;
        }

        private void PackColumnBlock(float* dst, int stride, int dstColumn, int j0, int cols) =>
            PackColumns(_blk, _transB, _b, _ldb, _k, j0, cols, dst, stride, dstColumn);

        private void RunSharedBlock(float* packA, float* edge, int i0, int rows, int jb)
        {
            int j0 = jb * _blk.Nc;
            RunUnit(packA, _packB, _nPadded, j0, edge, i0, rows, j0, Math.Min(_blk.Nc, _n - j0));
        }

        /// <summary>C[i0.., j0..] (rows, cols) over all of k, from this thread's packed A rows and packed B.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RunUnit(float* packA, float* packB, int bStride, int bColumn, float* edge, int i0, int rows, int j0, int cols)
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
                float* bBlock = packB + (long)pc * bStride + (long)bColumn * kc;  // (cols/nr, kc, nr)
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
}
