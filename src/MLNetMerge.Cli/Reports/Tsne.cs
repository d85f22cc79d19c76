using MLNetMerge.Tensors;
using System.Numerics.Tensors;

namespace MLNetMerge.Cli.Reports;

/// <summary>Settings of <see cref="Tsne"/>; the defaults follow van der Maaten &amp; Hinton (2008) and their reference
/// implementation (perplexity 30, 1000 iterations, exaggeration 4 for the first 100, momentum 0.5 then 0.8 after 250,
/// adaptive gains with a floor of 0.01).</summary>
internal sealed record TsneOptions
{
    /// <summary>Target perplexity of each point's conditional distribution: <c>2^H(P_i) = perplexity</c>.</summary>
    public double Perplexity { get; init; } = 30;

    /// <summary>Gradient-descent iterations.</summary>
    public int Iterations { get; init; } = 1000;

    /// <summary>Learning rate η.</summary>
    public double LearningRate { get; init; } = 200;

    /// <summary>Factor on P during the first <see cref="ExaggerationIterations"/> iterations.</summary>
    public double EarlyExaggeration { get; init; } = 4;

    /// <summary>Iterations with exaggerated P.</summary>
    public int ExaggerationIterations { get; init; } = 100;

    /// <summary>Momentum before <see cref="MomentumSwitch"/>.</summary>
    public double InitialMomentum { get; init; } = 0.5;

    /// <summary>Momentum from <see cref="MomentumSwitch"/> on.</summary>
    public double FinalMomentum { get; init; } = 0.8;

    /// <summary>Iteration at which the momentum switches.</summary>
    public int MomentumSwitch { get; init; } = 250;

    /// <summary>Lower bound of the adaptive gains.</summary>
    public double MinGain { get; init; } = 0.01;

    /// <summary>Seed of the initial layout <c>y ~ N(0, 10⁻⁴ I)</c>.</summary>
    public ulong Seed { get; init; }

    /// <summary>Tolerance on the entropy (nats) in the binary search for each point's precision.</summary>
    public double EntropyTolerance { get; init; } = 1e-5;
}

/// <summary>Result of <see cref="Tsne.Embed"/>.</summary>
/// <param name="Embedding">Coordinates (N, 2), row-major.</param>
/// <param name="Betas">Per point, the precision <c>β_i = 1 / (2σ_i²)</c> found by the binary search (N).</param>
/// <param name="KlDivergence">Final <c>KL(P ‖ Q) = Σ p_ij log(p_ij / q_ij)</c> (without exaggeration).</param>
internal sealed record TsneResult(float[] Embedding, double[] Betas, double KlDivergence);

/// <summary>
/// Exact t-SNE (van der Maaten &amp; Hinton 2008), O(N²) per iteration, for at most <see cref="MaxPoints"/> points.
/// Input affinities: <c>p_j|i = exp(−β_i d_ij²) / Σ_k≠i exp(−β_i d_ik²)</c> with β_i found by binary search so that
/// <c>H(P_i) = −Σ_j p_j|i log2 p_j|i = log2(perplexity)</c>; symmetrised <c>p_ij = (p_j|i + p_i|j) / 2N</c>.
/// Output affinities: Student-t, <c>q_ij = (1 + ‖y_i − y_j‖²)⁻¹ / Σ_k≠l (1 + ‖y_k − y_l‖²)⁻¹</c>.
/// Gradient <c>∂C/∂y_i = 4 Σ_j (p_ij − q_ij)(y_i − y_j)(1 + ‖y_i − y_j‖²)⁻¹</c>, descended with momentum and
/// delta-bar-delta gains (gain + 0.2 when the gradient's sign differs from the last update's, × 0.8 otherwise).
/// Seeded and single-threaded: the same input and options give the same coordinates.
/// </summary>
internal static class Tsne
{
    /// <summary>Largest N accepted (the (N, N) matrices are kept in memory).</summary>
    public const int MaxPoints = 2000;

