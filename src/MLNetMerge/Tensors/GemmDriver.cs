using System.Runtime.CompilerServices;

namespace MLNetMerge.Tensors;

/// <summary>
/// The blocked, packed GEMM loop nest and its partitioning over threads. The rows of C are cut into groups of whole tiles (TilesPerUnit)
/// that the threads take one after another from a shared counter, so a thread that the OS holds back (a loaded machine)
/// leaves its share to the others. B (of the current slab) is packed once per product into one buffer the parts share,
/// a column block (all of k × NC) at a time, by the first part that needs it (EnsurePacked); each group's rows of A are
/// packed once by the part that takes the group. No thread ever waits for another inside a product: a part that finds a
/// block being packed by another goes on to its other blocks, and if that one is still not ready when nothing else is left,
/// packs a private copy. Where packing does not pay, the tiles read A or B in place instead (<see cref="InPlaceAMaxColumnTiles"/>,
/// <see cref="InPlaceBMaxRowTiles"/>), and large products on the AVX2 tile run as row group × column block units
/// (<see cref="BlockUnitRowGroups"/>).
/// Loop nest of one row group (rows i of C, all columns), vectors running along n:
/// <code>
/// for jc in steps of NC (from a block that depends on the part, wrapping around): the group's C block (UnitRows, NC)
///                                     stays in L1/L2 over all of k
///   for pc in steps of KC:            k-blocks in increasing order (fixed reduction order); B block (KC, NC) in L2
///     for ir in steps of MR:          A micro-panel (KC, MR) stays in L1
///       for jr in steps of NR:        B micro-panel (KC, NR) streams from the B block
///         tile kernel: C[ir.., jr..] = alpha·acc + (pc == 0 ? beta : 1)·C
///       last k-block: epilogue on C[ir.., jc..] (bias, residual, activation) while it is in L1
/// </code>
/// Every element of C sees the same k-blocks in the same order through the same tile kernel whichever group, thread and copy
/// of B (shared, private or prepacked: the same floats) serve it, so results are bit-identical for any thread count and
/// any order in which groups and blocks are taken.
/// </summary>
internal static unsafe partial class GemmDriver
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

    /// <summary>Whether large products may take block units (see <see cref="BlockUnitRowGroups"/>): tests switch it off to
    /// compare bits, and <c>MLNM_BLOCK_UNITS=0</c> switches it off for a process (how bench/README's series compared them).</summary>
    internal static volatile bool BlockUnits = Environment.GetEnvironmentVariable("MLNM_BLOCK_UNITS") != "0";

    /// <summary>
    /// Row groups of block units for a product, or 0 for row-group units. With row-group units a product whose B is larger
    /// than an L2 (k·n over 2^18 floats, 1 MiB) fetches each block of B from L3 once per group of 2–8 tiles; block units (a
    /// row group × one column block each, row-major A read in place) sweep all of the group's rows under one block instead,
    /// as ONNX Runtime's MLAS does, and stream C's rows instead. Groups: the fewest that give at least two units per part.
    /// AVX2 tile only, n at least three column blocks and k at least three k-blocks: measured in one process on an Ice Lake
    /// core (AVX-512 off, medians of 9–11 alternations), CLIP's 768 → 3072 product 7–16 % faster (against MLAS 0.83–0.88× →
    /// 0.98–1.03×), 3072 → 768 3–5 %, 768 → 768 within the noise; MiniLM's 384 → 1536 (k = 384, two k-blocks) lost 10–15 %
    /// against MLAS (1.16–1.19× → 0.99–1.05×), and with the AVX-512 tile CLIP's 768 → 768 lost 14–20 % (twelve rows of A
    /// read in place). Same bits either way (each element's k-blocks in the same order).
    /// </summary>
    private static int BlockUnitRowGroups(GemmPath path, Blocking blk, bool transA, int m, int n, int k, int parts)
    {
        if (!BlockUnits || path != GemmPath.Avx2 || transA || (long)k * n <= 1L << 18 || k < 3 * blk.Kc) return 0;
        int tiles = (m + blk.Mr - 1) / blk.Mr, blocks = (n + blk.Nc - 1) / blk.Nc;
        if (tiles <= MaxTilesPerUnit || blocks < 3) return 0;
        return Math.Min(tiles, Math.Max(1, (2 * parts + blocks - 1) / blocks));
    }

    [ThreadStatic] private static GemmJob? t_job;

    /// <summary>Tests only: every part of a product started on this thread packs every column block of B into its private
    /// buffer (the path a part takes when another part's packing of a block is held up), to check that it gives the same
    /// bits. Per calling thread, read once per product, so a test running beside it (whose products read the panels of a
    /// <see cref="PackedMatrix"/>, say) is not diverted.</summary>
    [ThreadStatic] internal static bool PackPrivatelyForTests;

    /// <summary>
    /// Widest product, in column tiles, whose A the SIMD tiles read in place instead of from packed panels. Packing costs
    /// about as much per element of A whatever n is, and each packed element then serves ⌈n / NR⌉ tiles: at n ≤ 4 tiles
    /// (the training step's 64- and 128-wide products) the packing is a tenth of the product. Measured in one process, one
    /// thread, on an Ice Lake core: in place 7–14 % faster at n = 64 (2080 rows, k 64 or 256) on both tiles, and 3–7 % slower
    /// with AVX-512 at n ≥ 384 with k ≥ 384 — A's twelve rows, a multiple of 4 KiB apart there, meet in a few L1 sets,
    /// which packed panels avoid. A transposed A is read in place too (its twelve values of a step are contiguous).
    /// </summary>
    internal const int InPlaceAMaxColumnTiles = 4;

    /// <summary>
    /// Longest row (floats) of a transposed A that the tiles read in place: each step of the tile reads the next row, and
    /// past 2 KiB apart the hardware's stride prefetcher no longer follows (CART's U = Q·W products, rows of 768 or 3072
    /// floats, ran 28–32 % slower in place with AVX-512; the training step's weight gradients, rows of 64 or 256, 8–23 %
    /// faster).
    /// </summary>
    internal const int InPlaceTransposedAMaxStride = 512;

    /// <summary>
    /// Tallest product, in row tiles, whose row-major B (n a multiple of NR) the tiles read in place: each packed panel of B
    /// serves ⌈m / MR⌉ tiles, so for the training step's weight gradients (m = 64 output features, k = 2080 tokens) the
    /// packing of B was as large as the product.
    /// </summary>
    internal const int InPlaceBMaxRowTiles = 8;

    /// <summary>Tests and the GEMM bench turn this off to compare reading operands in place with packing them (same bits).</summary>
    internal static volatile bool ReadInPlace = true;

    /// <summary>Most floats of a product's packed B (16 MiB): a larger product runs in slabs of whole k-blocks × whole column
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
            if (RunSlab(path, blk, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, maxThreads, epilogue, packedB.Data, packedB.IsComplete,
                    RoundUp(packedB.N, blk.Nr)))
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
                RunSlab(path, blk, transA, transB, m, ns, ks, alpha, aS, lda, bS, ldb, p0 == 0 ? beta : 1f, c + j0, ldc, maxThreads, epi, null, false, 0);
            }
        }
    }

    /// <summary>
    /// One slab. B is packed by the parts into a rented buffer, or into <paramref name="packedB"/> (room for the whole slab's
    /// packed B) when given, unless <paramref name="complete"/> says it is packed already; <paramref name="packedStride"/>
    /// is its k-blocks' width in columns (⌈N / NR⌉·NR of the packed matrix, which a complete one may exceed this product's
    /// n). Returns whether every panel of <paramref name="packedB"/> is packed at the end.
    /// </summary>
    private static bool RunSlab(GemmPath path, Blocking blk, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, int maxThreads, in GemmEpilogue epilogue,
        float* packedB, bool complete, int packedStride)
    {
        var job = t_job ??= new GemmJob();
        var pool = GemmWorkerPool.Shared;
        int parts = (long)m * n * k < Gemm.ParallelThreshold ? 1 : Math.Min(maxThreads, pool.MaxParts);
        job.Set(path, blk, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue, TilesPerUnit(m, blk.Mr, parts));
        int groups = BlockUnitRowGroups(path, blk, transA, m, n, k, parts);
        if (groups > 0) job.UseBlockUnits(groups);
        parts = Math.Min(parts, job.ComputeUnits);
        var buffers = BufferPool<float>.Shared;
        float[]? rented = packedB == null ? buffers.Rent((long)RoundUp(n, blk.Nr) * k + 16) : null;
        try
        {
            fixed (float* pr = rented)
            {
                if (packedB != null)
                {
                    job.UsePackedMatrix();
                    job.Start(packedB, packedStride, parts, packed: complete);
                }
                else job.Start(Align64(pr), RoundUp(n, blk.Nr), parts, packed: false);
                // Same units, all on this thread, when the pool is busy or one part is enough.
                if (parts <= 1 || !pool.TryRun(job, parts)) job.RunPart(0);
            }
            return packedB != null && (complete || job.AllPacked);
        }
        finally
        {
            if (rented != null) buffers.Return(rented);
        }
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    private static float* Align64(float* p) => (float*)(((nint)p + 63) & ~(nint)63);
}
