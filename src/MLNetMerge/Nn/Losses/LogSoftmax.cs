using System.Numerics;
using System.Numerics.Tensors;

namespace MLNetMerge.Nn.Losses;

/// <summary>Row-wise log-softmax: <c>log p_j = z_j − max z − log Σ_k exp(z_k − max z)</c>.</summary>
internal static class LogSoftmax
{
    /// <summary>Writes log-probabilities (N, K) of logits (N, K).</summary>
    public static void Rows<T>(Span<T> logProbabilities, ReadOnlySpan<T> logits, int n, int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < n; i++)
        {
            var z = logits.Slice(i * k, k);
            var lp = logProbabilities.Slice(i * k, k);
            T max = TensorPrimitives.Max(z);
            TensorPrimitives.Subtract(z, max, lp);
            T sum = T.Zero;
            for (int j = 0; j < k; j++) sum += T.Exp(lp[j]);
            TensorPrimitives.Subtract(lp, T.Log(sum), lp);
        }
    }
}
