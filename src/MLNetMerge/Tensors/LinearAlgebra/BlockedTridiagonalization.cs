using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// The panel form of <see cref="SymmetricTridiagonalization"/> for large matrices, as LAPACK's <c>dsytrd</c>/<c>dlatrd</c>
/// do it: the reflectors of <see cref="PanelWidth"/> consecutive columns are built while the trailing block is left as it
/// was at the panel's start, and the panel's rank-2 updates are applied to it afterwards in one product,
/// <code>
/// A₂₂ ← A₂₂ − V Wᵀ − W Vᵀ         V, W: (n − c0, b), the panel's v_q and w_q from row c0 = k0 + b on
/// </code>
/// Column j = k0 + i of the panel sees the panel's earlier updates only where it needs them: its own entries
/// (<c>a[r, j] −= Σ_{q&lt;i} V[r, q] W[j, q] + W[r, q] V[j, q]</c>, rows r ≥ j) before its reflector is built, and the product
/// <c>A₂₂ v</c> through <c>p = A v − V (Wᵀ v) − W (Vᵀ v)</c>, A the stored (panel-start) block. The unblocked reduction
/// reads and writes the whole trailing triangle at every step; here each step only reads it (the product), and it is
/// written once per panel, by <see cref="DoubleGemm"/>. Same reflectors, β, d and e as the unblocked steps in exact
/// arithmetic; a different rounding, so the blocked form is only used from <see cref="MinOrder"/> on, and the last
/// <see cref="TailOrder"/> columns (a trailing block that fits a core's L2 cache) go through the unblocked steps.
/// <para>
/// Why: from about n = 500 the trailing triangle no longer fits a core's L2 cache, and the unblocked steps stream it
/// from L3 twice per step (read and write back), 16 bytes per element; the panel form streams it once (8 bytes), and its
/// product takes two rows at a time (<see cref="SymmetricProduct"/>). The block reduction is Dongarra, Sorensen and
/// Hammarling (1989), "Block reduction of matrices to condensed forms for eigenvalue computations". Measured in one
/// process on an Ice Lake core (unblocked → panels, CPU ms): n = 768 76–111 → 50–64, n = 1024 193–236 → 149–155; the
/// eigenvalues agree to 6e-16 of the largest and ‖A V − V Λ‖ / ‖A‖ stays at 4.5e-15.
/// </para>
/// </summary>
internal static class BlockedTridiagonalization
{
    /// <summary>Smallest order reduced in panels: smaller matrices keep the unblocked steps (and their bits).</summary>
    internal const int MinOrder = 512;

    /// <summary>Tests only: the calling thread's reductions take the unblocked steps at every order (to compare the two).</summary>
    [ThreadStatic] internal static bool UnblockedForTests;

    /// <summary>Columns per panel (the depth of the trailing update is twice this).</summary>
    internal const int PanelWidth = 32;

    /// <summary>Order of the trailing block left to the unblocked steps (128: its triangle, 64 KiB, is in L2 long before;
    /// measured at n = 768 against 64, 256 and 384 in one process, all within the noise of each other but 384).</summary>
    internal const int TailOrder = 128;

    /// <summary>Rows of the trailing block per update product.</summary>
    private const int UpdateRows = 96;

    /// <summary>
    /// Reduces whole panels of <paramref name="a"/> (n, n; lower triangle) while more than <see cref="TailOrder"/> columns
    /// are left, writing d, e, the reflectors and β of those columns as <see cref="SymmetricTridiagonalization.Reduce"/>
    /// does, and updating the trailing block; returns the first column not reduced. With <paramref name="maxThreads"/> ≥ 2
    /// a second thread takes half of each product <c>A₂₂ v</c> and of each trailing update (<see cref="PairedSteps"/>);
    /// the halves are fixed by the order alone, so the result is the same bits for any thread count.
    /// </summary>
    internal static int ReducePanels(double[] a, int n, double[] d, double[] e, double[] reflectors, double[] beta, int maxThreads = 1)
    {
        var work = new PanelWork(a, n);
        int k0 = 0;
        try
        {
            PairedSteps.Run(maxThreads, steps =>
            {
                for (; n - k0 > TailOrder; k0 += PanelWidth)
                {
                    work.StartPanel(k0);
                    for (int i = 0; i < PanelWidth; i++)
                        Column(work, steps, k0 + i, i, d, e, reflectors, beta);
                    work.StartUpdate(k0 + PanelWidth);
                    steps.Split(work);
                }
            });
        }
        finally
        {
            work.Return();
        }
        return k0;
    }

