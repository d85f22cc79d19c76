namespace MLNetMerge.Tensors.LinearAlgebra;

/// <summary>
/// The eigenproblem of a rank-one modified diagonal matrix <c>D + ρ z zᵀ</c> (d strictly increasing, every z_i ≠ 0,
/// ρ &gt; 0), the merge step of <see cref="TridiagonalDivideConquer"/>. Its eigenvalues are the K roots of the secular
/// equation <c>f(λ) = 1 + ρ Σ_i z_i² / (d_i − λ)</c>, one in each (d_j, d_{j+1}) and the last in (d_{K−1}, d_{K−1} + ρ‖z‖²).
/// <para>
/// Root j is found relative to the nearer pole (the origin o: d_j when <c>f</c> at the interval's midpoint is ≥ 0, else
/// d_{j+1}), as <c>λ = d_o + μ</c>, so the differences <c>δ_i = d_i − λ = (d_i − d_o) − μ</c> that the eigenvectors
/// divide by keep their relative accuracy even for the pole next to the root. Each step fits the two-pole model
/// <c>c + b₁/(δ_j − η) + b₂/(δ_{j+1} − η)</c> to f and f′ at the current point (b₁ = ψ′δ_j², b₂ = φ′δ_{j+1}², ψ the
/// terms i ≤ j, φ the rest; one pole for the last root) and moves to the model's root between the poles; a step that
/// leaves the bracket kept from the signs of f is replaced by bisection (Bunch, Nielsen and Sorensen 1978; Li 1993).
/// </para>
/// <para>
/// The eigenvectors then follow Gu and Eisenstat (1995): with the computed roots, the vector ẑ for which they are
/// exact, <c>ẑ_i² = ((λ_i − d_i)/ρ) Π_{j≠i} (λ_j − d_i)/(d_j − d_i)</c> (sign of z_i), gives eigenvector j as
/// <c>u_i ∝ ẑ_i / (d_i − λ_j)</c>; these are orthogonal to working precision however close the roots lie.
/// </para>
/// </summary>
internal static class SecularEquation
{
    private const int MaxIterations = 200;

    /// <summary>
    /// Solves <c>D + ρ z zᵀ</c> for <paramref name="d"/> (k, strictly increasing), <paramref name="z"/> (k, non-zero) and
    /// <paramref name="rho"/> &gt; 0: <paramref name="lambda"/> (k, increasing) and <paramref name="u"/> (k, k) whose row j
    /// is the unit eigenvector of λ_j (coordinates in the basis of D's unit vectors). <paramref name="diff"/> is scratch (k).
    /// </summary>
    internal static void Solve(ReadOnlySpan<double> d, ReadOnlySpan<double> z, double rho, int k, Span<double> lambda, Span<double> u, Span<double> diff)
    {
        if (k == 1)
        {
            lambda[0] = d[0] + rho * z[0] * z[0];
            u[0] = 1.0;
            return;
        }
        double zz = 0;
        for (int i = 0; i < k; i++) zz += z[i] * z[i];
        for (int j = 0; j < k; j++) lambda[j] = Root(d, z, rho, zz, k, j, u.Slice(j * k, k), diff);
        // ẑ from the roots (Gu–Eisenstat); row j of u holds δ_ij = d_i − λ_j until it is turned into eigenvector j.
        // The products run over j in the outer loop, so row j of u is read once and in order (each ẑ_i still takes its
        // factors in increasing j: the same bits as the product taken one i at a time down u's columns).
        Span<double> zhat = diff;
        for (int i = 0; i < k; i++) zhat[i] = -u[i * k + i] / rho;            // (λ_i − d_i)/ρ
        for (int j = 0; j < k; j++)
        {
            var row = u.Slice(j * k, k);
            double dj = d[j];
            for (int i = 0; i < k; i++)
                if (i != j) zhat[i] *= -row[i] / (dj - d[i]);                 // (λ_j − d_i)/(d_j − d_i) > 0 by interlacing
        }
        for (int i = 0; i < k; i++) zhat[i] = Math.CopySign(Math.Sqrt(Math.Max(zhat[i], 0.0)), z[i]);
        for (int j = 0; j < k; j++)
        {
            var row = u.Slice(j * k, k);
            double norm = 0;
            for (int i = 0; i < k; i++)
            {
                row[i] = zhat[i] / row[i];
                norm += row[i] * row[i];
            }
            double inv = 1.0 / Math.Sqrt(norm);
            for (int i = 0; i < k; i++) row[i] *= inv;
        }
    }

