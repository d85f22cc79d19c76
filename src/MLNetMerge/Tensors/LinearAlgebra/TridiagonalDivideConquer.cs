
namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Eigenvalues and eigenvectors of a symmetric tridiagonal matrix T (d on the diagonal, e[i] coupling i and i+1) by
/// Cuppen's divide and conquer (Cuppen 1981; Gu and Eisenstat 1995), in float64. T is cut at m with
/// <c>β = e_{m−1}</c>, <c>ρ = |β|</c>: <c>T = diag(T₁, T₂) + ρ v vᵀ</c>, <c>v = e_{m−1} + sign(β) e_m</c>, where T₁ and T₂
/// have ρ taken off their touching diagonal entries. With <c>T₁ = Q₁ D₁ Q₁ᵀ</c> and <c>T₂ = Q₂ D₂ Q₂ᵀ</c> solved
/// recursively (leaves of ≤ <see cref="LeafSize"/> by the QL iteration), <c>T = Q (D + ρ z zᵀ) Qᵀ</c> with
/// <c>z = Qᵀ v</c> (the last row of Q₁ and ±the first row of Q₂), scaled to <c>‖z‖ = 1</c>, <c>ρ ← 2ρ</c>.
/// <para>
/// Deflation (tolerance <c>τ = 8ε·max(max|d|, ρ)</c>, a perturbation of T of that size): an eigenpair with
/// <c>ρ|z_i| ≤ τ</c> is already one of T; of two neighbouring values whose plane rotation zeroing z_i would leave an
/// off-diagonal <c>|(d_j − d_i) c s| ≤ τ</c>, the rotation is applied (to d, z and the two vectors) and i deflates. The
/// remaining K values go to <see cref="SecularEquation"/>, and the new vectors are <c>Q U</c>: one float64 product per
/// half (<see cref="DoubleGemm"/>), the vectors grouped as top-only, mixed (rotated across the halves) and bottom-only so
/// that each product skips the other half's zeros. Deterministic: every choice depends on values and indices only.
/// </para>
/// Vectors are stored as rows: row j of Zᵀ (n, n) is the unit eigenvector of eigenvalue j.
/// </summary>
internal static class TridiagonalDivideConquer
{
    /// <summary>Sizes at or below this are solved by the QL iteration.</summary>
    internal const int LeafSize = 32;

    /// <summary>
    /// Solves (<paramref name="d"/>, <paramref name="e"/>; n each, e[n−1] unused; both destroyed): on return d holds the
    /// eigenvalues in increasing order (ties by index) and row j of <paramref name="zt"/> (n, n) the unit eigenvector of d[j].
    /// With <paramref name="maxThreads"/> ≥ 2 the two top halves are solved side by side (each with its own workspace; they
    /// touch disjoint parts of d, e and Zᵀ) and the top merge's two products run side by side: the same result.
    /// </summary>
    internal static void Solve(double[] d, double[] e, int n, double[] zt, int maxThreads = 1)
    {
        Array.Clear(zt, 0, n * n);
        if (n == 0) return;
        bool split = maxThreads >= 2 && n > 2 * LeafSize;
        var ws = Workspace.Rent(n);
        var ws2 = split ? Workspace.Rent(n - n / 2) : null;
        try
        {
            if (!split)
            {
                Solve(d, e, 0, n, n, zt, ws);
                return;
            }
            // The top cut exactly as the recursion makes it.
            int mid = n / 2;
            double rho = Math.Abs(e[mid - 1]);
            d[mid - 1] -= rho;
            d[mid] -= rho;
            Parallel.Invoke(() => Solve(d, e, 0, mid, n, zt, ws), () => Solve(d, e, mid, n, n, zt, ws2!));
            Merge(d, e[mid - 1], 0, mid, n, n, zt, ws, sideBySide: true);
        }
        finally
        {
            ws.Return();
            ws2?.Return();
        }
    }

