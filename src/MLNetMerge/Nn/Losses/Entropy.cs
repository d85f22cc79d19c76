using System.Numerics;

namespace MLNetMerge.Nn.Losses;

/// <summary>
/// Shannon entropy of the softmax of logits, averaged over the batch (the AdaMerging objective):
/// <c>H = −(1/N) Σ_i Σ_j p_ij log p_ij</c>; gradient <c>∂H/∂z_ij = −p_ij (log p_ij + H_i)/N</c> with H_i the row's entropy.
/// </summary>
internal static class Entropy
{
    /// <summary>Forward pass; returns the mean entropy (nats).</summary>
    /// <param name="logProbabilities">Cache: log-softmax (N, K).</param>
    /// <param name="logits">Logits (N, K).</param>
    /// <param name="n">N.</param>
    /// <param name="k">K.</param>
    public static T Forward<T>(Span<T> logProbabilities, ReadOnlySpan<T> logits, int n, int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        LogSoftmax.Rows(logProbabilities, logits, n, k);
        T h = T.Zero;
        for (int i = 0; i < n * k; i++) h -= T.Exp(logProbabilities[i]) * logProbabilities[i];
        return h / T.CreateTruncating(n);
    }

    /// <summary>Backward pass: <c>dLogits += scale · ∂H/∂z</c>.</summary>
    /// <param name="dLogits">Logit gradient (N, K).</param>
    /// <param name="logProbabilities">Cache (N, K).</param>
    /// <param name="n">N.</param>
    /// <param name="k">K.</param>
    /// <param name="scale">Upstream gradient.</param>
    public static void Backward<T>(Span<T> dLogits, ReadOnlySpan<T> logProbabilities, int n, int k, T scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T s = scale / T.CreateTruncating(n);
        for (int i = 0; i < n; i++)
        {
            int o = i * k;
            T hi = T.Zero;
            for (int j = 0; j < k; j++) hi -= T.Exp(logProbabilities[o + j]) * logProbabilities[o + j];
            for (int j = 0; j < k; j++)
            {
                T lp = logProbabilities[o + j];
                dLogits[o + j] -= s * T.Exp(lp) * (lp + hi);
            }
        }
    }
}