    /// <summary>Root j; writes <c>δ_i = d_i − λ_j</c> for every i into <paramref name="delta"/> and returns λ_j.</summary>
    private static double Root(ReadOnlySpan<double> d, ReadOnlySpan<double> z, double rho, double zz, int k, int j, Span<double> delta, Span<double> diff)
    {
        int o;
        double lo, hi;                                          // bracket of μ = λ − d_o
        if (j == k - 1)
        {
            o = j;
            lo = 0;
            hi = rho * zz;
        }
        else
        {
            double half = 0.5 * (d[j + 1] - d[j]);
            double f = 1.0;
            for (int i = 0; i < k; i++) f += rho * z[i] * z[i] / (d[i] - d[j] - half);
            if (f >= 0) { o = j; lo = 0; hi = half; }
            else { o = j + 1; lo = -half; hi = 0; }
        }
        for (int i = 0; i < k; i++) diff[i] = d[i] - d[o];
        double mu = 0.5 * (lo + hi);
        for (int iter = 0; iter < MaxIterations; iter++)
        {
            double psi = 0, dpsi = 0, phi = 0, dphi = 0;
            for (int i = 0; i < k; i++)
            {
                double di = diff[i] - mu;
                delta[i] = di;
                double t = z[i] / di;
                double term = rho * z[i] * t, dterm = rho * t * t;
                if (i <= j) { psi += term; dpsi += dterm; }
                else { phi += term; dphi += dterm; }
            }
            double fv = 1.0 + psi + phi;
            if (fv == 0) break;
            if (fv < 0) lo = mu; else hi = mu;
            if (Math.Abs(fv) <= (k + 8) * 2.2e-16 * (1.0 + Math.Abs(psi) + Math.Abs(phi))) break; // f is zero to rounding
            if (hi - lo <= 4.4e-16 * Math.Max(Math.Abs(lo), Math.Abs(hi))) break;
            double eta = Step(delta, j, k, fv, dpsi, dphi);
            double next = mu + eta;
            if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
            if (next == mu) break;
            mu = next;
        }
        for (int i = 0; i < k; i++) delta[i] = diff[i] - mu;
        return d[o] + mu;
    }

    /// <summary>
    /// The step η to the root of the model fitted at the current point: one pole for the last root
    /// (<c>η = δ_j + b₁/c</c>), else the root in (δ_j, δ_{j+1}) of <c>c η² − B η + δ_j δ_{j+1} f = 0</c>,
    /// <c>B = c(δ_j + δ_{j+1}) + b₁ + b₂</c>. NaN when the model has no usable root (the caller bisects).
    /// </summary>
    private static double Step(ReadOnlySpan<double> delta, int j, int k, double f, double dpsi, double dphi)
    {
        double dj = delta[j];
        if (j == k - 1)
        {
            double c1 = f - dpsi * dj;
            return c1 > 0 ? dj + dpsi * dj * dj / c1 : double.NaN;
        }
        double dj1 = delta[j + 1];
        double c = f - dpsi * dj - dphi * dj1;
        double b = c * (dj + dj1) + dpsi * dj * dj + dphi * dj1 * dj1;
        double cc = dj * dj1 * f;
        if (c == 0) return cc / b;
        double disc = Math.Sqrt(Math.Max(b * b - 4 * c * cc, 0.0));
        double q = b >= 0 ? b + disc : b - disc;               // no cancellation in q
        double r1 = q / (2 * c), r2 = q == 0 ? double.NaN : 2 * cc / q;
        bool in1 = r1 > dj && r1 < dj1, in2 = r2 > dj && r2 < dj1;
        return in2 ? r2 : in1 ? r1 : double.NaN;
    }
}
