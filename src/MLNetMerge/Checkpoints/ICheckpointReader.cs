namespace MLNetMerge.Checkpoints;

/// <summary>
/// Read access to the tensors of one checkpoint (a safetensors file, a sharded safetensors directory, or a PyTorch file).
/// Readers parse and validate the header when opened and read tensor bytes lazily, on request, into caller buffers.
/// Implementations are safe for concurrent reads of different tensors.
/// </summary>
public interface ICheckpointReader : IDisposable
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

    /// <summary>Reads a tensor's stored bytes unchanged (little-endian, stored dtype) into <paramref name="destination"/> (exactly <see cref="TensorInfo.ByteLength"/> long).</summary>
    void ReadRaw(TensorInfo tensor, Span<byte> destination);
}