    /// <summary>Column j (the panel's i-th): its own update, its reflector v_j into V and w_j into W.</summary>
    private static void Column(PanelWork work, PairedSteps steps, int j, int i, double[] d, double[] e, double[] reflectors, double[] beta)
    {
        double[] a = work.A, v = work.V, w = work.W, p = work.P;
        int n = work.N;
        if (i > 0)
        {
            var col = p.AsSpan(0, n - j);                                // (n − j) column j from row j
            for (int r = j; r < n; r++) col[r - j] = a[r * n + j];
            for (int q = 0; q < i; q++)
            {
                DenseKernels.Axpy(-w[q * n + j], v.AsSpan(q * n + j, n - j), col);    // − v_q w_q[j]
                DenseKernels.Axpy(-v[q * n + j], w.AsSpan(q * n + j, n - j), col);    // − w_q v_q[j]
            }
            for (int r = j; r < n; r++) a[r * n + j] = col[r - j];
        }
        if (!SymmetricTridiagonalization.MakeReflector(a, n, j, d, e, reflectors, beta)) return; // v_j, w_j stay 0
        int len = n - j - 1, c = j + 1;
        work.StartProduct(c, reflectors, j * n + c);
        steps.Split(work);                                              // A v, A as stored at the panel's start
        var x = reflectors.AsSpan(j * n + c, len);
        var y = p.AsSpan(0, len);
        work.FinishProduct(y);
        for (int q = 0; q < i; q++)
        {
            var vq = v.AsSpan(q * n + c, len);
            var wq = w.AsSpan(q * n + c, len);
            double tw = DenseKernels.Dot(wq, x), tv = DenseKernels.Dot(vq, x);
            DenseKernels.Axpy(-tw, vq, y);                              // − v_q (w_qᵀ v)
            DenseKernels.Axpy(-tv, wq, y);                              // − w_q (v_qᵀ v)
        }
        double b = beta[j];
        System.Numerics.Tensors.TensorPrimitives.Multiply(y, b, y);     // p = β A₂₂ v
        double kk = 0.5 * b * DenseKernels.Dot(x, y);
        DenseKernels.Axpy(-kk, x, y);                                   // w = p − K v
        x.CopyTo(v.AsSpan(i * n + c, len));
        y.CopyTo(w.AsSpan(i * n + c, len));
    }

    /// <summary>
    /// The panel's buffers and the two kinds of split step: the product <c>A₂₂ v</c> (rows of the trailing triangle before
    /// <see cref="SplitRow"/> in half 0, the rest in half 1, each into its own vector; their sum is the product) and the
    /// trailing update (its row blocks claimed one at a time, largest first, by both halves).
    /// </summary>
    private sealed class PanelWork : PairedSteps.IStep
    {
        private const int Nb = PanelWidth, K2 = 2 * PanelWidth;
        internal readonly double[] A;   // (n, n) the matrix, lower triangle
        internal readonly int N;
        internal readonly double[] V;   // (b, n) row q = v_q over rows 0..n−1 of A (0 above its first row)
        internal readonly double[] W;   // (b, n) row q = w_q
        internal readonly double[] P;   // (n) column j, then half 0's share of A₂₂ v, then w of the current column
        private readonly double[] _q1;  // (n) half 1's share of A₂₂ v
        private readonly double[] _left;   // (n − c0, 2b) [−V −W] of the trailing rows
        private readonly double[] _right;  // (2b, n − c0) [W V]ᵀ of the trailing columns
        private readonly double[] _diag0;  // (rows, rows) a diagonal block of the trailing update, one per half
        private readonly double[] _diag1;
        private bool _update;           // which step Run performs: the trailing update, or the product
        private int _c;                 // the product's (or update's) first row and column of the trailing block
        private double[] _x = [];       // the reflector v: _x[_xOffset ..] over the trailing rows
        private int _xOffset;
        private int _nextBlock;         // the update's next row block to claim (counting down)

        internal PanelWork(double[] a, int n)
        {
            var pool = BufferPool<double>.Shared;
            A = a;
            N = n;
            V = pool.Rent(Nb * n);
            W = pool.Rent(Nb * n);
            P = new double[n];
            _q1 = new double[n];
            _left = pool.Rent(n * K2);
            _right = pool.Rent(K2 * n);
            _diag0 = pool.Rent(UpdateRows * UpdateRows);
            _diag1 = pool.Rent(UpdateRows * UpdateRows);
        }

        internal void Return()
        {
            var pool = BufferPool<double>.Shared;
            pool.Return(V);
            pool.Return(W);
            pool.Return(_left);
            pool.Return(_right);
            pool.Return(_diag0);
            pool.Return(_diag1);
        }