    /// <summary>Scratch shared by every merge: Rows and Product (n, n), U (n, n), and vectors of n.</summary>
    private sealed class Workspace(double[] rows, double[] product, double[] u, int n)
    {
        /// <summary>A workspace for merges of up to <paramref name="n"/> values, its matrices from the pool.</summary>
        public static Workspace Rent(int n)
        {
            var pool = BufferPool<double>.Shared;
            return new Workspace(pool.Rent(n * n), pool.Rent(n * n), pool.Rent(n * n), n);
        }

        /// <summary>Gives the matrices back to the pool.</summary>
        public void Return()
        {
            BufferPool<double>.Shared.Return(Rows);
            BufferPool<double>.Shared.Return(Product);
            BufferPool<double>.Shared.Return(U);
        }

        public double[] Rows { get; } = rows;          // (K, size) the non-deflated vectors, grouped; then the sorted output
        public double[] Product { get; } = product;    // (K, size) their new values Q U
        public double[] U { get; } = u;                // (K, K) eigenvectors of D + ρ z zᵀ, columns grouped like Rows
        public double[] Z { get; } = new double[n];    // (size) z
        public double[] Dv { get; } = new double[n];   // (size) eigenvalues of the halves, then after rotations
        public double[] DHat { get; } = new double[n]; // (K) non-deflated values, increasing
        public double[] ZHat { get; } = new double[n]; // (K)
        public double[] Lambda { get; } = new double[n]; // (K) roots
        public double[] Diff { get; } = new double[n]; // (K) scratch of the secular solver
        public double[] Values { get; } = new double[n]; // (size) output values before sorting
        public int[] Order { get; } = new int[n];      // (size) the halves' values merged in increasing order
        public int[] Kind { get; } = new int[n];       // (size) 0 top-only, 1 mixed, 2 bottom-only
        public int[] Kept { get; } = new int[n];       // (K) non-deflated local indices, increasing value
        public int[] Deflated { get; } = new int[n];   // local indices that deflated
        public int[] Group { get; } = new int[n];      // (K) Kept positions in top, mixed, bottom order
        public int[] Sorted { get; } = new int[n];     // (size) output order
    }

    private static void Solve(double[] d, double[] e, int lo, int hi, int n, double[] zt, Workspace ws)
    {
        int size = hi - lo;
        if (size <= LeafSize)
        {
            Leaf(d, e, lo, hi, n, zt);
            return;
        }
        int mid = lo + size / 2;
        double rho = Math.Abs(e[mid - 1]);
        d[mid - 1] -= rho;
        d[mid] -= rho;
        Solve(d, e, lo, mid, n, zt, ws);
        Solve(d, e, mid, hi, n, zt, ws);
        Merge(d, e[mid - 1], lo, mid, hi, n, zt, ws);
    }

    /// <summary>QL on the block lo..hi (rows and columns lo..hi of Zᵀ start as the identity), values sorted increasing.</summary>
    private static void Leaf(double[] d, double[] e, int lo, int hi, int n, double[] zt)
    {
        int size = hi - lo;
        var ld = new double[size];                    // (size)
        var le = new double[size];                    // (size) le[size−1] = 0: the cut
        Array.Copy(d, lo, ld, 0, size);
        Array.Copy(e, lo, le, 0, size - 1);
        for (int i = 0; i < size; i++) zt[(lo + i) * n + lo + i] = 1.0;
        var sink = new BlockRotations(zt, n, lo, size);
        TridiagonalQl.Run(ld, le, size, ref sink);
        var order = new int[size];
        for (int i = 0; i < size; i++) order[i] = i;
        Array.Sort(order, (x, y) => ld[x].CompareTo(ld[y]) is int cmp && cmp != 0 ? cmp : x.CompareTo(y));
        var rows = new double[size * size];           // (size, size) the block, reordered
        for (int j = 0; j < size; j++)
        {
            d[lo + j] = ld[order[j]];
            zt.AsSpan((lo + order[j]) * n + lo, size).CopyTo(rows.AsSpan(j * size, size));
        }
        for (int j = 0; j < size; j++) rows.AsSpan(j * size, size).CopyTo(zt.AsSpan((lo + j) * n + lo, size));
    }