    /// <summary>Embeds <paramref name="n"/> points of dimension <paramref name="d"/> into 2-D.</summary>
    /// <param name="x">Points (N, D), row-major.</param>
    /// <param name="n">N (4 … <see cref="MaxPoints"/>, and more than the perplexity + 1).</param>
    /// <param name="d">D.</param>
    /// <param name="options">Settings (defaults: <see cref="TsneOptions"/>).</param>
    /// <exception cref="ArgumentException">Sizes disagree, N is out of range or the perplexity is not below N − 1.</exception>
    public static TsneResult Embed(ReadOnlySpan<float> x, int n, int d, TsneOptions? options = null)
    {
        options ??= new TsneOptions();
        if (n < 4 || n > MaxPoints) throw new ArgumentException($"t-SNE takes 4 to {MaxPoints} points; got {n}.");
        if (d < 1 || x.Length != n * d) throw new ArgumentException($"t-SNE input has {x.Length} values; expected N·D = {n}·{d}.");
        if (!(options.Perplexity > 1 && options.Perplexity < n - 1)) throw new ArgumentException($"perplexity {options.Perplexity} must lie between 1 and N − 1 = {n - 1}.");

        var dist = new double[n * n];                                       // (N, N) squared distances
        SquaredDistances(x, n, d, dist);
        var cond = new double[n * n];                                       // (N, N) p_j|i
        var betas = ConditionalProbabilities(dist, n, options.Perplexity, cond, options.EntropyTolerance);
        var p = new float[n * n];                                           // (N, N) p_ij, symmetric
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                p[i * n + j] = i == j ? 0f : (float)Math.Max((cond[i * n + j] + cond[j * n + i]) / (2.0 * n), 1e-12);

        var yx = new float[n]; var yy = new float[n];                        // (N) coordinates
        var ux = new float[n]; var uy = new float[n];                        // (N) last updates
        var gx = new float[n]; var gy = new float[n];                        // (N) gradient
        var gainX = new float[n]; var gainY = new float[n];                  // (N) adaptive gains
        Array.Fill(gainX, 1f); Array.Fill(gainY, 1f);
        var rng = RandomStreams.Create(options.Seed, "tsne.init");
        for (int i = 0; i < n; i++) { yx[i] = (float)(1e-2 * rng.NextGaussian()); yy[i] = (float)(1e-2 * rng.NextGaussian()); }
        var num = new float[n * n];                                          // (N, N) (1 + ‖y_i − y_j‖²)⁻¹, zero diagonal
        var w = new float[n];                                                // (N) scratch row

        for (int it = 0; it < options.Iterations; it++)
        {
            float exaggeration = it < options.ExaggerationIterations ? (float)options.EarlyExaggeration : 1f;
            Gradient(gx, gy, num, w, p, yx, yy, n, exaggeration);
            float momentum = (float)(it < options.MomentumSwitch ? options.InitialMomentum : options.FinalMomentum);
            Step(yx, ux, gainX, gx, momentum, (float)options.LearningRate, (float)options.MinGain);
            Step(yy, uy, gainY, gy, momentum, (float)options.LearningRate, (float)options.MinGain);
            TensorPrimitives.Subtract(yx, TensorPrimitives.Sum<float>(yx) / n, yx);
            TensorPrimitives.Subtract(yy, TensorPrimitives.Sum<float>(yy) / n, yy);
        }
        var embedding = new float[n * 2];                                    // (N, 2)
        for (int i = 0; i < n; i++) { embedding[2 * i] = yx[i]; embedding[2 * i + 1] = yy[i]; }
        return new TsneResult(embedding, betas, KlDivergence(p, embedding, n));
    }

    /// <summary><c>dist[i, j] = ‖x_i − x_j‖²</c> (N, N), symmetric with a zero diagonal.</summary>
    public static void SquaredDistances(ReadOnlySpan<float> x, int n, int d, Span<double> dist)
    {
        if (dist.Length != n * n || x.Length != n * d) throw new ArgumentException("squared distances: sizes disagree.");
        for (int i = 0; i < n; i++)
        {
            dist[i * n + i] = 0;
            for (int j = i + 1; j < n; j++)
            {
                double e = TensorPrimitives.Distance(x.Slice(i * d, d), x.Slice(j * d, d));
                dist[i * n + j] = dist[j * n + i] = e * e;
            }
        }
    }

    /// <summary>
    /// Per row i, the precision β_i whose conditional distribution <c>p_j|i ∝ exp(−β_i dist[i, j])</c> (j ≠ i, p_i|i = 0)
    /// has entropy <c>log(perplexity)</c> nats within <paramref name="tolerance"/>: bisection on β, doubling (or halving)
    /// until the target is bracketed. Entropy of a row: <c>H = log S + β Σ_j d'_j e_j / S</c> with <c>d' = d − min d</c>,
    /// <c>e = exp(−β d')</c>, <c>S = Σ e</c> (shifting by the row's minimum keeps exp in range and leaves p unchanged).
    /// </summary>
    /// <param name="dist">Squared distances (N, N).</param>
    /// <param name="n">N.</param>
    /// <param name="perplexity">Target perplexity.</param>
    /// <param name="p">Output (N, N) conditional probabilities, rows summing to 1.</param>
    /// <param name="tolerance">Entropy tolerance in nats.</param>
    /// <returns>β per row (N).</returns>
    public static double[] ConditionalProbabilities(ReadOnlySpan<double> dist, int n, double perplexity, Span<double> p, double tolerance = 1e-5)
    {
        if (dist.Length != n * n || p.Length != n * n) throw new ArgumentException("conditional probabilities: sizes disagree.");
        double target = Math.Log(perplexity);
        var betas = new double[n];
        var row = new double[n - 1];                                         // (N−1) shifted distances without the point itself
        var e = new double[n - 1];                                           // (N−1) exp(−β d')
        for (int i = 0; i < n; i++)
        {
            for (int j = 0, k = 0; j < n; j++) if (j != i) row[k++] = dist[i * n + j];
            double min = TensorPrimitives.Min<double>(row);
            TensorPrimitives.Subtract(row, min, row);
            double mean = TensorPrimitives.Sum<double>(row) / row.Length;
            double beta = mean > 0 ? 1 / mean : 1, lo = 0, hi = double.PositiveInfinity, sum = 0;
            for (int step = 0; step < 200; step++)
            {
                TensorPrimitives.Multiply(row, -beta, e);
                TensorPrimitives.Exp(e, e);
                sum = TensorPrimitives.Sum<double>(e);
                double h = Math.Log(sum) + beta * TensorPrimitives.Dot<double>(row, e) / sum;
                if (Math.Abs(h - target) < tolerance) break;
                if (h > target) { lo = beta; beta = double.IsPositiveInfinity(hi) ? beta * 2 : (beta + hi) / 2; }
                else { hi = beta; beta = (beta + lo) / 2; }
            }
            betas[i] = beta;
            for (int j = 0, k = 0; j < n; j++) p[i * n + j] = j == i ? 0 : e[k++] / sum;
        }
        return betas;
    }

