using System.Runtime.CompilerServices;

namespace MLNetMerge.Tensors;

/// <summary>One product's arguments, its shared packed B and the per-part entry the worker pool calls (see the loop nest
/// and the partitioning on <see cref="GemmDriver"/>).</summary>
internal static unsafe partial class GemmDriver
{
    /// <summary>The arguments of one product and the per-part entry the worker pool calls.</summary>
    private sealed class GemmJob : GemmWorkerPool.IJob
    {
        private GemmPath _path;
        private Blocking _blk;
        private bool _transA, _transB;
        private bool _aInPlace;         // full tiles read A in place (see InPlaceAMaxColumnTiles); only a partial row panel is packed
        private bool _bInPlace;         // tiles read a row-major B in place (see InPlaceBMaxRowTiles); B is not packed at all
        private bool _blockUnits;       // units are row group × column block (see BlockUnitRowGroups), A read in place
        private bool _packPrivately;    // PackPrivatelyForTests of the thread that started the product
        private int _units;             // units of work: row groups, or row groups × column blocks
        private int _m, _n, _k, _lda, _ldb, _ldc, _bStride, _unitRows, _rowUnits;
        private float _alpha, _beta;
        private float* _a, _b, _c;
        private GemmEpilogue _epilogue;
        private int _nextUnit;
        private float* _packB;          // shared packed B: (bStride, k) as k-blocks of (bStride/nr, kc, nr), op(B)'s columns 0..n first
        private int _columnBlocks, _parts;
        private int[] _blockState = new int[16]; // per column block: Unpacked, Packing, Packed

        /// <summary>Units of work: row groups of C, or row groups × column blocks.</summary>
        internal int ComputeUnits => _units;

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
            _packPrivately = PackPrivatelyForTests;
            bool simd = path != GemmPath.Scalar;
            _aInPlace = ReadInPlace && simd && lda > 0 && n <= InPlaceAMaxColumnTiles * blk.Nr && (!transA || lda <= InPlaceTransposedAMaxStride);
            _bInPlace = ReadInPlace && simd && !transB && ldb > 0 && n % blk.Nr == 0 && m <= InPlaceBMaxRowTiles * blk.Mr;
            _unitRows = tilesPerUnit * blk.Mr;
            _rowUnits = (m + _unitRows - 1) / _unitRows;
            _nextUnit = 0;
            _columnBlocks = (n + blk.Nc - 1) / blk.Nc;
            _blockUnits = false;
            _units = _rowUnits;
        }

        /// <summary>Makes the units <paramref name="rowGroups"/> row groups (whole tiles) × column blocks, A read in place.</summary>
        internal void UseBlockUnits(int rowGroups)
        {
            int tiles = (_m + _blk.Mr - 1) / _blk.Mr;
            _unitRows = (tiles + rowGroups - 1) / rowGroups * _blk.Mr;
            _rowUnits = (_m + _unitRows - 1) / _unitRows;
            _units = _rowUnits * _columnBlocks;
            _blockUnits = true;
            _aInPlace = true;
        }

        /// <summary>A product that reads or fills a <see cref="PackedMatrix"/> takes B from it, never in place.</summary>
        internal void UsePackedMatrix() => _bInPlace = false;

