
namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Right-multiplies rows by <c>Qᵀ = H_{n−3} ⋯ H_1 H_0</c>, the transposed product of the tridiagonal reduction's
/// reflectors <c>H_k = I − β_k v_k v_kᵀ</c> (<see cref="SymmetricTridiagonalization"/>), without forming Q: the
/// eigensolver's back-transformation <c>(Q z_j)ᵀ = z_jᵀ Qᵀ</c>, what LAPACK's <c>dormtr</c> does. The reflectors go
/// <see cref="Block"/> at a time in compact WY form (Schreiber and Van Loan 1989): for a block j0 … j1−1,
/// <c>H_{j0} ⋯ H_{j1−1} = I − Y T Yᵀ</c> with <c>Y = [v_{j0} … v_{j1−1}]</c> and T upper triangular,
/// <code>
/// T[i, i] = β_i,   T[0:i, i] = −β_i · T[0:i, 0:i] · (Yᵀ v_i)[0:i]
/// </code>
/// and, since each H is symmetric, <c>H_{j1−1} ⋯ H_{j0} = I − Y Tᵀ Yᵀ</c>; the blocks are applied from the last to the
/// first, each as two float64 products over the columns its reflectors touch (j0 + 1 …):
/// <code>
/// W = X Y          (rows, b)
/// W ← −W Tᵀ        (rows, b)
/// X ← X + W Yᵀ     (rows, n − j0 − 1)
/// </code>
/// That is the 2n³ of one product with an explicit Qᵀ, without the 4n³/3 that forming Qᵀ costs. Each row only depends
/// on itself, so rows can be split between threads; every product (Yᵀ Y for T included) is <see cref="DoubleGemm"/>
/// (one FMA chain per element) and T's recurrence runs in fixed-order scalar FMAs, so the result is the same bits on
/// every instruction set and for any thread count.
/// </summary>
internal static class CompactWyBackTransform
{
    /// <summary>Reflectors per block: the depth of the update product and the width of W.</summary>
    internal const int Block = 32;

    /// <summary>
    /// <paramref name="x"/> (rows, n) ← X Qᵀ. Row k of <paramref name="reflectors"/> (n, n) holds v_k in columns
    /// k+1 … n−1 and <paramref name="beta"/>[k] its β (0: H_k = I), for k = 0 … n−3, as
    /// <see cref="SymmetricTridiagonalization.Reduce"/> leaves them. With <paramref name="maxThreads"/> ≥ 2 the rows are
    /// split in two halves. <paramref name="block"/>: reflectors per block (<see cref="Block"/>; `Gemm.Bench eigen` times others).
    /// </summary>
    internal static void Apply(double[] reflectors, double[] beta, int n, double[] x, int rows, int maxThreads = 1, int block = Block,
        int chunkRows = ChunkRows)
    {
        DenseKernels.Require("back-transformation rows X", x.Length, rows, n);
        int count = n - 2; // reflectors H_0 … H_{n−3}
        if (count <= 0 || rows == 0) return;
        int blocks = (count + block - 1) / block;
        var pool = BufferPool<double>.Shared;
        double[] yt = pool.Rent((long)blocks * block * n); // (blocks·b, n) row j0 + i = v_{j0+i}, zero in columns ≤ j0 + i
        double[] y = pool.Rent((long)blocks * block * n);  // (blocks, n, b) per block: Y (n − j0 − 1, b) row-major
        double[] mt = pool.Rent(blocks * block * block);   // (blocks, b, b) per block: −Tᵀ
        try
        {
            for (int blk = 0; blk < blocks; blk++) Prepare(reflectors, beta, n, blk, block, Math.Min(block, count - blk * block), yt, y, mt);
            int half = maxThreads >= 2 && rows >= 128 ? rows / 2 : rows;
            if (half == rows) ApplyChunks(n, count, block, chunkRows, x.AsSpan(0, rows * n), rows, yt, y, mt);
            else Parallel.Invoke(
                () => ApplyChunks(n, count, block, chunkRows, x.AsSpan(0, half * n), half, yt, y, mt),
                () => ApplyChunks(n, count, block, chunkRows, x.AsSpan(half * n, (rows - half) * n), rows - half, yt, y, mt));
        }
        finally
        {
            pool.Return(yt);
            pool.Return(y);
            pool.Return(mt);
        }
    }

