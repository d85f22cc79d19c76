namespace MLNetMerge.Nn;

/// <summary>A buffer reserved in an <see cref="ActivationArena"/>: an offset and a length.</summary>
/// <param name="Offset">First element.</param>
/// <param name="Length">Elements.</param>
internal readonly record struct ArenaBuffer(int Offset, int Length);

/// <summary>
/// One float32 buffer holding every activation, cache and workspace of a model for a maximum batch size, planned
/// once (<see cref="Reserve"/>) and reused by every forward/backward pass, so a training step allocates nothing.
/// </summary>
internal sealed class ActivationArena
{
    private float[] _data = [];
    private int _planned;

    /// <summary>Reserves <paramref name="length"/> elements; call before the first <see cref="Span(ArenaBuffer)"/>.</summary>
    public ArenaBuffer Reserve(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        long end = (long)_planned + length;
        if (end > Array.MaxLength) throw new InvalidOperationException("activations exceed one array; use a smaller batch.");
        var b = new ArenaBuffer(_planned, length);
        _planned = (int)end;
        return b;
    }

    /// <summary>Forgets every reservation (the storage is kept and grows on demand), so a model can re-plan for a larger batch
    /// without leaving the old plan's buffers behind.</summary>
    public void Reset() => _planned = 0;

    /// <summary>Total elements reserved.</summary>
    public int Length => _planned;

    /// <summary>The storage of a reserved buffer (allocated on first use, then reused).</summary>
    public Span<float> Span(ArenaBuffer buffer)
    {
        if (_data.Length < _planned) _data = new float[_planned];
        return _data.AsSpan(buffer.Offset, buffer.Length);
    }

    /// <summary>The first <paramref name="length"/> elements of a reserved buffer.</summary>
    public Span<float> Span(ArenaBuffer buffer, int length)
    {
        if ((uint)length > (uint)buffer.Length) throw new ArgumentOutOfRangeException(nameof(length), $"{length} exceeds the reserved {buffer.Length}.");
        return Span(buffer)[..length];
    }
}
