using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints;

/// <summary>Settings for <see cref="SafetensorsReader"/>.</summary>
internal sealed class SafetensorsReaderOptions
{
    /// <summary>
    /// Copy the tensors that are read (<see cref="SafetensorsReader.ReadFloat32(TensorInfo, Span{float})"/>, the raw reads)
    /// out of a memory mapping instead of with <see cref="RandomAccess.Read(SafeFileHandle, Span{byte}, long)"/>.
    /// Default false: positional reads into reused buffers were as fast or faster here. Slices that a merge reads in
    /// place (<see cref="SafetensorsReader.TryMapFloat32"/>) come from the mapping whatever this says.
    /// </summary>
    public bool MemoryMap { get; init; }
}

/// <summary>
/// Reads one <c>.safetensors</c> file: the header is parsed and validated on <see cref="Open(string, SafetensorsReaderOptions?)"/>;
/// tensor bytes are read on request with positional reads (thread-safe), straight into the caller's float buffer
/// for F32 and through a pooled byte buffer for F16/BF16/F64. F32 slices are also handed out in place
/// (<see cref="TryMapFloat32"/>) from a read-only mapping of the whole file, made on first request and kept until disposal;
/// like any mapping it assumes the file does not shrink while it is open (a read past a truncated end faults).
/// </summary>
internal sealed class SafetensorsReader : ICheckpointReader
{
    private readonly SafeFileHandle _handle;
    private readonly bool _readThroughMap;
    private readonly long _length;
    private readonly Lock _mapLock = new();
    private MemoryMappedFile? _map;
    private MemoryMappedViewAccessor? _view;
    private nint _mapped;       // the file's first byte in the mapping (pointer acquired until disposal), 0 until mapped
    private bool _disposed;
    private volatile bool _unmappable; // the mapping was refused once: every slice is read
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
        _length = RandomAccess.GetLength(handle);
        _readThroughMap = map && _length > 0;
    }

    /// <summary>The file's first byte in a read-only mapping of all of it, made on the first call (thread-safe).</summary>
    private unsafe byte* Mapping()
    {
        nint p = Volatile.Read(ref _mapped);
        if (p != 0) return (byte*)p;
        lock (_mapLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_mapped == 0)
            {
                var map = MemoryMappedFile.CreateFromFile(_handle, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
                var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
                byte* first = null;
                view.SafeMemoryMappedViewHandle.AcquirePointer(ref first);
                _map = map;
                _view = view;
                Volatile.Write(ref _mapped, (nint)(first + view.PointerOffset));
            }
            return (byte*)_mapped;
        }
    }

    /// <inheritdoc />
    /// <remarks>F32 tensors on a little-endian machine at a 4-byte-aligned offset (every file this project writes; the
    /// format itself only pads its header to 8 bytes by convention); null for any other, whose slices are read.</remarks>
    public unsafe float* TryMapFloat32(TensorInfo tensor, long start, int count)
    {
        ICheckpointReader.CheckRange(tensor, start, count);
        if (tensor.DType != DType.F32 || !BitConverter.IsLittleEndian || tensor.Offset % sizeof(float) != 0 || _length == 0 || _unmappable)
            return null;
        byte* first;
        try
        {
            first = Mapping();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _unmappable = true; // a file system or address space that refuses the mapping: read the slices instead
            return null;
        }
        return (float*)(first + tensor.Offset) + start;
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
        if (_readThroughMap)
        {
            unsafe
            {
                new ReadOnlySpan<byte>(Mapping() + offset, destination.Length).CopyTo(destination);
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
        lock (_mapLock)
        {
            if (_disposed) return;
            _disposed = true;
            if (_view is not null)
            {
                _view.SafeMemoryMappedViewHandle.ReleasePointer();
                _view.Dispose();
            }
            _map?.Dispose();
            _mapped = 0;
        }
        _handle.Dispose();
    }
}
