namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// The implicit QL iteration with Wilkinson-style shifts on a symmetric tridiagonal matrix (d, e), the one sweep every
/// eigensolver here shares. For each l it looks for the first m ≥ l with <c>|e_m| ≤ 2.3e−16 (|d_m| + |d_{m+1}|)</c>
/// (a split), and while m ≠ l runs one sweep on rows l..m: shift from the leading 2×2 block,
/// <c>g = d_m − d_l + e_l / (g₀ ± √(g₀² + 1))</c>, <c>g₀ = (d_{l+1} − d_l) / 2e_l</c>, then the chain of plane rotations
/// i = m−1 … l chasing the bulge up. Rotation i is handed to the rotation sink (eigenvectors: rows i and
/// i+1 of Zᵀ become <c>z_i ← c z_i − s z_{i+1}</c>, <c>z_{i+1} ← s z_i + c z_{i+1}</c>), so one sweep serves the
/// eigenvalue-only solver, the row-by-row one and the deferred column-strip one with the same arithmetic.
/// </summary>
internal static class TridiagonalQl
{
    /// <summary>Where the rotations of a sweep go.</summary>
    internal interface IRotationSink
    {
        /// <summary>A sweep whose first rotation acts on rows <paramref name="top"/> and top+1 begins.</summary>
        void Begin(int top);

        /// <summary>Rotation of rows <paramref name="i"/> and i+1 by (<paramref name="c"/>, <paramref name="s"/>).</summary>
        void Rotate(int i, double c, double s);
    }

    /// <summary>Eigenvalues only: rotations are dropped.</summary>
    internal struct NoVectors : IRotationSink
    {
        /// <inheritdoc />
        public readonly void Begin(int top) { }

        /// <inheritdoc />
        public readonly void Rotate(int i, double c, double s) { }
    }

    /// <summary>
    /// Runs the iteration on <paramref name="d"/> (n) and <paramref name="e"/> (n; e[i] couples i and i+1, e[n−1] = 0):
    /// on return d holds the eigenvalues (unordered) and e is destroyed.
    /// </summary>
    /// <exception cref="InvalidOperationException">A sweep did not converge in 200 iterations (non-finite input).</exception>
    internal static void Run<TSink>(double[] d, double[] e, int n, ref TSink sink) where TSink : struct, IRotationSink
    {
        for (int l = 0; l < n; l++)
        {
            int iter = 0, m;
            while (true)
            {
                for (m = l; m < n - 1; m++)
                {
                    double dd = Math.Abs(d[m]) + Math.Abs(d[m + 1]);
                    if (Math.Abs(e[m]) <= 2.3e-16 * dd) break;
                }
                if (m == l) break;
                if (iter++ == 200) throw new InvalidOperationException("Tridiagonal QL did not converge.");
                double g = (d[l + 1] - d[l]) / (2.0 * e[l]);
                double r = Hypot(g, 1.0);
                g = d[m] - d[l] + e[l] / (g + (g >= 0 ? Math.Abs(r) : -Math.Abs(r)));
                double s = 1.0, c = 1.0, p = 0.0;
                bool deflated = false;
                sink.Begin(m - 1);
                for (int i = m - 1; i >= l; i--)
                {
                    double f = s * e[i], b = c * e[i];
                    e[i + 1] = r = Hypot(f, g);
                    if (r == 0.0)
                    {
                        d[i + 1] -= p;
                        e[m] = 0.0;
                        deflated = true;
                        break;
                    }
                    s = f / r;
                    c = g / r;
                    g = d[i + 1] - p;
                    r = (d[i] - g) * s + 2.0 * c * b;
                    p = s * r;
                    d[i + 1] = g + p;
                    g = c * r - b;
                    sink.Rotate(i, c, s);
                }
                if (deflated) continue;
                d[l] -= p;
                e[l] = g;
                e[m] = 0.0;
            }
        }
    }

    /// <summary><c>√(x² + y²)</c> without overflow: the larger magnitude times <c>√(1 + t²)</c>, t the ratio.</summary>
    internal static double Hypot(double x, double y)
    {
        double ax = Math.Abs(x), ay = Math.Abs(y);
        if (ax < ay) (ax, ay) = (ay, ax);
        if (ax == 0.0) return 0.0;
        double t = ay / ax;
        return ax * Math.Sqrt(1.0 + t * t);
    }
}
