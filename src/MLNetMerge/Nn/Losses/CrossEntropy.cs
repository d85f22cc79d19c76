using System.Numerics;
using System.Numerics.Tensors;

namespace MLNetMerge.Nn.Losses;

/// <summary>
/// Softmax cross-entropy averaged over the batch. Hard labels: <c>L = −(1/N) Σ_i log p_i[y_i]</c>, gradient
/// <c>dz_i = (p_i − onehot(y_i))/N</c>. Soft targets: <c>L = −(1/N) Σ_i Σ_j t_ij log p_ij</c>, gradient
/// <c>dz_ij = (p_ij · Σ_k t_ik − t_ij)/N</c>. <c>p = softmax(z)</c> per row.
/// </summary>
internal static class CrossEntropy
{
    /// <summary>Forward with hard labels; returns the mean loss.</summary>
    /// <param name="logProbabilities">Cache: log-softmax of the logits (N, K).</param>
    /// <param name="logits">Logits (N, K).</param>
    /// <param name="labels">Class indices (N), each in [0, K).</param>
    /// <param name="n">N.</param>
    /// <param name="k">K classes.</param>
    public static T Forward<T>(Span<T> logProbabilities, ReadOnlySpan<T> logits, ReadOnlySpan<int> labels, int n, int k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        LogSoftmax.Rows(logProbabilities, logits, n, k);
        T loss = T.Zero;
        for (int i = 0; i < n; i++)
        {
            if ((uint)labels[i] >= (uint)k) throw new ArgumentOutOfRangeException(nameof(labels), $"label {labels[i]} of example {i} is outside [0, {k}).");
            loss -= logProbabilities[i * k + labels[i]];
        }
        return loss / T.CreateTruncating(n);
    }

    /// <summary>Backward with hard labels: <c>dLogits += scale · (p − onehot)/N</c>.</summary>
    /// <param name="dLogits">Logit gradient (N, K).</param>
    /// <param name="logProbabilities">Cache from the forward pass (N, K).</param>
    /// <param name="labels">Class indices (N).</param>
    /// <param name="n">N.</param>
    /// <param name="k">K.</param>
    /// <param name="scale">Gradient of the final objective with respect to this loss (1 when it is the objective).</param>
    public static void Backward<T>(Span<T> dLogits, ReadOnlySpan<T> logProbabilities, ReadOnlySpan<int> labels, int n, int k, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T s = scale / T.CreateTruncating(n);
        for (int i = 0; i < n; i++)
        {
            var d = dLogits.Slice(i * k, k);
            var lp = logProbabilities.Slice(i * k, k);
            for (int j = 0; j < k; j++) d[j] += s * T.Exp(lp[j]);
            d[labels[i]] -= s;
        }
    }

    /// <summary>Forward with soft targets (rows of probabilities, e.g. label smoothing or distillation); returns the mean loss.</summary>
    /// <param name="logProbabilities">Cache: log-softmax of the logits (N, K).</param>
    /// <param name="logits">Logits (N, K).</param>
    /// <param name="targets">Target distributions (N, K).</param>
    /// <param name="n">N.</param>
    /// <param name="k">K.</param>
    public static T ForwardSoft<T>(Span<T> logProbabilities, ReadOnlySpan<T> logits, ReadOnlySpan<T> targets, int n, int k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        LogSoftmax.Rows(logProbabilities, logits, n, k);
        T loss = -TensorPrimitives.Dot(logProbabilities[..(n * k)], targets[..(n * k)]);
        return loss / T.CreateTruncating(n);
    }

    /// <summary>Backward with soft targets: <c>dLogits += scale · (p · Σt − t)/N</c>.</summary>
    /// <param name="dLogits">Logit gradient (N, K).</param>
    /// <param name="logProbabilities">Cache (N, K).</param>
    /// <param name="targets">Target distributions (N, K).</param>
    /// <param name="n">N.</param>
    /// <param name="k">K.</param>
    /// <param name="scale">Upstream gradient.</param>
    public static void BackwardSoft<T>(Span<T> dLogits, ReadOnlySpan<T> logProbabilities, ReadOnlySpan<T> targets, int n, int k, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T s = scale / T.CreateTruncating(n);
        for (int i = 0; i < n; i++)
        {
            var d = dLogits.Slice(i * k, k);
            var lp = logProbabilities.Slice(i * k, k);
            var t = targets.Slice(i * k, k);
            T mass = TensorPrimitives.Sum(t);
            for (int j = 0; j < k; j++) d[j] += s * (T.Exp(lp[j]) * mass - t[j]);
        }
    }
}
