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

    /// <summary>Thin SVD factors: U (Rows, K), S (K, descending), Vᵀ (K, Cols), K = min(Rows, Cols).</summary>
    internal sealed record Factors(int Rows, int Cols, float[] U, double[] S, float[] Vt)
    {
        /// <summary>min(Rows, Cols).</summary>
        public int K => Math.Min(Rows, Cols);
    }

    /// <summary>The full thin SVD of <paramref name="a"/> (m, n).</summary>
    /// <exception cref="ArgumentException">A span is too short or A holds a non-finite value.</exception>
    internal static Factors Decompose(ReadOnlySpan<float> a, int m, int n)
    {
        DenseKernels.Require("SVD input A", a.Length, m, n);
        int k = Math.Min(m, n);
        var (sigma, rows) = ShortSideEigen(a, m, n);   // (k), (k, k) row j = eigenvector j of G
        var inverse = InverseSingularValues(sigma);     // (k) 1/σ_j, 0 at or below the floor
        var vecs = ToFloat(rows, k * k);                // (k, k), pooled
        ArrayPool<double>.Shared.Return(rows);
        var u = new float[m * k];                       // (m, k)
        var vt = new float[k * n];                      // (k, n)
        if (m >= n)
        {
            // V = eigenvectors: Vᵀ[j, :] = row j; U = A V Σ⁻¹.
            Array.Copy(vecs, vt, k * n);
            Gemm.Multiply(false, true, m, k, n, 1f, a, n, vecs, k, 0f, u, k);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < k; j++) u[i * k + j] = (float)(u[i * k + j] * inverse[j]);
            for (int j = 0; j < k; j++)
                if (inverse[j] == 0) vt.AsSpan(j * n, n).Clear();
        }
        else
        {
            // U = eigenvectors as columns; Vᵀ = Σ⁻¹ Uᵀ A.
            for (int i = 0; i < m; i++)
                for (int j = 0; j < k; j++) u[i * k + j] = inverse[j] == 0 ? 0f : vecs[j * k + i];
            Gemm.Multiply(false, false, k, n, m, 1f, vecs, k, a, n, 0f, vt, n);
            for (int j = 0; j < k; j++)
                System.Numerics.Tensors.TensorPrimitives.Multiply(vt.AsSpan(j * n, n), (float)inverse[j], vt.AsSpan(j * n, n));
        }
        FloatBufferPool.Shared.Return(vecs);
        return new Factors(m, n, u, sigma, vt);
    }

    /// <summary>
    /// Writes the polar factor <c>P = U Vᵀ</c> of <paramref name="a"/> (m, n) into <paramref name="p"/> (m, n) and returns
    /// the sum of all singular values (the nuclear norm).
    /// </summary>
    /// <exception cref="ArgumentException">A span is too short or A holds a non-finite value.</exception>
    internal static double Polar(ReadOnlySpan<float> a, int m, int n, Span<float> p)
    {
        DenseKernels.Require("Polar input A", a.Length, m, n);
        DenseKernels.Require("Polar output P", p.Length, m, n);
        int k = Math.Min(m, n);
        if (k == 0) return 0;
        var (sigma, rows) = ShortSideEigen(a, m, n);
        var inverse = InverseSingularValues(sigma);
        var w = ToFloat(rows, k * k);                   // (k, k) row j = eigenvector j of G, pooled
        ArrayPool<double>.Shared.Return(rows);
        var pool = FloatBufferPool.Shared;
        float[] y = pool.Rent((long)m * n);             // tall: U = A V Σ⁻¹ (m, k); wide: Vᵀ = Σ⁻¹ Uᵀ A (k, n)
        try
        {
            if (m >= n)
            {
                Gemm.Multiply(false, true, m, k, n, 1f, a, n, w, k, 0f, y, k);          // A V
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < k; j++) y[i * k + j] = (float)(y[i * k + j] * inverse[j]);
                Gemm.Multiply(false, false, m, n, k, 1f, y, k, w, n, 0f, p, n);         // P = U Vᵀ
            }
            else
            {
                Gemm.Multiply(false, false, k, n, m, 1f, w, m, a, n, 0f, y, n);         // Uᵀ A
                for (int j = 0; j < k; j++)
                    System.Numerics.Tensors.TensorPrimitives.Multiply(y.AsSpan(j * n, n), (float)inverse[j], y.AsSpan(j * n, n));
                Gemm.Multiply(true, false, m, n, k, 1f, w, m, y, n, 0f, p, n);          // P = U Vᵀ
            }
        }
        finally
        {
            pool.Return(y);
            pool.Return(w);
        }
        double sum = 0;
        foreach (double s in sigma) sum += s;
        return sum;
    }

    /// <summary>
    /// σ (k, descending) and the eigenvector rows (k, k; a pooled array the caller returns to
    /// <see cref="ArrayPool{T}.Shared"/>) of the short side's Gram matrix, all in float64.
    /// </summary>
    private static (double[] Sigma, double[] Rows) ShortSideEigen(ReadOnlySpan<float> a, int m, int n)
    {
        int k = Math.Min(m, n), len = Math.Max(m, n);
        if (m * n > 0 && !float.IsFinite(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(a.Slice(0, m * n))))
            throw new ArgumentException("SVD: A holds a non-finite value.");
        var pool = ArrayPool<double>.Shared;
        double[] x = pool.Rent(k * len);                // (k, len): the short side's vectors as rows
        double[] g = pool.Rent(k * k);                  // (k, k) X Xᵀ (the diagonal tiles are written whole, so G is symmetric)
        double[] rows = pool.Rent(k * k);               // (k, k)
        try
        {
            DenseKernels.ToDouble(a, m, n, x, transpose: m >= n);
            GramOfRowsKernel.Compute(x, k, len, g);
            var lambda = new double[k];                 // (k) descending
            DivideConquerEigen.Decompose(g, k, lambda, rows);
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
            pool.Return(x);
            pool.Return(g);
        }
    }

    /// <summary>1/σ_j, or 0 when σ_j ≤ <see cref="RelativeFloor"/>·σ_0.</summary>
    private static double[] InverseSingularValues(double[] sigma)
    {
        var inverse = new double[sigma.Length];
        double floor = sigma.Length == 0 ? 0 : RelativeFloor * sigma[0];
        for (int j = 0; j < sigma.Length; j++) inverse[j] = sigma[j] > floor && sigma[j] > 0 ? 1.0 / sigma[j] : 0.0;
        return inverse;
    }

    /// <summary>The first <paramref name="length"/> values as float32, in an array rented from <see cref="FloatBufferPool"/>.</summary>
    private static float[] ToFloat(double[] x, int length)
    {
        var f = FloatBufferPool.Shared.Rent(length);
        for (int i = 0; i < length; i++) f[i] = (float)x[i];
        return f;
    }
}
