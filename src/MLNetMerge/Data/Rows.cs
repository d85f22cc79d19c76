namespace MLNetMerge.Data;

/// <summary>Row selection from row-major matrices (embeddings, logits).</summary>
internal static class Rows
{
    /// <summary>Rows <paramref name="idx"/> of a (M, width) matrix, in the order given: (n, width).</summary>
    public static float[] Gather(ReadOnlySpan<float> rows, IReadOnlyList<int> idx, int width)
    {
        ArgumentNullException.ThrowIfNull(idx);
        var result = new float[idx.Count * width];                        // (n, width)
        for (int i = 0; i < idx.Count; i++) rows.Slice(idx[i] * width, width).CopyTo(result.AsSpan(i * width, width));
        return result;
    }
}