    /// <summary>Rows lo+i, lo+i+1 of Zᵀ over columns lo..lo+size: <c>z_i ← c z_i − s z_{i+1}</c>, <c>z_{i+1} ← s z_i + c z_{i+1}</c>.</summary>
    private readonly struct BlockRotations(double[] zt, int n, int lo, int size) : TridiagonalQl.IRotationSink
    {
        public void Begin(int top) { }

        public void Rotate(int i, double c, double s) =>
            DenseKernels.Rotate(zt.AsSpan((lo + i) * n + lo, size), zt.AsSpan((lo + i + 1) * n + lo, size), c, s);
    }

    /// <summary>Merges the solved halves lo..mid and mid..hi coupled by <paramref name="beta"/>.</summary>
    private static void Merge(double[] d, double beta, int lo, int mid, int hi, int n, double[] zt, Workspace ws, bool sideBySide = false)
    {
        int size = hi - lo, n1 = mid - lo;
        double rho = 2 * Math.Abs(beta), sign = beta >= 0 ? 1.0 : -1.0, r2 = Math.Sqrt(0.5);
        var z = ws.Z; var dv = ws.Dv; var kind = ws.Kind; var order = ws.Order;
        for (int i = 0; i < size; i++)
        {
            z[i] = i < n1 ? r2 * zt[(lo + i) * n + mid - 1] : sign * r2 * zt[(lo + i) * n + mid];
            dv[i] = d[lo + i];
            kind[i] = i < n1 ? 0 : 2;
        }
        // The halves' values merged in increasing order (ties: top half first).
        for (int a = 0, b = n1, p = 0; p < size; p++)
            order[p] = b >= size || (a < n1 && dv[a] <= dv[b]) ? a++ : b++;
        double dmax = 0;
        for (int i = 0; i < size; i++) dmax = Math.Max(dmax, Math.Abs(dv[i]));
        double tol = 8 * 2.220446049250313e-16 * Math.Max(dmax, rho);
        int kept = 0, deflated = 0;
        for (int p = 0; p < size; p++)
        {
            int i = order[p];
            if (rho * Math.Abs(z[i]) <= tol) { ws.Deflated[deflated++] = i; continue; }
            if (kept > 0)
            {
                int h = ws.Kept[kept - 1];
                double r = TridiagonalQl.Hypot(z[h], z[i]), c = z[i] / r, s = -z[h] / r;
                if (Math.Abs((dv[i] - dv[h]) * c * s) <= tol)
                {
                    // Rotate (h, i) so that z_h = 0: vectors h' = c h + s i, i' = −s h + c i.
                    var rh = zt.AsSpan((lo + h) * n + lo, size);
                    var ri = zt.AsSpan((lo + i) * n + lo, size);
                    for (int q = 0; q < size; q++)
                    {
                        double x = rh[q], y = ri[q];
                        rh[q] = c * x + s * y;
                        ri[q] = -s * x + c * y;
                    }
                    double dh = dv[h], di = dv[i];
                    dv[h] = c * c * dh + s * s * di;
                    dv[i] = s * s * dh + c * c * di;
                    z[h] = 0;
                    z[i] = r;
                    if (kind[h] != kind[i]) kind[h] = kind[i] = 1;
                    ws.Deflated[deflated++] = h;
                    ws.Kept[kept - 1] = i;
                    continue;
                }
            }
            ws.Kept[kept++] = i;
        }
        var values = ws.Values;
        if (kept > 0) Update(kept, rho, size, n1, lo, n, zt, ws, sideBySide);
        // Output: the new pairs (Product rows) and the deflated ones (rows of Zᵀ), sorted by value, ties by source.
        var sorted = ws.Sorted;
        for (int j = 0; j < kept; j++) { values[j] = ws.Lambda[j]; sorted[j] = j; }
        for (int q = 0; q < deflated; q++) { values[kept + q] = dv[ws.Deflated[q]]; sorted[kept + q] = kept + q; }
        Array.Sort(sorted, 0, size, Comparer<int>.Create((x, y) => values[x].CompareTo(values[y]) is int cmp && cmp != 0 ? cmp : x.CompareTo(y)));
        var outRows = ws.Rows;                                  // (size, size), free after Update
        for (int p = 0; p < size; p++)
        {
            int src = sorted[p];
            var from = src < kept ? ws.Product.AsSpan(src * size, size) : zt.AsSpan((lo + ws.Deflated[src - kept]) * n + lo, size);
            from.CopyTo(outRows.AsSpan(p * size, size));
        }
        for (int p = 0; p < size; p++)
        {
            d[lo + p] = values[sorted[p]];
            outRows.AsSpan(p * size, size).CopyTo(zt.AsSpan((lo + p) * n + lo, size));
        }
    }