    /// <summary>
    /// Rows of X taken through all the blocks before the next rows start. X (rows, n) goes through every block of
    /// reflectors, and at n = 768 it is 4.5 MiB of float64: taken whole, it leaves L2 and comes back once per block (24
    /// times); 64 rows (384 KiB) stay in L2 beside the block's Y and Yᵀ (2 × 192 KiB). Rows are independent, so the bits do
    /// not depend on the chunking. Measured on the Ice Lake machine (768², 60 back-transformations per process, user CPU,
    /// alternated): AVX2 4.06–4.46 → 3.61–3.79 s, AVX-512 unchanged within the noise (2.78–3.02 against 2.79–3.00 s).
    /// </summary>
    internal const int ChunkRows = 64;

    /// <summary>Applies every block to <paramref name="x"/> (rows, n), <paramref name="chunkRows"/> rows at a time.</summary>
    private static void ApplyChunks(int n, int count, int block, int chunkRows, Span<double> x, int rows, double[] yt, double[] y, double[] mt)
    {
        for (int r0 = 0; r0 < rows; r0 += chunkRows)
        {
            int rc = Math.Min(chunkRows, rows - r0);
            ApplyRows(n, count, block, x.Slice(r0 * n, rc * n), rc, yt, y, mt);
        }
    }

    /// <summary>Applies every block, last first, to <paramref name="x"/> (rows, n).</summary>
    private static void ApplyRows(int n, int count, int block, Span<double> x, int rows, double[] yt, double[] y, double[] mt)
    {
        int blocks = (count + block - 1) / block;
        var pool = BufferPool<double>.Shared;
        double[] w = pool.Rent(rows * block);  // (rows, b) X Y
        double[] w2 = pool.Rent(rows * block); // (rows, b) −X Y Tᵀ
        try
        {
            for (int blk = blocks - 1; blk >= 0; blk--)
            {
                int j0 = blk * block, b = Math.Min(block, count - j0), c0 = j0 + 1, len = n - c0;
                var xc = x.Slice(c0);                                                            // (rows, len), stride n
                DoubleGemm.Multiply(rows, b, len, xc, n, y.AsSpan(blk * block * n), b, w, b);    // W = X Y
                DoubleGemm.Multiply(rows, b, b, w, b, mt.AsSpan(blk * block * block), b, w2, b); // W ← −W Tᵀ
                DoubleGemm.Multiply(rows, len, b, w2, b, yt.AsSpan(j0 * n + c0), n, xc, n, accumulate: true); // X += W Yᵀ
            }
        }
        finally
        {
            pool.Return(w);
            pool.Return(w2);
        }
    }

    /// <summary>
    /// Block j0 … j0+b−1: its rows of Yᵀ with the zeros left of each v written out, Y (n − j0 − 1, b) row-major, and −Tᵀ (b, b).
    /// </summary>
    private static void Prepare(double[] reflectors, double[] beta, int n, int blk, int block, int b, double[] yt, double[] y, double[] mt)
    {
        int j0 = blk * block, c0 = j0 + 1, len = n - c0;
        for (int i = 0; i < b; i++)
        {
            int k = j0 + i;
            var row = yt.AsSpan(k * n, n);
            row.Slice(0, k + 1).Clear();
            reflectors.AsSpan(k * n + k + 1, n - k - 1).CopyTo(row.Slice(k + 1));
        }
        var yb = y.AsSpan(blk * block * n, len * b);
        for (int c = 0; c < len; c++)
            for (int i = 0; i < b; i++) yb[c * b + i] = yt[(j0 + i) * n + c0 + c];
        var gram = new double[b * b]; // (b, b) Yᵀ Y: the dot products v_rᵀ v_i (v_i is zero where it has not started)
        DoubleGemm.Multiply(b, b, len, yt.AsSpan(j0 * n + c0), n, yb, b, gram, b);
        var t = new double[b * b];    // (b, b) T, upper triangle
        for (int i = 0; i < b; i++)
        {
            double bi = beta[j0 + i];
            for (int r = 0; r < i; r++)
            {
                double s = 0;
                for (int q = r; q < i; q++) s = Math.FusedMultiplyAdd(t[r * b + q], gram[q * b + i], s);
                t[r * b + i] = -bi * s;
            }
            t[i * b + i] = bi;
        }
        var m = mt.AsSpan(blk * block * block, block * block);
        m.Clear();
        for (int r = 0; r < b; r++)
            for (int c = 0; c < b; c++) m[r * b + c] = -t[c * b + r];
    }
}