    /// <summary>Entropy in bits of a probability row: <c>−Σ p log2 p</c> over its non-zero entries.</summary>
    public static double EntropyBits(ReadOnlySpan<double> row)
    {
        double h = 0;
        foreach (double v in row) if (v > 0) h -= v * Math.Log2(v);
        return h;
    }

    /// <summary><c>KL(P ‖ Q) = Σ_{i≠j} p_ij log(p_ij / q_ij)</c> for the layout <paramref name="y"/> (N, 2).</summary>
    public static double KlDivergence(ReadOnlySpan<float> p, ReadOnlySpan<float> y, int n)
    {
        if (p.Length != n * n || y.Length != 2 * n) throw new ArgumentException("KL divergence: sizes disagree.");
        double z = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j) z += 1 / (1 + Sq(y[2 * i] - y[2 * j]) + Sq(y[2 * i + 1] - y[2 * j + 1]));
        double kl = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double pij = p[i * n + j];
                if (i == j || pij <= 0) continue;
                double q = 1 / (1 + Sq(y[2 * i] - y[2 * j]) + Sq(y[2 * i + 1] - y[2 * j + 1])) / z;
                kl += pij * Math.Log(pij / q);
            }
        return kl;
    }

    /// <summary>
    /// <c>g_i = 4 Σ_j (a·p_ij − num_ij / Z) num_ij (y_i − y_j)</c> with <c>num_ij = (1 + ‖y_i − y_j‖²)⁻¹</c>,
    /// <c>Z = Σ_{k≠l} num_kl</c> and exaggeration a; computed row by row as <c>4 (y_i Σ_j w_ij − Σ_j w_ij y_j)</c>.
    /// </summary>
    internal static void Gradient(Span<float> gx, Span<float> gy, Span<float> num, Span<float> w, ReadOnlySpan<float> p,
        ReadOnlySpan<float> yx, ReadOnlySpan<float> yy, int n, float exaggeration)
    {
        double z = 0;
        for (int i = 0; i < n; i++)
        {
            var row = num.Slice(i * n, n);                                    // (N)
            TensorPrimitives.Subtract(yx, yx[i], w);
            TensorPrimitives.Multiply(w, w, row);                             // (x_j − x_i)²
            TensorPrimitives.Subtract(yy, yy[i], w);
            TensorPrimitives.MultiplyAdd(w, w, row, row);                     // + (y_j − y_i)²
            TensorPrimitives.Add(row, 1f, row);
            TensorPrimitives.Reciprocal(row, row);
            row[i] = 0;
            z += TensorPrimitives.Sum<float>(row);
        }
        float invZ = (float)(1 / z);
        for (int i = 0; i < n; i++)
        {
            var row = num.Slice(i * n, n);
            TensorPrimitives.Multiply(row, -invZ, w);                         // −q_ij
            TensorPrimitives.MultiplyAdd(p.Slice(i * n, n), exaggeration, w, w); // a·p_ij − q_ij
            TensorPrimitives.Multiply(w, row, w);                             // × num_ij
            float s = TensorPrimitives.Sum<float>(w);
            gx[i] = 4 * (yx[i] * s - TensorPrimitives.Dot(w, yx));
            gy[i] = 4 * (yy[i] * s - TensorPrimitives.Dot(w, yy));
        }
    }

    /// <summary>Delta-bar-delta gains and a momentum step: <c>u ← m·u − η·gain·g</c>, <c>y ← y + u</c>.</summary>
    private static void Step(Span<float> y, Span<float> u, Span<float> gain, ReadOnlySpan<float> g, float momentum, float eta, float minGain)
    {
        for (int i = 0; i < y.Length; i++)
        {
            gain[i] = (g[i] > 0) != (u[i] > 0) ? gain[i] + 0.2f : gain[i] * 0.8f;
            if (gain[i] < minGain) gain[i] = minGain;
            u[i] = momentum * u[i] - eta * gain[i] * g[i];
            y[i] += u[i];
        }
    }

    private static double Sq(double v) => v * v;
}
