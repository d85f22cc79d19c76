namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// Eigen-decomposition of a real symmetric matrix by the cyclic Jacobi method, in float64:
/// <c>A = V diag(w) Vᵀ</c>, eigenvalues w in descending order, eigenvectors the columns of V.
/// Each rotation in the (p, q) plane zeroes <c>A[p,q]</c>: <c>θ = (A[q,q] − A[p,p]) / (2 A[p,q])</c>,
/// <c>t = sign(θ) / (|θ| + √(θ² + 1))</c>, <c>c = 1/√(t² + 1)</c>, <c>s = t c</c>; sweeps over all pairs repeat
/// until no off-diagonal element is above rounding level.
/// </summary>
internal static class SymmetricEigen
{
    /// <summary>Most sweeps before giving up (convergence is quadratic; a few dozen is far beyond need).</summary>
    internal const int MaxSweeps = 100;

    /// <summary>
    /// Decomposes the symmetric <paramref name="a"/> (n, n) — symmetrised as <c>(A + Aᵀ)/2</c> — into
    /// <paramref name="eigenvalues"/> (n, descending) and <paramref name="eigenvectors"/> (n, n), column j for eigenvalue j.
    /// </summary>
    /// <exception cref="ArgumentException">A span is too short or A holds a non-finite value.</exception>
    public static void Decompose(ReadOnlySpan<float> a, int n, Span<float> eigenvalues, Span<float> eigenvectors)
    {
        DenseKernels.Require("Eigen input A", a.Length, n, n);
        DenseKernels.Require("Eigen output values", eigenvalues.Length, 1, n);
        DenseKernels.Require("Eigen output vectors", eigenvectors.Length, n, n);
        var m = new double[n * n]; // (n, n) symmetric working copy
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double v = 0.5 * ((double)a[i * n + j] + a[j * n + i]);
                if (!double.IsFinite(v)) throw new ArgumentException($"Eigen: A[{i},{j}] is not finite.");
                m[i * n + j] = v;
            }
        var w = new double[n];      // (n) eigenvalues, descending
        var vt = new double[n * n]; // (n, n) row j = eigenvector j
        DecomposeInPlace(m, n, w, vt);
        for (int j = 0; j < n; j++)
        {
            eigenvalues[j] = (float)w[j];
            for (int i = 0; i < n; i++) eigenvectors[i * n + j] = (float)vt[j * n + i];
        }
    }

    /// <summary>
    /// Jacobi on the symmetric float64 <paramref name="a"/> (n, n; destroyed): <paramref name="values"/> (n) descending and
    /// <paramref name="vectorRows"/> (n, n) whose row j is the unit eigenvector of value j.
    /// </summary>
    internal static void DecomposeInPlace(double[] a, int n, double[] values, double[] vectorRows)
    {
        var vt = new double[n * n]; // (n, n) rows are the accumulated rotation's columns
        for (int i = 0; i < n; i++) vt[i * n + i] = 1.0;
        double frob = Math.Sqrt(DenseKernels.Dot(a, a));
        double absTiny = 1e-300 + 1e-17 * frob;
        for (int sweep = 0; sweep < MaxSweeps; sweep++)
        {
            bool rotated = false;
            for (int p = 0; p < n - 1; p++)
            {
                for (int q = p + 1; q < n; q++)
                {
                    double apq = a[p * n + q];
                    double app = a[p * n + p], aqq = a[q * n + q];
                    if (Math.Abs(apq) <= absTiny || Math.Abs(apq) <= 1e-16 * Math.Sqrt(Math.Abs(app * aqq)))
                    {
                        a[p * n + q] = a[q * n + p] = 0.0;
                        continue;
                    }
                    rotated = true;
                    double theta = (aqq - app) / (2.0 * apq);
                    double t = Math.Abs(theta) > 1e150
                        ? 0.5 / theta
                        : Math.Sign(theta == 0 ? 1.0 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1.0));
                    double c = 1.0 / Math.Sqrt(t * t + 1.0), s = t * c;
                    // Rows p and q: A' = Jᵀ A (then mirrored to columns, keeping A symmetric).
                    DenseKernels.Rotate(a.AsSpan(p * n, n), a.AsSpan(q * n, n), c, s);
                    for (int r = 0; r < n; r++)
                    {
                        a[r * n + p] = a[p * n + r];
                        a[r * n + q] = a[q * n + r];
                    }
                    a[p * n + p] = app - t * apq;
                    a[q * n + q] = aqq + t * apq;
                    a[p * n + q] = a[q * n + p] = 0.0;
                    DenseKernels.Rotate(vt.AsSpan(p * n, n), vt.AsSpan(q * n, n), c, s);
                }
            }
            if (!rotated) break;
        }
        // Sort descending (stable on ties by index, so the order is deterministic).
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Array.Sort(order, (x, y) => a[y * n + y].CompareTo(a[x * n + x]) is int cmp && cmp != 0 ? cmp : x.CompareTo(y));
        for (int j = 0; j < n; j++)
        {
            values[j] = a[order[j] * n + order[j]];
            vt.AsSpan(order[j] * n, n).CopyTo(vectorRows.AsSpan(j * n, n));
        }
    }
}