    /// <summary>
    /// Solves the secular equation of the K kept values (<see cref="Workspace.Lambda"/>) and writes the new vectors
    /// <c>Q U</c> into <see cref="Workspace.Product"/> (K, size): the kept rows of Zᵀ gathered top-only, mixed,
    /// bottom-only, so columns 0..n1 take the first two groups and columns n1..size the last two.
    /// </summary>
    private static void Update(int k, double rho, int size, int n1, int lo, int n, double[] zt, Workspace ws, bool sideBySide)
    {
        for (int j = 0; j < k; j++)
        {
            ws.DHat[j] = ws.Dv[ws.Kept[j]];
            ws.ZHat[j] = ws.Z[ws.Kept[j]];
        }
        var u = ws.U;                                            // (k, k) row j = eigenvector j over the kept vectors
        SecularEquation.Solve(ws.DHat.AsSpan(0, k), ws.ZHat.AsSpan(0, k), rho, k, ws.Lambda, u.AsSpan(0, k * k), ws.Diff);
        int[] count = new int[3];
        for (int j = 0; j < k; j++) count[ws.Kind[ws.Kept[j]]]++;
        int[] next = [0, count[0], count[0] + count[1]];
        for (int j = 0; j < k; j++) ws.Group[next[ws.Kind[ws.Kept[j]]]++] = j;
        var rows = ws.Rows;                                      // (k, size) grouped kept rows
        for (int q = 0; q < k; q++) zt.AsSpan((lo + ws.Kept[ws.Group[q]]) * n + lo, size).CopyTo(rows.AsSpan(q * size, size));
        var tmp = ws.Diff;
        for (int j = 0; j < k; j++)
        {
            var row = u.AsSpan(j * k, k);
            for (int q = 0; q < k; q++) tmp[q] = row[ws.Group[q]];
            tmp.AsSpan(0, k).CopyTo(row);
        }
        int top = count[0], mixed = count[1], bottom = count[2];
        if (sideBySide)
            Parallel.Invoke(
                () => DoubleGemm.Multiply(k, n1, top + mixed, u, k, rows, size, ws.Product, size),
                () => DoubleGemm.Multiply(k, size - n1, mixed + bottom, u.AsSpan(top), k, rows.AsSpan(top * size + n1), size, ws.Product.AsSpan(n1), size));
        else
        {
            DoubleGemm.Multiply(k, n1, top + mixed, u, k, rows, size, ws.Product, size);
            DoubleGemm.Multiply(k, size - n1, mixed + bottom, u.AsSpan(top), k, rows.AsSpan(top * size + n1), size, ws.Product.AsSpan(n1), size);
        }
    }
}
