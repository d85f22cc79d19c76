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
    /// does, and updating the trailing block; returns the first column not reduced.
    /// </summary>
    internal static int ReducePanels(double[] a, int n, double[] d, double[] e, double[] reflectors, double[] beta)
    {
        const int nb = PanelWidth;
        var pool = BufferPool<double>.Shared;
        double[] v = pool.Rent(nb * n);          // (b, n) row q = v_q over rows 0..n−1 of A (0 above its first row)
        double[] w = pool.Rent(nb * n);          // (b, n) row q = w_q
        double[] left = pool.Rent(n * 2 * nb);   // (n − c0, 2b) [−V −W] of the trailing rows
        double[] right = pool.Rent(2 * nb * n);  // (2b, n − c0) [W V]ᵀ of the trailing columns
        double[] diag = pool.Rent(UpdateRows * UpdateRows); // (rows, rows) a diagonal block of the trailing update
        var p = new double[n];                   // (n) column j, then A₂₂ v and w of the current column
        int k0 = 0;
        try
        {
            for (; n - k0 > TailOrder; k0 += nb)
            {
                for (int q = 0; q < nb; q++)
                {
                    Array.Clear(v, q * n + k0, n - k0);
                    Array.Clear(w, q * n + k0, n - k0);
                }
                for (int i = 0; i < nb; i++)
                    Column(a, n, k0 + i, i, d, e, reflectors, beta, v, w, p);
                UpdateTrailing(a, n, k0 + nb, v, w, left, right, diag);
            }
        }
        finally
        {
            pool.Return(v);
            pool.Return(w);
            pool.Return(left);
            pool.Return(right);
            pool.Return(diag);
        }
        return k0;
    }

    /// <summary>Column j (the panel's i-th): its own update, its reflector v_j into V and w_j into W.</summary>
    private static void Column(double[] a, int n, int j, int i, double[] d, double[] e, double[] reflectors, double[] beta,
        double[] v, double[] w, double[] p)
    {
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
        var x = reflectors.AsSpan(j * n + c, len);
        var y = p.AsSpan(0, len);
        SymmetricProduct(a, n, c, x, y);                                // A v, A as stored at the panel's start
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

    /// <summary>The lower triangle of the block from row and column c0: A ← A − V Wᵀ − W Vᵀ.</summary>
    private static void UpdateTrailing(double[] a, int n, int c0, double[] v, double[] w, double[] left, double[] right, double[] diag)
    {
        const int nb = PanelWidth, k2 = 2 * PanelWidth;
        int m = n - c0;
        for (int q = 0; q < nb; q++)
        {
            w.AsSpan(q * n + c0, m).CopyTo(right.AsSpan(q * m, m));
            v.AsSpan(q * n + c0, m).CopyTo(right.AsSpan((nb + q) * m, m));
            for (int r = 0; r < m; r++)
            {
                left[r * k2 + q] = -v[q * n + c0 + r];
                left[r * k2 + nb + q] = -w[q * n + c0 + r];
            }
        }
        for (int r0 = 0; r0 < m; r0 += UpdateRows)
        {
            int rows = Math.Min(UpdateRows, m - r0);
            var lhs = left.AsSpan(r0 * k2, rows * k2);
            if (r0 > 0) // columns before the diagonal block: a plain rectangle
                DoubleGemm.Multiply(rows, r0, k2, lhs, k2, right, m, a.AsSpan((c0 + r0) * n + c0), n, accumulate: true);
            // The diagonal block through a copy, so that only its lower triangle is written back.
            for (int r = 0; r < rows; r++) Array.Copy(a, (c0 + r0 + r) * n + c0 + r0, diag, r * rows, rows);
            DoubleGemm.Multiply(rows, rows, k2, lhs, k2, right.AsSpan(r0), m, diag, rows, accumulate: true);
            for (int r = 0; r < rows; r++) Array.Copy(diag, r * rows, a, (c0 + r0 + r) * n + c0 + r0, r + 1);
        }
    }

    /// <summary>
    /// q = A₂₂ y for the trailing block from row/column <paramref name="c"/>, from its lower triangle only, two rows at a
    /// time: rows i and i + 1 share the loads of y and q (q[j] += y_i·A[i, j] + y_{i+1}·A[i+1, j] for j &lt; i) and keep
    /// four independent sums (the one-row loop of the unblocked steps waits on one). Fused multiply-adds in a fixed order,
    /// so the same bits for any thread count; 256-bit lanes on every instruction set.
    /// </summary>
    private static void SymmetricProduct(double[] a, int n, int c, ReadOnlySpan<double> y, Span<double> q)
    {
        int len = n - c;
        q.Slice(0, len).Clear();
        ref double y0 = ref MemoryMarshal.GetReference(y);
        ref double q0 = ref MemoryMarshal.GetReference(q);
        int i = 0;
        for (; i + 1 < len; i += 2)
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
        if (i < len) // an odd last row
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
