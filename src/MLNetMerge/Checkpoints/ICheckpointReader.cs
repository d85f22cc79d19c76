namespace MLNetMerge.Checkpoints;

/// <summary>
/// Read access to the tensors of one checkpoint (a safetensors file, a sharded safetensors directory, or a PyTorch file).
/// Readers parse and validate the header when opened and read tensor bytes lazily, on request, into caller buffers.
/// Implementations are safe for concurrent reads of different tensors.
/// </summary>
internal interface ICheckpointReader : IDisposable
{
    /// <summary>The path the checkpoint was opened from (a file or a directory).</summary>
    string Path { get; }

    /// <summary>Every tensor, in the order the checkpoint lists them.</summary>
    IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>String metadata (safetensors <c>__metadata__</c>); empty when the format has none.</summary>
    IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Finds a tensor by name.</summary>
    bool TryGetTensor(string name, out TensorInfo info);

    /// <summary>Reads a floating-point tensor converted to float32 into <paramref name="destination"/> (exactly <see cref="TensorInfo.ElementCount"/> long).</summary>
    /// <exception cref="CheckpointFormatException">The tensor is not floating point, or its bytes cannot be read.</exception>
    void ReadFloat32(TensorInfo tensor, Span<float> destination);

    /// <summary>
    /// Whether <see cref="ReadFloat32(TensorInfo, long, Span{float})"/> reads a slice without touching the rest of the
    /// tensor (safetensors: a positional read of just those bytes). Streaming merges slice tensors only then.
    /// </summary>
    bool SupportsRangeReads => false;

    /// <summary>
    /// Reads elements <c>[start, start + destination.Length)</c> of a floating-point tensor (row-major, flattened)
    /// converted to float32. The default reads the whole tensor and copies the slice; readers that can do better say so
    /// with <see cref="SupportsRangeReads"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The slice does not lie inside the tensor.</exception>
    void ReadFloat32(TensorInfo tensor, long start, Span<float> destination)
    {
        CheckRange(tensor, start, destination.Length);
        var all = new float[tensor.ElementCount];
        ReadFloat32(tensor, all);
        all.AsSpan(checked((int)start), destination.Length).CopyTo(destination);
    }

    /// <summary>
    /// The address of elements <c>[start, start + count)</c> of an F32 tensor where the reader can hand them out in place,
    /// without a copy: a read-only mapping of the file that stays valid until the reader is disposed (safetensors). Null
    /// where it cannot (another dtype, another format): read the slice with <see cref="ReadFloat32(TensorInfo, long, Span{float})"/>.
    /// Streaming kernels read the values through it once, straight from the page cache, where a read would copy them into a
    /// buffer first and the kernel read them back.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The slice does not lie inside the tensor.</exception>
    unsafe float* TryMapFloat32(TensorInfo tensor, long start, int count)
    {
        CheckRange(tensor, start, count);
        return null;
    }

    /// <summary>Throws unless <c>[start, start + count)</c> lies inside <paramref name="tensor"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The slice does not lie inside the tensor.</exception>
    static void CheckRange(TensorInfo tensor, long start, int count)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (start < 0 || count < 0 || start + count > tensor.ElementCount)
            throw new ArgumentOutOfRangeException(nameof(start), $"elements [{start}, {start + count}) are outside tensor '{tensor.Name}' of {tensor.ElementCount} elements.");
    }

    /// <summary>Reads a tensor's stored bytes unchanged (little-endian, stored dtype) into <paramref name="destination"/> (exactly <see cref="TensorInfo.ByteLength"/> long).</summary>
    void ReadRaw(TensorInfo tensor, Span<byte> destination);
}