        /// <summary>Clears V and W from row k0 on for a new panel.</summary>
        internal void StartPanel(int k0)
        {
            for (int q = 0; q < Nb; q++)
            {
                Array.Clear(V, q * N + k0, N - k0);
                Array.Clear(W, q * N + k0, N - k0);
            }
        }

        /// <summary>The first row of the product's half 1 for a trailing block of order len: about len/√2 (the two
        /// halves then hold equal parts of the triangle), even so that both keep the rows in pairs.</summary>
        internal static int SplitRow(int len) => (int)(len * 0.70710678118654752) & ~1;

        /// <summary>Sets up the product <c>A₂₂ x</c> of the block from row/column c, x = reflectors[offset ..].</summary>
        internal void StartProduct(int c, double[] reflectors, int offset)
        {
            _update = false;
            _c = c;
            _x = reflectors;
            _xOffset = offset;
        }

        /// <summary>y = half 0's share + half 1's share (half 0 wrote its share into y, which is P).</summary>
        internal void FinishProduct(Span<double> y)
        {
            int len = N - _c, h = SplitRow(len);
            System.Numerics.Tensors.TensorPrimitives.Add(y.Slice(0, h), _q1.AsSpan(0, h), y.Slice(0, h));
            _q1.AsSpan(h, len - h).CopyTo(y.Slice(h));
        }

        /// <summary>Packs [−V −W] and [W V]ᵀ for the update of the block from row and column c0.</summary>
        internal void StartUpdate(int c0)
        {
            int m = N - c0;
            for (int q = 0; q < Nb; q++)
            {
                W.AsSpan(q * N + c0, m).CopyTo(_right.AsSpan(q * m, m));
                V.AsSpan(q * N + c0, m).CopyTo(_right.AsSpan((Nb + q) * m, m));
                for (int r = 0; r < m; r++)
                {
                    _left[r * K2 + q] = -V[q * N + c0 + r];
                    _left[r * K2 + Nb + q] = -W[q * N + c0 + r];
                }
            }
            _update = true;
            _c = c0;
            _nextBlock = (m + UpdateRows - 1) / UpdateRows;
        }

        /// <inheritdoc/>
        public void Run(int half)
        {
            if (_update)
            {
                UpdateBlocks(half == 0 ? _diag0 : _diag1);
                return;
            }
            int len = N - _c, h = SplitRow(len);
            var x = _x.AsSpan(_xOffset, len);
            if (half == 0) SymmetricProduct(A, N, _c, x, P, 0, h);
            else SymmetricProduct(A, N, _c, x, _q1, h, len);
        }

        /// <summary>Claims row blocks of the update (the last, largest, first) until none is left: A ← A − V Wᵀ − W Vᵀ on
        /// the lower triangle of the block from row and column c0.</summary>
        private void UpdateBlocks(double[] diag)
        {
            int c0 = _c, m = N - c0;
            for (int block; (block = Interlocked.Decrement(ref _nextBlock)) >= 0;)
            {
                int r0 = block * UpdateRows, rows = Math.Min(UpdateRows, m - r0);
                var lhs = _left.AsSpan(r0 * K2, rows * K2);
                if (r0 > 0) // columns before the diagonal block: a plain rectangle
                    DoubleGemm.Multiply(rows, r0, K2, lhs, K2, _right, m, A.AsSpan((c0 + r0) * N + c0), N, accumulate: true);
                // The diagonal block through a copy, so that only its lower triangle is written back.
                for (int r = 0; r < rows; r++) Array.Copy(A, (c0 + r0 + r) * N + c0 + r0, diag, r * rows, rows);
                DoubleGemm.Multiply(rows, rows, K2, lhs, K2, _right.AsSpan(r0), m, diag, rows, accumulate: true);
                for (int r = 0; r < rows; r++) Array.Copy(diag, r * rows, A, (c0 + r0 + r) * N + c0 + r0, r + 1);
            }
        }
    }

