using System.Buffers;

namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// The full thin SVD and the polar factor of a float32 matrix A (m, n), k = min(m, n), through the eigendecomposition
/// of the Gram matrix of its short side, in float64: for m ≥ n, <c>G = AᵀA = V Λ Vᵀ</c>, <c>σ_j = √λ_j</c>,
/// <c>U = A V Σ⁻¹</c>; for m &lt; n, <c>G = A Aᵀ = U Λ Uᵀ</c>, <c>Vᵀ = Σ⁻¹ Uᵀ A</c>. The polar factor (the orthogonal
/// matrix nearest to A, what orthogonal Procrustes asks for) is <c>P = U Vᵀ = A (V Σ⁻¹ Vᵀ)</c> (tall) or
/// <c>(U Σ⁻¹ Uᵀ) A</c> (wide), applied as <c>(A V Σ⁻¹) Vᵀ</c> — two GEMMs. Singular values at or below <see cref="RelativeFloor"/>·σ_max count as zero: their
/// U or V columns are zero and P is the partial isometry on the rest (an SVD library would complete those columns with
/// arbitrary orthonormal vectors instead). G, the eigenvectors and Σ stay in float64; the two products with A run on
/// the float32 <see cref="Gemm"/>, so a singular vector of σ_j carries an error of about 1e-7·σ_max/σ_j.
/// </summary>
internal static class GramSvd
{
    /// <summary>Singular values at or below this fraction of the largest one are treated as zero.</summary>
    internal const double RelativeFloor = 1e-6;

    /// <summary>
    /// Thin SVD factors: U (Rows, K), S (K, descending), Vᵀ (K, Cols), K = min(Rows, Cols). U and Vᵀ are rented from
    /// <see cref="BufferPool{T}"/> (at least the length they need): <see cref="Return"/> gives them back once the caller is
    /// done (a caller that does not lets the GC have them).
    /// </summary>
    internal sealed record Factors(int Rows, int Cols, float[] U, double[] S, float[] Vt)
    {
        /// <summary>min(Rows, Cols).</summary>
        public int K => Math.Min(Rows, Cols);

        /// <summary>Returns U and Vᵀ to the pool; the factors must not be used afterwards.</summary>
        public void Return()
        {
            BufferPool<float>.Shared.Return(U);
            BufferPool<float>.Shared.Return(Vt);
        }
    }

    /// <summary>The full thin SVD of <paramref name="a"/> (m, n); its two float32 products use up to <paramref name="maxThreads"/> threads (same result for any value).</summary>
    /// <exception cref="ArgumentException">A span is too short or A holds a non-finite value.</exception>
    internal static Factors Decompose(ReadOnlySpan<float> a, int m, int n, int maxThreads = int.MaxValue) =>
        Decompose(a, m, n, maxThreads, byRows: false);

    /// <summary>
    /// The thin SVD of a wide or square <paramref name="a"/> (m ≤ n) through the Gram matrix of its rows, <c>A Aᵀ</c>, with
    /// every eigenvector kept: U (m, m) is a complete orthonormal basis of R^m (the columns of singular values at the floor
    /// included), so its last columns span the orthogonal complement of its first ones; the rows of Vᵀ at the floor are zero.
    /// </summary>
    /// <exception cref="ArgumentException">m exceeds n, a span is too short or A holds a non-finite value.</exception>
    internal static Factors DecomposeRows(ReadOnlySpan<float> a, int m, int n, int maxThreads = int.MaxValue)
    {
        if (m > n) throw new ArgumentException($"SVD by rows: A ({m}, {n}) has more rows than columns.");
        return Decompose(a, m, n, maxThreads, byRows: true);
    }

