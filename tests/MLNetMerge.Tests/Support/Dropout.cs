using System.Numerics;
using System.Numerics.Tensors;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// Inverted dropout in training mode: each element is kept with probability 1 − p and scaled by 1/(1 − p),
/// <c>y = x ⊙ m</c> with <c>m_i ∈ {0, 1/(1−p)}</c> drawn from a seeded generator and cached; backward <c>dx += dy ⊙ m</c>.
/// In evaluation mode dropout is the identity and is simply not called.
/// </summary>
public static class Dropout
{
    /// <summary>Forward pass.</summary>
    /// <param name="output">Output (N); may alias <paramref name="x"/>.</param>
    /// <param name="mask">Cache: the scaled keep mask (N).</param>
    /// <param name="x">Input (N).</param>
    /// <param name="p">Drop probability in [0, 1).</param>
    /// <param name="random">Seeded generator; the same seed gives the same mask.</param>
    public static void Forward<T>(Span<T> output, Span<T> mask, ReadOnlySpan<T> x, double p, Random random)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (p < 0 || p >= 1) throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must be in [0, 1).");
        T keep = T.CreateTruncating(1.0 / (1.0 - p));
        int n = x.Length;
        for (int i = 0; i < n; i++) mask[i] = random.NextDouble() < p ? T.Zero : keep;
        TensorPrimitives.Multiply(x, mask[..n], output[..n]);
    }

    /// <summary>Backward pass: <c>dx += dy ⊙ m</c>.</summary>
    /// <param name="dx">Input gradient (N).</param>
    /// <param name="dOutput">Output gradient (N).</param>
    /// <param name="mask">Cache from the forward pass (N).</param>
    public static void Backward<T>(Span<T> dx, ReadOnlySpan<T> dOutput, ReadOnlySpan<T> mask) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = dOutput.Length;
        TensorPrimitives.FusedMultiplyAdd(dOutput, mask[..n], dx[..n], dx[..n]);
    }
}
