using System.Numerics;
using System.Numerics.Tensors;

namespace MLNetMerge.Nn.Layers;

/// <summary>Residual connection <c>y = a + b</c>; backward <c>da += dy</c>, <c>db += dy</c>.</summary>
internal static class Residual
{
    /// <summary>Forward pass.</summary>
    /// <param name="output">Output (N); may alias either input.</param>
    /// <param name="a">First input (N).</param>
    /// <param name="b">Second input (N).</param>
    public static void Forward<T>(Span<T> output, ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : unmanaged, IFloatingPointIeee754<T>
        => TensorPrimitives.Add(a, b, output[..a.Length]);

    /// <summary>Backward pass; adds <paramref name="dOutput"/> into both gradients (an empty span is skipped).</summary>
    /// <param name="da">First input gradient (N), or empty.</param>
    /// <param name="db">Second input gradient (N), or empty.</param>
    /// <param name="dOutput">Output gradient (N).</param>
    public static void Backward<T>(Span<T> da, Span<T> db, ReadOnlySpan<T> dOutput) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = dOutput.Length;
        if (!da.IsEmpty) TensorPrimitives.Add(da[..n], dOutput, da[..n]);
        if (!db.IsEmpty) TensorPrimitives.Add(db[..n], dOutput, db[..n]);
    }
}
