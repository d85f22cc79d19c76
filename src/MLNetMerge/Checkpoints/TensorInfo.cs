using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints;

/// <summary>Where one tensor lives in a checkpoint: its name, element type, shape and byte range in a file.</summary>
/// <param name="Name">The tensor's name in the checkpoint (e.g. <c>vision_model.encoder.layers.0.mlp.fc1.weight</c>).</param>
/// <param name="DType">The stored element type.</param>
/// <param name="Shape">Dimensions, outermost first; empty for a scalar.</param>
/// <param name="File">The file that holds the bytes.</param>
/// <param name="Offset">Absolute byte offset of the first element in <paramref name="File"/>.</param>
/// <param name="ByteLength">Number of stored bytes (element count × element size for contiguous tensors).</param>
internal sealed record TensorInfo(string Name, DType DType, int[] Shape, string File, long Offset, long ByteLength)
{
    /// <summary>Number of elements: the product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (int d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>The shape written as <c>[768, 3072]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    /// <summary>True when both shapes have the same dimensions.</summary>
    public bool SameShape(TensorInfo other) => Shape.AsSpan().SequenceEqual(other.Shape);
}