    private static Factors Decompose(ReadOnlySpan<float> a, int m, int n, int maxThreads, bool byRows)
    {
        DenseKernels.Require("SVD input A", a.Length, m, n);
        int k = Math.Min(m, n);
        var root = InverseRootOf(a, m, n, maxThreads, byRows);
        var (sigma, inverse, vecs) = (root.Sigma, root.Inverse, root.W); // (k); (k) 1/σ_j, 0 at or below the floor; (k, k) row j = eigenvector j of G
        var u = BufferPool<float>.Shared.Rent((long)m * k);  // (m, k)
        var vt = BufferPool<float>.Shared.Rent((long)k * n); // (k, n)
        if (m >= n && !byRows)
        {
            // V = eigenvectors: Vᵀ[j, :] = row j; U = A V Σ⁻¹.
            Array.Copy(vecs, vt, k * n);
            Gemm.Multiply(false, true, m, k, n, 1f, a, n, vecs, k, 0f, u, k, maxThreads);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < k; j++) u[i * k + j] = (float)(u[i * k + j] * inverse[j]);
            for (int j = 0; j < k; j++)
                if (inverse[j] == 0) vt.AsSpan(j * n, n).Clear();
        }
        else
        {
            // U = eigenvectors as columns; Vᵀ = Σ⁻¹ Uᵀ A.
            for (int i = 0; i < m; i++)
                for (int j = 0; j < k; j++) u[i * k + j] = inverse[j] == 0 && !byRows ? 0f : vecs[j * k + i];
            Gemm.Multiply(false, false, k, n, m, 1f, vecs, k, a, n, 0f, vt, n, maxThreads);
            for (int j = 0; j < k; j++)
                System.Numerics.Tensors.TensorPrimitives.Multiply(vt.AsSpan(j * n, n), (float)inverse[j], vt.AsSpan(j * n, n));
        }
        root.Return();
        return new Factors(m, n, u, sigma, vt);
    }

    /// <summary>
    /// Writes the polar factor <c>P = U Vᵀ</c> of <paramref name="a"/> (m, n) into <paramref name="p"/> (m, n) and returns
    /// the sum of all singular values (the nuclear norm). The two float32 products use up to <paramref name="maxThreads"/>
    /// threads (same result for any value).
    /// </summary>
    /// <exception cref="ArgumentException">A span is too short or A holds a non-finite value.</exception>
    internal static double Polar(ReadOnlySpan<float> a, int m, int n, Span<float> p, int maxThreads = int.MaxValue)
    {
        DenseKernels.Require("Polar input A", a.Length, m, n);
        DenseKernels.Require("Polar output P", p.Length, m, n);
        int k = Math.Min(m, n);
        if (k == 0) return 0;
        var root = InverseRootOf(a, m, n, maxThreads);
        var (inverse, w) = (root.Inverse, root.W);      // (k) 1/σ_j; (k, k) row j = eigenvector j of G
        var pool = BufferPool<float>.Shared;
        float[] y = pool.Rent((long)m * n);             // tall: U = A V Σ⁻¹ (m, k); wide: Vᵀ = Σ⁻¹ Uᵀ A (k, n)
        try
        {
            if (m >= n)
            {
                Gemm.Multiply(false, true, m, k, n, 1f, a, n, w, k, 0f, y, k, maxThreads);          // A V
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < k; j++) y[i * k + j] = (float)(y[i * k + j] * inverse[j]);
                Gemm.Multiply(false, false, m, n, k, 1f, y, k, w, n, 0f, p, n, maxThreads);         // P = U Vᵀ
            }
            else
            {
                Gemm.Multiply(false, false, k, n, m, 1f, w, m, a, n, 0f, y, n, maxThreads);         // Uᵀ A
                for (int j = 0; j < k; j++)
                    System.Numerics.Tensors.TensorPrimitives.Multiply(y.AsSpan(j * n, n), (float)inverse[j], y.AsSpan(j * n, n));
                Gemm.Multiply(true, false, m, n, k, 1f, w, m, y, n, 0f, p, n, maxThreads);          // P = U Vᵀ
            }
        }
        finally
        {
            pool.Return(y);
            root.Return();
        }
        double sum = 0;
        foreach (double s in root.Sigma) sum += s;
        return sum;
    }

    /// <summary>
    /// <c>output += alpha · L · polar(X)</c> for <paramref name="left"/> L (m, r) and a wide or square <paramref name="x"/>
    /// X (r, n), r ≤ n. <c>polar(X) = (X Xᵀ)^(−1/2) X = W Σ⁻¹ Wᵀ X</c> (W the eigenvectors of X Xᵀ); when L has fewer rows
    /// than X has columns (m &lt; n) the product is taken as <c>((L W Σ⁻¹) Wᵀ) X</c>, 2·m·r² + m·r·n multiply-adds, instead
    /// of forming the polar factor (2·r²·n) and multiplying by it (m·r·n). The products use up to
    /// <paramref name="maxThreads"/> threads (same result for any value).
    /// </summary>
    /// <exception cref="ArgumentException">r exceeds n, a span is too short or X holds a non-finite value.</exception>
    internal static void AddLeftTimesPolar(ReadOnlySpan<float> left, int m, ReadOnlySpan<float> x, int r, int n, float alpha,
        Span<float> output, int maxThreads = int.MaxValue)
    {
        if (r > n) throw new ArgumentException($"L·polar(X): X ({r}, {n}) has more rows than columns.");
        DenseKernels.Require("L·polar(X) input L", left.Length, m, r);
        DenseKernels.Require("L·polar(X) input X", x.Length, r, n);
        DenseKernels.Require("L·polar(X) output", output.Length, m, n);
        var pool = BufferPool<float>.Shared;
        if (m >= n || r == 0)
        {
            float[] p = pool.Rent((long)Math.Max(r * n, 1)); // (r, n) polar(X)
            try
            {
                Polar(x, r, n, p.AsSpan(0, r * n), maxThreads);
                Gemm.Multiply(false, false, m, n, r, alpha, left, r, p, n, 1f, output, n, maxThreads);
            }
            finally
            {
                pool.Return(p);
            }
            return;
        }
        var root = InverseRootOf(x, r, n, maxThreads);
        try
        {
            AddLeftTimesPolar(left, m, root, x, r, n, alpha, output, maxThreads);
        }
        finally
        {
            root.Return();
        }
    }

    /// <summary>
    /// The inverse square root of the Gram matrix of a matrix's short side, kept factored: <c>W Σ⁻¹ Wᵀ</c> with
    /// <paramref name="W"/> (K, K) float32, row j the eigenvector j (rented from <see cref="BufferPool{T}"/>), and
    /// <paramref name="Inverse"/> (K) the reciprocal singular values, 0 at the floor (<paramref name="Sigma"/>, descending, the
    /// singular values themselves). For a wide X it is
    /// <c>(X Xᵀ)^(−1/2)</c>, so <c>polar(X) = W Σ⁻¹ Wᵀ X</c>; for a tall one <c>(XᵀX)^(−1/2)</c>, so
    /// <c>polar(X) = X W Σ⁻¹ Wᵀ</c>.
    /// </summary>
    internal sealed record InverseRoot(int K, float[] W, double[] Inverse, double[] Sigma)
    {
        /// <summary>Returns W to the pool; the root must not be used afterwards.</summary>
        public void Return() => BufferPool<float>.Shared.Return(W);
    }

    /// <summary>The <see cref="InverseRoot"/> of <paramref name="x"/> (m, n): its short side's Gram matrix decomposed in float64 on up to <paramref name="maxThreads"/> threads.</summary>
    /// <exception cref="ArgumentException">A span is too short or X holds a non-finite value.</exception>
    internal static InverseRoot InverseRootOf(ReadOnlySpan<float> x, int m, int n, int maxThreads = int.MaxValue) =>
        InverseRootOf(x, m, n, maxThreads, byRows: false);

    /// <summary>The one place the short side's eigendecomposition becomes W, Σ⁻¹ and Σ (<paramref name="byRows"/>: of
    /// <c>X Xᵀ</c> for a square X, as <see cref="DecomposeRows"/> needs).</summary>
    private static InverseRoot InverseRootOf(ReadOnlySpan<float> x, int m, int n, int maxThreads, bool byRows)
    {
        DenseKernels.Require("inverse root input X", x.Length, m, n);
        int k = Math.Min(m, n);
        var (sigma, rows) = ShortSideEigen(x, m, n, maxThreads, byRows);
        var inverse = InverseSingularValues(sigma);
        var w = ToFloat(rows, k * k);                    // (k, k) row j = eigenvector j of the Gram matrix, pooled
        BufferPool<double>.Shared.Return(rows);
        return new InverseRoot(k, w, inverse, sigma);
    }

    /// <summary>
    /// <c>output += alpha · L · polar(X)</c> for L (m, r) and a wide or square X (r, n) whose
    /// <see cref="InverseRootOf(ReadOnlySpan{float}, int, int, int)">inverse root</see> is <paramref name="root"/>: <c>((L W Σ⁻¹) Wᵀ) X</c>, three products
    /// on up to <paramref name="maxThreads"/> threads.
    /// </summary>
    internal static void AddLeftTimesPolar(ReadOnlySpan<float> left, int m, InverseRoot root, ReadOnlySpan<float> x, int r, int n, float alpha,
        Span<float> output, int maxThreads = int.MaxValue)
    {
        if (r > n || root.K != r) throw new ArgumentException($"L·polar(X): X ({r}, {n}) is not wide, or its root is ({root.K}, {root.K}).");
        DenseKernels.Require("L·polar(X) input L", left.Length, m, r);
        DenseKernels.Require("L·polar(X) input X", x.Length, r, n);
        DenseKernels.Require("L·polar(X) output", output.Length, m, n);
        var pool = BufferPool<float>.Shared;
        float[] w = root.W;                              // (r, r) row j = eigenvector j of X Xᵀ
        float[] lw = pool.Rent((long)m * r);             // (m, r) L W Σ⁻¹
        float[] c = pool.Rent((long)m * r);              // (m, r) L W Σ⁻¹ Wᵀ = L (X Xᵀ)^(−1/2)
        try
        {
            Gemm.Multiply(false, true, m, r, r, 1f, left, r, w, r, 0f, lw, r, maxThreads);         // L W
            for (int i = 0; i < m; i++)
                for (int j = 0; j < r; j++) lw[i * r + j] = (float)(lw[i * r + j] * root.Inverse[j]);
            Gemm.Multiply(false, false, m, r, r, 1f, lw, r, w, r, 0f, c, r, maxThreads);           // · Wᵀ
            Gemm.Multiply(false, false, m, n, r, alpha, c, r, x, n, 1f, output, n, maxThreads);   // · X
        }
        finally
        {
            pool.Return(lw);
            pool.Return(c);
        }
    }

    /// <summary>
    /// <c>output += alpha · polar(X) · R</c> for a tall or square X (m, r) whose <see cref="InverseRootOf(ReadOnlySpan{float}, int, int, int)">inverse root</see>
    /// is <paramref name="root"/> and R (r, n): <c>X (W (Σ⁻¹ (Wᵀ R)))</c>, 2·r²·n + m·r·n multiply-adds instead of forming
    /// the polar factor (2·m·r²) and multiplying by it (m·r·n); the mirror of
    /// <see cref="AddLeftTimesPolar(ReadOnlySpan{float}, int, InverseRoot, ReadOnlySpan{float}, int, int, float, Span{float}, int)"/>.
    /// The products use up to <paramref name="maxThreads"/> threads (same result for any value).
    /// </summary>
    /// <exception cref="ArgumentException">X is wide, the root does not match, or a span is too short.</exception>
    internal static void AddPolarTimesRight(ReadOnlySpan<float> x, int m, int r, InverseRoot root, ReadOnlySpan<float> right, int n, float alpha,
        Span<float> output, int maxThreads = int.MaxValue)
    {
        if (m < r || root.K != r) throw new ArgumentException($"polar(X)·R: X ({m}, {r}) is not tall, or its root is ({root.K}, {root.K}).");
        DenseKernels.Require("polar(X)·R input X", x.Length, m, r);
        DenseKernels.Require("polar(X)·R input R", right.Length, r, n);
        DenseKernels.Require("polar(X)·R output", output.Length, m, n);
        var pool = BufferPool<float>.Shared;
        float[] w = root.W;                              // (r, r) row j = eigenvector j of XᵀX
        float[] t = pool.Rent((long)r * n);              // (r, n) Σ⁻¹ Wᵀ R
        float[] c = pool.Rent((long)r * n);              // (r, n) W Σ⁻¹ Wᵀ R = (XᵀX)^(−1/2) R
        try
        {
            Gemm.Multiply(false, false, r, n, r, 1f, w, r, right, n, 0f, t, n, maxThreads);        // Wᵀ R
            for (int j = 0; j < r; j++)
                for (int i = 0; i < n; i++) t[j * n + i] = (float)(t[j * n + i] * root.Inverse[j]);
            Gemm.Multiply(true, false, r, n, r, 1f, w, r, t, n, 0f, c, n, maxThreads);            // W ·
            Gemm.Multiply(false, false, m, n, r, alpha, x, r, c, n, 1f, output, n, maxThreads);   // X ·
        }
        finally
        {
            pool.Return(t);
            pool.Return(c);
        }
    }

    /// <summary>
    /// σ (k, descending) and the eigenvector rows (k, k; a pooled array the caller returns to
    /// <see cref="BufferPool{T}.Shared"/>) of the short side's Gram matrix (of the rows, <c>A Aᵀ</c>, for a square A when
    /// <paramref name="byRows"/>), all in float64.
    /// </summary>
    private static (double[] Sigma, double[] Rows) ShortSideEigen(ReadOnlySpan<float> a, int m, int n, int maxThreads, bool byRows = false)
    {
        int k = Math.Min(m, n), len = Math.Max(m, n);
        if (m * n > 0 && !float.IsFinite(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(a.Slice(0, m * n))))
            throw new ArgumentException("SVD: A holds a non-finite value.");
        var pool = BufferPool<double>.Shared;
        float[]? xt = m >= n && !byRows ? BufferPool<float>.Shared.Rent((long)k * len) : null; // (k, len) Aᵀ when A is tall; a wide A's rows (or a square one's by rows) in place
        double[] g = pool.Rent(k * k);                  // (k, k) X Xᵀ (the diagonal tiles are written whole, so G is symmetric)
        double[] rows = pool.Rent(k * k);               // (k, k)
        try
        {
            if (xt is not null) Transpose(a, m, n, xt);
            GramOfRowsKernel.Compute(xt is null ? a : xt.AsSpan(0, k * len), k, len, g, maxThreads);
            var lambda = new double[k];                 // (k) descending
            DivideConquerEigen.Decompose(g, k, lambda, rows, maxThreads);
            var sigma = new double[k];
            for (int j = 0; j < k; j++) sigma[j] = Math.Sqrt(Math.Max(lambda[j], 0.0));
            return (sigma, rows);
        }
        catch
        {
            pool.Return(rows);
            throw;
        }
        finally
        {
            if (xt is not null) BufferPool<float>.Shared.Return(xt);
            pool.Return(g);
        }
    }

    /// <summary><c>t[j·m + i] = a[i·n + j]</c>: the transpose of <paramref name="a"/> (m, n) into <paramref name="t"/> (n, m).</summary>
    private static void Transpose(ReadOnlySpan<float> a, int m, int n, Span<float> t)
    {
        const int B = 32; // (32, 32) tiles: both sides stay in L1
        for (int i0 = 0; i0 < m; i0 += B)
            for (int j0 = 0; j0 < n; j0 += B)
                for (int i = i0; i < Math.Min(i0 + B, m); i++)
                    for (int j = j0; j < Math.Min(j0 + B, n); j++)
                        t[j * m + i] = a[i * n + j];
    }

    /// <summary>1/σ_j, or 0 when σ_j is at the floor (<see cref="IsAtFloor"/>).</summary>
    private static double[] InverseSingularValues(double[] sigma)
    {
        var inverse = new double[sigma.Length];
        for (int j = 0; j < sigma.Length; j++) inverse[j] = IsAtFloor(sigma, j) ? 0.0 : 1.0 / sigma[j];
        return inverse;
    }

    /// <summary>True when σ_j (of <paramref name="sigma"/>, descending) counts as zero: σ_j ≤ <see cref="RelativeFloor"/>·σ_0,
    /// or σ_j = 0.</summary>
    internal static bool IsAtFloor(ReadOnlySpan<double> sigma, int j) => !(sigma[j] > RelativeFloor * sigma[0] && sigma[j] > 0);

    /// <summary>The first <paramref name="length"/> values as float32, in an array rented from <see cref="BufferPool{T}"/>.</summary>
    private static float[] ToFloat(double[] x, int length)
    {
        var f = BufferPool<float>.Shared.Rent(length);
        for (int i = 0; i < length; i++) f[i] = (float)x[i];
        return f;
    }
}
