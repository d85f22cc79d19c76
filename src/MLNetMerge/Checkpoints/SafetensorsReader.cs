using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints;

/// <summary>Settings for <see cref="SafetensorsReader"/>.</summary>
internal sealed class SafetensorsReaderOptions
{
    /// <summary>
    /// Read through a memory mapping instead of <see cref="RandomAccess.Read(SafeFileHandle, Span{byte}, long)"/>.
    /// Default false: positional reads into reused buffers are faster on first touch here; mapping helps with files
    /// larger than memory that are read sparsely.
    /// </summary>
    public bool MemoryMap { get; init; }
}

/// <summary>
/// Reads one <c>.safetensors</c> file: the header is parsed and validated on <see cref="Open(string, SafetensorsReaderOptions?)"/>;
/// tensor bytes are read on request with positional reads (thread-safe), straight into the caller's float buffer
/// for F32 and through a pooled byte buffer for F16/BF16/F64.
/// </summary>
internal sealed class SafetensorsReader : ICheckpointReader
{
    private readonly SafeFileHandle _handle;
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly List<TensorInfo> _tensors;
    private readonly Dictionary<string, TensorInfo> _byName;
    private readonly Dictionary<string, string> _metadata;

    private SafetensorsReader(string path, SafeFileHandle handle, List<TensorInfo> tensors, Dictionary<string, string> metadata, bool map)
    {
        Path = path;
        _handle = handle;
        _tensors = tensors;
        _metadata = metadata;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        if (map && RandomAccess.GetLength(handle) > 0)
        {
            _map = MemoryMappedFile.CreateFromFile(handle, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        }
    }

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    /// <exception cref="CheckpointFormatException">The file is truncated or its header is invalid.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static SafetensorsReader Open(string path, SafetensorsReaderOptions? options = null)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            long length = RandomAccess.GetLength(handle);
            Span<byte> prefix = stackalloc byte[8];
            int got = length >= 8 ? ReadFully(handle, prefix, 0) : 0;
            var (tensors, metadata) = SafetensorsHeader.Parse(path, prefix[..got], n =>
            {
                var buf = new byte[n];
                if (ReadFully(handle, buf, 8) != n)
                    throw new CheckpointFormatException(path, null, "file ended inside the header.");
                return buf;
            }, length);
            return new SafetensorsReader(path, handle, tensors, metadata, options?.MemoryMap ?? false);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public string Path { get; }

    /// <inheritdoc />
    public IReadOnlyList<TensorInfo> Tensors => _tensors;

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> Metadata => _metadata;

    /// <inheritdoc />
    public bool TryGetTensor(string name, out TensorInfo info) => _byName.TryGetValue(name, out info!);

    /// <inheritdoc />
    public void ReadFloat32(TensorInfo tensor, Span<float> destination)
    {
        if (destination.Length != tensor.ElementCount)
            throw new ArgumentException($"destination holds {destination.Length} elements; tensor '{tensor.Name}' has {tensor.ElementCount}.");
        ReadSlice(tensor, 0, destination);
    }

    /// <inheritdoc />
    public bool SupportsRangeReads => true;

    /// <inheritdoc />
    public void ReadFloat32(TensorInfo tensor, long start, Span<float> destination)
    {
        ICheckpointReader.CheckRange(tensor, start, destination.Length);
        ReadSlice(tensor, start, destination);
    }

    private void ReadSlice(TensorInfo tensor, long first, Span<float> destination)
    {
        if (!tensor.DType.IsFloatingPoint())
            throw new CheckpointFormatException(Path, tensor.Name, $"is {tensor.DType}; a floating-point tensor was expected.");
        int size = tensor.DType.SizeOf();
        // Chunks keep every span under 2 GiB, so tensors of any size stream through.
        for (int start = 0; start < destination.Length; start += ChunkElements)
        {
            int count = Math.Min(ChunkElements, destination.Length - start);
            var part = destination.Slice(start, count);
            long offset = tensor.Offset + (first + start) * size;
            if (tensor.DType == DType.F32)
            {
                ReadAt(tensor, MemoryMarshal.AsBytes(part), offset);
                continue;
            }
            byte[] buf = ByteBufferPool.Rent((long)count * size);
            try
            {
                var bytes = buf.AsSpan(0, count * size);
                ReadAt(tensor, bytes, offset);
                DTypeConversion.ToFloat32(bytes, tensor.DType, part);
            }
            finally
            {
                ByteBufferPool.Return(buf);
            }
        }
    }

    private const int ChunkElements = 1 << 26;

    /// <inheritdoc />
    public void ReadRaw(TensorInfo tensor, Span<byte> destination)
    {
        if (destination.Length != tensor.ByteLength)
            throw new ArgumentException($"destination holds {destination.Length} bytes; tensor '{tensor.Name}' has {tensor.ByteLength}.");
        ReadAt(tensor, destination, tensor.Offset);
    }

    private void ReadAt(TensorInfo tensor, Span<byte> destination, long offset)
    {
        if (_view is not null)
        {
            unsafe
            {
                byte* p = null;
                _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
                try
                {
                    new ReadOnlySpan<byte>(p + _view.PointerOffset + offset, destination.Length).CopyTo(destination);
                }
                finally
                {
                    _view.SafeMemoryMappedViewHandle.ReleasePointer();
                }
            }
            return;
        }
        if (ReadFully(_handle, destination, offset) != destination.Length)
            throw new CheckpointFormatException(Path, tensor.Name, "file ended before the tensor's last byte (it changed after opening?).");
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the file ends; returns the bytes read.</summary>
    internal static int ReadFully(SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (n <= 0) break;
            total += n;
        }
        return total;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _view?.Dispose();
        _map?.Dispose();
        _handle.Dispose();
    }
}
