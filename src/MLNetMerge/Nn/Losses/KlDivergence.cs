using System.Numerics;

namespace MLNetMerge.Nn.Losses;

/// <summary>
/// KL divergence between the softmax distributions of two sets of logits, averaged over the batch:
/// <c>p = softmax(a)</c>, <c>q = softmax(b)</c>, <c>L = (1/N) Σ_i Σ_j p_ij (log p_ij − log q_ij)</c>.
/// Gradients: <c>∂L/∂b_ij = (q_ij − p_ij)/N</c>; with <c>r_ij = log p_ij − log q_ij</c> and <c>KL_i = Σ_j p_ij r_ij</c>,
/// <c>∂L/∂a_ij = p_ij (r_ij − KL_i)/N</c>.
/// </summary>
internal static class KlDivergence
{
    /// <summary>Forward pass; returns the mean KL(p‖q).</summary>
    /// <param name="logP">Cache: log-softmax of <paramref name="a"/> (N, K).</param>
    /// <param name="logQ">Cache: log-softmax of <paramref name="b"/> (N, K).</param>
    /// <param name="a">Logits of p (N, K).</param>
    /// <param name="b">Logits of q (N, K).</param>
    /// <param name="n">N.</param>
    /// <param name="k">K.</param>
    public static T Forward<T>(Span<T> logP, Span<T> logQ, ReadOnlySpan<T> a, ReadOnlySpan<T> b, int n, int k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        LogSoftmax.Rows(logP, a, n, k);
        LogSoftmax.Rows(logQ, b, n, k);
        T loss = T.Zero;
        for (int i = 0; i < n * k; i++) loss += T.Exp(logP[i]) * (logP[i] - logQ[i]);
        return loss / T.CreateTruncating(n);
    }

    /// <summary>Backward pass; adds into either logit gradient (an empty span is skipped).</summary>
    /// <param name="dA">Gradient for the logits of p (N, K), or empty (e.g. a fixed teacher).</param>
    /// <param name="dB">Gradient for the logits of q (N, K), or empty.</param>
    /// <param name="logP">Cache (N, K).</param>
    /// <param name="logQ">Cache (N, K).</param>
    /// <param name="n">N.</param>
    /// <param name="k">K.</param>
    /// <param name="scale">Upstream gradient.</param>
    public static void Backward<T>(Span<T> dA, Span<T> dB, ReadOnlySpan<T> logP, ReadOnlySpan<T> logQ, int n, int k, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T s = scale / T.CreateTruncating(n);
        for (int i = 0; i < n; i++)
        {
            int o = i * k;
            T kl = T.Zero;
            for (int j = 0; j < k; j++) kl += T.Exp(logP[o + j]) * (logP[o + j] - logQ[o + j]);
            for (int j = 0; j < k; j++)
            {
                T p = T.Exp(logP[o + j]);
                if (!dA.IsEmpty) dA[o + j] += s * p * (logP[o + j] - logQ[o + j] - kl);
                if (!dB.IsEmpty) dB[o + j] += s * (T.Exp(logQ[o + j]) - p);
            }
        }
    }
}
