using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// Fully connected layer in PyTorch's layout: <c>y = x · Wᵀ + b</c> with W of shape (out, in).
/// Backward: <c>dx += dy · W</c>, <c>dW += dyᵀ · x</c>, <c>db += Σ_rows dy</c>.
/// </summary>
internal static class Linear
{
    /// <summary>Forward pass.</summary>
    /// <param name="y">Output (N, Out).</param>
    /// <param name="x">Input (N, In).</param>
    /// <param name="weight">Weight (Out, In).</param>
    /// <param name="bias">Bias (Out), or empty for a bias-free layer.</param>
    /// <param name="n">Rows (batch × tokens).</param>
    /// <param name="inDim">Input features.</param>
    /// <param name="outDim">Output features.</param>
    public static void Forward<T>(Span<T> y, ReadOnlySpan<T> x, ReadOnlySpan<T> weight, ReadOnlySpan<T> bias,
        int n, int inDim, int outDim) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && LinearInputTap.Active is { } tap)
            tap.Observe(MemoryMarshal.Cast<T, float>(x)[..(n * inDim)], MemoryMarshal.Cast<T, float>(weight)[..(outDim * inDim)], n, inDim, outDim);
        MatMul.Multiply(false, true, n, outDim, inDim, T.One, x, inDim, weight, inDim, T.Zero, y, outDim);
        if (!bias.IsEmpty)
        {
            for (int i = 0; i < n; i++)
            {
                var row = y.Slice(i * outDim, outDim); // (Out)
                TensorPrimitives.Add(row, bias[..outDim], row);
            }
        }
    }

    /// <summary>Backward pass; adds into every gradient given (an empty span skips that gradient).</summary>
    /// <param name="dx">Input gradient (N, In), or empty.</param>
    /// <param name="dWeight">Weight gradient (Out, In), or empty.</param>
    /// <param name="dBias">Bias gradient (Out), or empty.</param>
    /// <param name="dy">Output gradient (N, Out).</param>
    /// <param name="x">Input of the forward pass (N, In).</param>
    /// <param name="weight">Weight (Out, In).</param>
    /// <param name="n">Rows.</param>
    /// <param name="inDim">Input features.</param>
    /// <param name="outDim">Output features.</param>
    public static void Backward<T>(Span<T> dx, Span<T> dWeight, Span<T> dBias, ReadOnlySpan<T> dy,
        ReadOnlySpan<T> x, ReadOnlySpan<T> weight, int n, int inDim, int outDim)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!dx.IsEmpty)
            MatMul.Multiply(false, false, n, inDim, outDim, T.One, dy, outDim, weight, inDim, T.One, dx, inDim);
        if (!dWeight.IsEmpty)
            MatMul.Multiply(true, false, outDim, inDim, n, T.One, dy, outDim, x, inDim, T.One, dWeight, inDim);
        if (!dBias.IsEmpty)
        {
            for (int i = 0; i < n; i++)
                TensorPrimitives.Add(dBias[..outDim], dy.Slice(i * outDim, outDim), dBias[..outDim]);
        }
    }
}