        /// <summary>Gives the product its shared packed-B buffer, whose k-blocks are <paramref name="stride"/> columns wide
        /// (at least ⌈n / NR⌉·NR): every column block still to pack, or all of them <paramref name="packed"/> already.</summary>
        internal void Start(float* packB, int stride, int parts, bool packed)
        {
            _packB = packB;
            _bStride = stride;
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
            if (Volatile.Read(ref _nextUnit) >= _units) return; // the other parts took every unit
            var pool = BufferPool<float>.Shared;
            float[] bufA = pool.Rent((long)(_aInPlace ? _blk.Mr : _unitRows) * _k + 16); // A in place: room for one partial panel
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
        /// The units this part takes: row groups over all column blocks, or (block units) one row group × one column block
        /// each. <paramref name="packA"/> holds the group's rows of A packed here (unitRows, k), or with A read in place only
        /// a last partial panel (mr, k). Column blocks are visited from
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
            int units = _units, blocks = _columnBlocks, startBlock = (int)((long)Math.Min(part, _parts - 1) * blocks / _parts);
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
                    // Block units: consecutive units share a column block (its B block stays in cache between them).
                    int group = _blockUnits ? u % _rowUnits : u, onlyBlock = _blockUnits ? u / _rowUnits : -1;
                    int i0 = group * _unitRows, rows = Math.Min(_unitRows, _m - i0);
                    if (_aInPlace)
                    {
                        // A read in place by the full tiles: only a last, partial panel is packed (missing rows as zeros),
                        // its k-blocks (kc, mr) one after another.
                        int full = rows / _blk.Mr * _blk.Mr;
                        for (int pc = 0; full < rows && pc < _k; pc += _blk.Kc)
                            GemmPacking.PackA(_transA, _a, _lda, i0 + full, pc, rows - full, Math.Min(_blk.Kc, _k - pc), _blk.Mr, packA + (long)pc * _blk.Mr);
                    }
                    else
                    {
                        for (int pc = 0; pc < _k; pc += _blk.Kc)
                            GemmPacking.PackA(_transA, _a, _lda, i0, pc, rows, Math.Min(_blk.Kc, _k - pc), _blk.Mr, packA + (long)pc * RoundUp(rows, _blk.Mr));
                    }
                    if (onlyBlock >= 0)
                    {
                        RunBlock(packA, edge, i0, rows, onlyBlock, ref privateB);
                        continue;
                    }
                    if (_bInPlace)
                    {
                        for (int jb = 0; jb < blocks; jb++) RunBlock(packA, edge, i0, rows, jb, ref privateB);
                        continue;
                    }
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
                        if (!_packPrivately && Volatile.Read(ref _blockState[jb]) == Packed)
                        {
                            RunSharedBlock(packA, edge, i0, rows, jb);
                            continue;
                        }
                        RunPrivateBlock(packA, edge, i0, rows, jb, ref privateB);
                    }
                }
            }
            finally
            {
                if (privateB != null) BufferPool<float>.Shared.Return(privateB);
            }
        }

        /// <summary>One block unit: rows i0.. (rows) × column block <paramref name="jb"/>, from the shared packed B when it is
        /// ready (or in place), else from a private copy of the block (packed into <paramref name="privateB"/>).</summary>
        private void RunBlock(float* packA, float* edge, int i0, int rows, int jb, ref float[]? privateB)
        {
            int j0 = jb * _blk.Nc, cols = Math.Min(_blk.Nc, _n - j0);
            if (_bInPlace) { RunUnit(packA, null, 0, 0, edge, i0, rows, j0, cols); return; }
            if (EnsurePacked(jb)) RunSharedBlock(packA, edge, i0, rows, jb);
            else RunPrivateBlock(packA, edge, i0, rows, jb, ref privateB);
        }

        /// <summary>Rows i0.. (rows) × column block <paramref name="jb"/> from a private copy of the block, packed into
        /// <paramref name="privateB"/> (rented on first use, returned by the caller).</summary>
        private void RunPrivateBlock(float* packA, float* edge, int i0, int rows, int jb, ref float[]? privateB)
        {
            privateB ??= BufferPool<float>.Shared.Rent((long)_blk.Nc * _k + 16);
            fixed (float* pp = privateB)
            {
                float* own = Align64(pp); // (colsPadded, k) as k-blocks of (colsPadded/nr, kc, nr)
                int j0 = jb * _blk.Nc, cols = Math.Min(_blk.Nc, _n - j0), colsPadded = RoundUp(cols, _blk.Nr);
                PackColumnBlock(own, colsPadded, 0, j0, cols);
                RunUnit(packA, own, colsPadded, 0, edge, i0, rows, j0, cols);
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
            if (_packPrivately) return false;
            int state = Volatile.Read(ref _blockState[jb]);
            if (state == Packed) return true;
            if (state != Unpacked || Interlocked.CompareExchange(ref _blockState[jb], Packing, Unpacked) != Unpacked) return false;
            int j0 = jb * _blk.Nc;
            PackColumnBlock(_packB, _bStride, j0, j0, Math.Min(_blk.Nc, _n - j0));
            Volatile.Write(ref _blockState[jb], Packed);
            return true;
        }

        private void PackColumnBlock(float* dst, int stride, int dstColumn, int j0, int cols) =>
            PackColumns(_blk, _transB, _b, _ldb, _k, j0, cols, dst, stride, dstColumn);

        private void RunSharedBlock(float* packA, float* edge, int i0, int rows, int jb)
        {
            int j0 = jb * _blk.Nc;
            RunUnit(packA, _packB, _bStride, j0, edge, i0, rows, j0, Math.Min(_blk.Nc, _n - j0));
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
                float* aBlock = packA + (long)pc * (_aInPlace ? mr : rowsPadded); // (rows/mr, kc, mr), or the partial panel alone
                float* bBlock = _bInPlace ? null : packB + (long)pc * bStride + (long)bColumn * kc;  // (cols/nr, kc, nr)
                int bStep = _bInPlace ? _ldb : nr;
                for (int ir = 0; ir < rows; ir += mr)
                {
                    int tileRows = Math.Min(mr, rows - ir);
                    // A's tile: in place (row-major: rows lda apart, steps 1; transposed: steps lda apart) or a packed panel.
                    bool aIn = _aInPlace && tileRows == mr;
                    float* ap = !aIn ? aBlock + (_aInPlace ? 0 : (long)ir * kc)
                        : _transA ? _a + (long)pc * _lda + i0 + ir : _a + (long)(i0 + ir) * _lda + pc;
                    int aRow = aIn && !_transA ? _lda : 1, aStep = !aIn ? mr : _transA ? _lda : 1;
                    float* crow = _c + (long)(i0 + ir) * _ldc + j0;
                    // AVX-512 only: its 12 × 320 panels missed on the residual (GemmEpilogue.Prefetch); the AVX2 6 × 256
                    // panels did not, and prefetching there cost 0.4–0.8 ms per 3072 → 768 product (L2 traffic beside B).
                    if (last && epilogue && _path == GemmPath.Avx512) _epilogue.Prefetch(i0 + ir, tileRows, j0, cols);
                    for (int jr = 0; jr < cols; jr += nr)
                    {
                        int tileCols = Math.Min(nr, cols - jr);
                        float* bp = _bInPlace ? _b + (long)pc * _ldb + j0 + jr : bBlock + (long)jr * kc;
                        if (tileRows == mr && tileCols == nr)
                        {
                            Tile(kc, ap, aRow, aStep, bp, bStep, crow + jr, _ldc, _alpha, beta, loadC);
                        }
                        else
                        {
                            // Same kernel on a scratch tile, so edge elements get the same arithmetic.
                            for (int r = 0; r < tileRows; r++)
                            {
                                var src = new ReadOnlySpan<float>(crow + (long)r * _ldc + jr, tileCols);
                                if (loadC) src.CopyTo(new Span<float>(edge + r * nr, tileCols));
                            }
                            Tile(kc, ap, aRow, aStep, bp, bStep, edge, nr, _alpha, beta, loadC);
                            for (int r = 0; r < tileRows; r++)
                                new ReadOnlySpan<float>(edge + r * nr, tileCols).CopyTo(new Span<float>(crow + (long)r * _ldc + jr, tileCols));
                        }
                    }
                    if (last && epilogue) _epilogue.Apply(_c, _ldc, i0 + ir, tileRows, j0, cols);
                }
            }
        }

        /// <summary>One tile, A and B laid out as <see cref="GemmKernels.Avx512Tile"/> reads them (the scalar kernel: packed only).</summary>
        private void Tile(int kc, float* ap, int aRow, int aStep, float* bp, int bStep, float* c, int ldc, float alpha, float beta, bool loadC)
        {
            switch (_path)
            {
                case GemmPath.Avx512: GemmKernels.Avx512Tile(kc, ap, aRow, aStep, bp, bStep, c, ldc, alpha, beta, loadC); break;
                case GemmPath.Avx2: GemmKernels.Avx2Tile(kc, ap, aRow, aStep, bp, bStep, c, ldc, alpha, beta, loadC); break;
                default: GemmScalarKernel.Tile(kc, ap, bp, c, ldc, alpha, beta, loadC); break;
            }
        }
    }
}
