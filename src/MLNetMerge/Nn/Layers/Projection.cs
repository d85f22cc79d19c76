using System.Numerics;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// A bias-free projection whose matrix is stored input-major, <c>y = x · P</c> with P of shape (in, out), as OpenCLIP
/// stores <c>visual.proj</c> and <c>text_projection</c> (the transpose of <see cref="Linear"/>'s layout).
/// Backward: <c>dx += dy · Pᵀ</c>, <c>dP += xᵀ · dy</c>.
/// </summary>
internal static class Projection
{
    /// <summary>Forward pass.</summary>
    /// <param name="y">Output (N, Out).</param>
    /// <param name="x">Input (N, In).</param>
    /// <param name="matrix">Projection (In, Out).</param>
    /// <param name="n">Rows.</param>
    /// <param name="inDim">Input features.</param>
    /// <param name="outDim">Output features.</param>
    public static void Forward<T>(Span<T> y, ReadOnlySpan<T> x, ReadOnlySpan<T> matrix, int n, int inDim, int outDim)
        where T : unmanaged, IFloatingPointIeee754<T>
        => MatMul.Multiply(false, false, n, outDim, inDim, T.One, x, inDim, matrix, outDim, T.Zero, y, outDim);

    /// <summary>Backward pass; adds into the gradients given (an empty span is skipped).</summary>
    /// <param name="dx">Input gradient (N, In), or empty.</param>
    /// <param name="dMatrix">Projection gradient (In, Out), or empty.</param>
    /// <param name="dy">Output gradient (N, Out).</param>
    /// <param name="x">Forward input (N, In).</param>
    /// <param name="matrix">Projection (In, Out).</param>
    /// <param name="n">Rows.</param>
    /// <param name="inDim">Input features.</param>
    /// <param name="outDim">Output features.</param>
    public static void Backward<T>(Span<T> dx, Span<T> dMatrix, ReadOnlySpan<T> dy, ReadOnlySpan<T> x, ReadOnlySpan<T> matrix,
        int n, int inDim, int outDim) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!dx.IsEmpty) MatMul.Multiply(false, true, n, inDim, outDim, T.One, dy, outDim, matrix, outDim, T.One, dx, inDim);
        if (!dMatrix.IsEmpty) MatMul.Multiply(true, false, inDim, outDim, n, T.One, x, inDim, dy, outDim, T.One, dMatrix, outDim);
    }
}
