using System.Numerics;
using System.Numerics.Tensors;

namespace MLNetMerge.Nn.Layers;

/// <summary>
/// Table look-ups: token, position and segment (token type) embeddings <c>y_n = E[id_n]</c>, and learned absolute
/// position tables added to every sequence of a batch <c>y[b, t] += P[t]</c>. Backward scatters-adds rows:
/// <c>dE[id_n] += dy_n</c>, <c>dP[t] += Σ_b dy[b, t]</c>.
/// </summary>
internal static class Embedding
{
    /// <summary>Forward look-up.</summary>
    /// <param name="output">Output (N, C).</param>
    /// <param name="ids">Row indices (N), each in [0, V).</param>
    /// <param name="table">Embedding table (V, C).</param>
    /// <param name="channels">C.</param>
    /// <param name="accumulate">Add into <paramref name="output"/> instead of overwriting it (to sum word + position + segment).</param>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the table.</exception>
    public static void Forward<T>(Span<T> output, ReadOnlySpan<int> ids, ReadOnlySpan<T> table, int channels, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int vocab = table.Length / channels;
        for (int n = 0; n < ids.Length; n++)
        {
            int id = ids[n];
            if ((uint)id >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(ids), $"id {id} at position {n} is outside the embedding table of {vocab} rows.");
            var src = table.Slice(id * channels, channels); // (C)
            var dst = output.Slice(n * channels, channels); // (C)
            if (accumulate) TensorPrimitives.Add(dst, src, dst);
            else src.CopyTo(dst);
        }
    }

    /// <summary>Backward: <c>dTable[id_n] += dOutput_n</c>.</summary>
    /// <param name="dTable">Table gradient (V, C).</param>
    /// <param name="dOutput">Output gradient (N, C).</param>
    /// <param name="ids">Row indices (N).</param>
    /// <param name="channels">C.</param>
    public static void Backward<T>(Span<T> dTable, ReadOnlySpan<T> dOutput, ReadOnlySpan<int> ids, int channels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int n = 0; n < ids.Length; n++)
        {
            var dst = dTable.Slice(ids[n] * channels, channels);
            TensorPrimitives.Add(dst, dOutput.Slice(n * channels, channels), dst);
        }
    }

    /// <summary>Adds a learned position table to every sequence: <c>x[b, t, :] += P[t, :]</c>, in place.</summary>
    /// <param name="x">Activations (B, T, C), updated in place.</param>
    /// <param name="positions">Position table, first T rows used (≥ T, C).</param>
    /// <param name="batch">B.</param>
    /// <param name="tokens">T.</param>
    /// <param name="channels">C.</param>
    public static void AddPositions<T>(Span<T> x, ReadOnlySpan<T> positions, int batch, int tokens, int channels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int tc = tokens * channels;
        for (int b = 0; b < batch; b++)
        {
            var xb = x.Slice(b * tc, tc); // (T, C)
            TensorPrimitives.Add(xb, positions[..tc], xb);
        }
    }

    /// <summary>Backward of <see cref="AddPositions{T}"/> for the table: <c>dP[t] += Σ_b dx[b, t]</c> (the activation gradient passes through unchanged).</summary>
    /// <param name="dPositions">Position table gradient (≥ T, C).</param>
    /// <param name="dx">Activation gradient (B, T, C).</param>
    /// <param name="batch">B.</param>
    /// <param name="tokens">T.</param>
    /// <param name="channels">C.</param>
    public static void AddPositionsBackward<T>(Span<T> dPositions, ReadOnlySpan<T> dx, int batch, int tokens, int channels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int tc = tokens * channels;
        for (int b = 0; b < batch; b++) TensorPrimitives.Add(dPositions[..tc], dx.Slice(b * tc, tc), dPositions[..tc]);
    }
}