    /// <summary>
    /// q = the share of rows <paramref name="i0"/> … <paramref name="i1"/> − 1 of the trailing block from row/column
    /// <paramref name="c"/> in A₂₂ y (q[0 … i1) written: the rows' lower-triangle entries and their mirrors), two rows at a
    /// time: rows i and i + 1 share the loads of y and q (q[j] += y_i·A[i, j] + y_{i+1}·A[i+1, j] for j &lt; i) and keep
    /// four independent sums (the one-row loop of the unblocked steps waits on one). Fused multiply-adds in a fixed order,
    /// so the same bits whichever thread runs it; 256-bit lanes on every instruction set.
    /// </summary>
    private static void SymmetricProduct(double[] a, int n, int c, ReadOnlySpan<double> y, Span<double> q, int i0, int i1)
    {
        q.Slice(0, i1).Clear();
        ref double y0 = ref MemoryMarshal.GetReference(y);
        ref double q0 = ref MemoryMarshal.GetReference(q);
        int i = i0;
        for (; i + 1 < i1; i += 2)
        {
            ref double r0 = ref a[(c + i) * n + c];      // row i: entries 0..i (the diagonal last)
            ref double r1 = ref a[(c + i + 1) * n + c];  // row i + 1: entries 0..i+1
            double yi = Unsafe.Add(ref y0, i), yk = Unsafe.Add(ref y0, i + 1);
            var vyi = Vector256.Create(yi);
            var vyk = Vector256.Create(yk);
            Vector256<double> s0 = default, s1 = default, t0 = default, t1 = default;
            int j = 0;
            for (; j + 8 <= i; j += 8)
            {
                var ya = Vector256.LoadUnsafe(ref y0, (nuint)j);
                var yb = Vector256.LoadUnsafe(ref y0, (nuint)(j + 4));
                var a0 = Vector256.LoadUnsafe(ref r0, (nuint)j);
                var a1 = Vector256.LoadUnsafe(ref r0, (nuint)(j + 4));
                var b0 = Vector256.LoadUnsafe(ref r1, (nuint)j);
                var b1 = Vector256.LoadUnsafe(ref r1, (nuint)(j + 4));
                s0 = Vector256.FusedMultiplyAdd(a0, ya, s0);
                s1 = Vector256.FusedMultiplyAdd(a1, yb, s1);
                t0 = Vector256.FusedMultiplyAdd(b0, ya, t0);
                t1 = Vector256.FusedMultiplyAdd(b1, yb, t1);
                var qa = Vector256.LoadUnsafe(ref q0, (nuint)j);
                var qb = Vector256.LoadUnsafe(ref q0, (nuint)(j + 4));
                Vector256.FusedMultiplyAdd(vyk, b0, Vector256.FusedMultiplyAdd(vyi, a0, qa)).StoreUnsafe(ref q0, (nuint)j);
                Vector256.FusedMultiplyAdd(vyk, b1, Vector256.FusedMultiplyAdd(vyi, a1, qb)).StoreUnsafe(ref q0, (nuint)(j + 4));
            }
            double d0 = Vector256.Sum(s0 + s1), d1 = Vector256.Sum(t0 + t1);
            for (; j < i; j++)
            {
                double ra = Unsafe.Add(ref r0, j), rb = Unsafe.Add(ref r1, j), yj = Unsafe.Add(ref y0, j);
                d0 = Math.FusedMultiplyAdd(ra, yj, d0);
                d1 = Math.FusedMultiplyAdd(rb, yj, d1);
                ref double qj = ref Unsafe.Add(ref q0, j);
                qj = Math.FusedMultiplyAdd(yk, rb, Math.FusedMultiplyAdd(yi, ra, qj));
            }
            double sub = Unsafe.Add(ref r1, i);                                        // A[i+1, i]
            d0 = Math.FusedMultiplyAdd(Unsafe.Add(ref r0, i), yi, d0);                 // the diagonal A[i, i]
            d1 = Math.FusedMultiplyAdd(sub, yi, d1);
            d1 = Math.FusedMultiplyAdd(Unsafe.Add(ref r1, i + 1), yk, d1);             // the diagonal A[i+1, i+1]
            Unsafe.Add(ref q0, i) += Math.FusedMultiplyAdd(yk, sub, d0);               // q[i]: its row and A[i+1, i]'s mirror
            Unsafe.Add(ref q0, i + 1) += d1;
        }
        if (i < i1) // an odd last row
        {
            ref double r0 = ref a[(c + i) * n + c];
            double yi = Unsafe.Add(ref y0, i), d0 = 0;
            for (int j = 0; j < i; j++)
            {
                double ra = Unsafe.Add(ref r0, j);
                d0 = Math.FusedMultiplyAdd(ra, Unsafe.Add(ref y0, j), d0);
                Unsafe.Add(ref q0, j) = Math.FusedMultiplyAdd(yi, ra, Unsafe.Add(ref q0, j));
            }
            Unsafe.Add(ref q0, i) += Math.FusedMultiplyAdd(Unsafe.Add(ref r0, i), yi, d0);
        }
    }
}
