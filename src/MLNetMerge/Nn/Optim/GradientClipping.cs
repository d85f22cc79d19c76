using System.Numerics.Tensors;

namespace MLNetMerge.Nn.Optim;

/// <summary>
/// Global-norm gradient clipping as torch.nn.utils.clip_grad_norm_: <c>n = ‖g‖₂</c> over every gradient,
/// <c>c = min(1, maxNorm / (n + 1e-6))</c>, <c>g ← c·g</c>.
/// </summary>
internal static class GradientClipping
{
    /// <summary>Clips the gradients (one contiguous arena) in place and returns their norm before clipping.</summary>
    /// <param name="gradients">All gradients (P).</param>
    /// <param name="maxNorm">Largest allowed global norm.</param>
    public static float ClipByGlobalNorm(Span<float> gradients, float maxNorm)
    {
        double sum = 0;
        const int chunk = 4096; // accumulate per chunk in double so long arenas keep their precision
        for (int i = 0; i < gradients.Length; i += chunk)
            sum += TensorPrimitives.SumOfSquares<float>(gradients.Slice(i, Math.Min(chunk, gradients.Length - i)));
        float norm = (float)Math.Sqrt(sum);
        float coef = maxNorm / (norm + 1e-6f);
        if (coef < 1f) TensorPrimitives.Multiply(gradients, coef, gradients);
        return norm;
    }
}
