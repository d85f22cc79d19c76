using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints.PyTorch;

/// <summary>
/// Where a tensor's elements lie in the file: the absolute offset of its first element, its strides in elements,
/// and whether it is row-major contiguous (then its bytes are one run) or must be gathered.
/// </summary>
/// <param name="FirstElementOffset">Absolute file offset of element [0, …, 0]: storage entry data offset + storage_offset × element size.</param>
/// <param name="Shape">Dimensions, outermost first.</param>
/// <param name="Strides">Element strides per dimension (non-negative).</param>
/// <param name="ElementSize">Bytes per element.</param>
/// <param name="SpanElements">Elements from the first to the last one addressed, inclusive: <c>1 + Σ (size_i − 1)·stride_i</c> (0 for an empty tensor).</param>
/// <param name="Contiguous">True when the strides are the row-major strides of the shape (dimensions of size 1 excepted).</param>
internal sealed record TorchTensorLayout(long FirstElementOffset, int[] Shape, long[] Strides, int ElementSize, long SpanElements, bool Contiguous)
{
    /// <summary>
    /// Checks a tensor view against its storage and describes its layout.
    /// Valid when <c>storage_offset + SpanElements ≤ storage numel</c>, computed without overflow.
    /// </summary>
    /// <exception cref="CheckpointFormatException">The view reaches outside its storage.</exception>
    public static TorchTensorLayout Create(TorchTensorRef t, long storageDataOffset, string path, string name)
    {
        int es = t.Storage.DType.SizeOf();
        long span;
        bool empty = t.Shape.Any(d => d == 0);
        try
        {
            span = empty ? 0 : 1;
            if (!empty)
                for (int i = 0; i < t.Shape.Length; i++) span = checked(span + (t.Shape[i] - 1L) * t.Strides[i]);
            long end = checked(t.StorageOffset + span);
            if (end > t.Storage.ElementCount || t.StorageOffset > t.Storage.ElementCount)
                throw new CheckpointFormatException(path, name,
                    $"view (offset {t.StorageOffset}, shape [{string.Join(", ", t.Shape)}], stride [{string.Join(", ", t.Strides)}]) " +
                    $"reaches element {end} of storage '{t.Storage.Key}', which holds {t.Storage.ElementCount} elements.");
            _ = checked(t.StorageOffset * es + storageDataOffset);
        }
        catch (OverflowException)
        {
            throw new CheckpointFormatException(path, name, $"view of storage '{t.Storage.Key}' has offsets or strides that overflow.");
        }

        bool contiguous = true;
        long expected = 1;
        for (int i = t.Shape.Length - 1; i >= 0; i--)
        {
            if (t.Shape[i] != 1 && t.Strides[i] != expected) { contiguous = false; break; }
            expected *= t.Shape[i];
        }
        if (empty) contiguous = true;
        return new TorchTensorLayout(storageDataOffset + t.StorageOffset * es, t.Shape, t.Strides, es, span, contiguous);
    }

    /// <summary>
    /// Copies the elements of a strided view into row-major order: <c>dst[i_0, …, i_{n−1}] = src[Σ i_k·stride_k]</c>,
    /// where <paramref name="source"/> starts at the view's first element and holds <see cref="SpanElements"/> elements.
    /// </summary>
    public void Gather(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int rank = Shape.Length;
        if (rank == 0) { source[..ElementSize].CopyTo(destination); return; }
        int inner = Shape[rank - 1];
        long innerStride = Strides[rank - 1] * ElementSize;
        Span<int> index = stackalloc int[rank]; // (rank) odometer over the outer dimensions
        int es = ElementSize;
        long outerBase = 0; // byte offset of the current row's first element in source
        int written = 0;
        long rows = 1;
        for (int k = 0; k < rank - 1; k++) rows *= Shape[k];
        for (long r = 0; r < rows; r++)
        {
            long at = outerBase;
            for (int j = 0; j < inner; j++, at += innerStride, written += es)
                source.Slice((int)at, es).CopyTo(destination[written..]);
            // advance the odometer over dimensions rank-2 … 0
            for (int k = rank - 2; k >= 0; k--)
            {
                index[k]++;
                outerBase += Strides[k] * es;
                if (index[k] < Shape[k]) break;
                outerBase -= Strides[k] * es * Shape[k];
                index[k] = 0;
            }
        }
    }
}
