using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using MLNetMerge.Tensors;

namespace MLNetMerge.Data;

/// <summary>
/// Reads and writes NumPy <c>.npy</c> files (format versions 1.0, 2.0 and 3.0), the exchange format of the
/// <c>embed</c> command and of features handed in from Python. Element types: <c>&lt;f2</c>, <c>&lt;f4</c>, <c>&lt;f8</c>,
/// signed and unsigned integers of 1–8 bytes, <c>|b1</c>; little-endian and C order only.
/// Writes produce the bytes <c>np.save</c> produces and are atomic (temporary file, then rename).
/// </summary>
/// <example>
/// <code>
/// var (features, shape) = NpyFile.ReadFloat32("x.npy");   // shape e.g. [128, 768]
/// NpyFile.Write("y.npy", features, shape);
/// </code>
/// </example>
internal static class NpyFile
{
    /// <summary>Reads the whole array with its stored element type.</summary>
    /// <exception cref="CheckpointFormatException">The file is malformed, truncated, big-endian, Fortran-ordered or of an unsupported type; the message names the file.</exception>
    public static NpyArray Read(string path)
    {
        using var handle = OpenRead(path);
        var header = NpyHeader.Read(handle, path);
        long bytes = CheckedByteCount(handle, header, path);
        if (bytes > Array.MaxLength)
            throw new CheckpointFormatException(path, null, $"{bytes} bytes exceed one .NET array; use ReadFloat32 or ReadInt64.");
        var data = new byte[bytes];
        ReadExactly(handle, data, header.DataOffset, path);
        return new NpyArray(header.DType, header.Shape, data);
    }

    /// <summary>The stored element type, its NumPy descr and the shape, without reading the data.</summary>
    /// <exception cref="CheckpointFormatException">The file is malformed, truncated or unsupported; the message names the file.</exception>
    internal static (DType DType, string Descr, int[] Shape) ReadHeader(string path)
    {
        using var handle = OpenRead(path);
        var header = NpyHeader.Read(handle, path);
        CheckedByteCount(handle, header, path);
        return (header.DType, header.Descr, header.Shape);
    }

    /// <summary>Reads the array as float32 (float64 and float16 are rounded to nearest; integers converted; bools give 0 or 1).</summary>
    /// <returns>The elements in C order and the shape (empty for a 0-d array).</returns>
    /// <exception cref="CheckpointFormatException">The file is malformed or unsupported; the message names the file.</exception>
    public static (float[] Data, int[] Shape) ReadFloat32(string path)
    {
        using var handle = OpenRead(path);
        var header = NpyHeader.Read(handle, path);
        CheckedByteCount(handle, header, path);
        var result = new float[header.ElementCount];
        if (header.DType == DType.F32)
        {
            ReadExactly(handle, MemoryMarshal.AsBytes(result.AsSpan()), header.DataOffset, path); // no staging copy
            return (result, header.Shape);
        }
        ReadConverted(handle, header, result.Length, path, (raw, start, count) => NpyConversion.ToFloat32(raw, header.DType, result.AsSpan(start, count)));
        return (result, header.Shape);
    }

    /// <summary>Reads an integer or bool array as int64 (token ids, labels, masks).</summary>
    /// <returns>The elements in C order and the shape (empty for a 0-d array).</returns>
    /// <exception cref="CheckpointFormatException">The file is malformed, or its elements are floating point, or a uint64 value exceeds int64.</exception>
    public static (long[] Data, int[] Shape) ReadInt64(string path)
    {
        using var handle = OpenRead(path);
        var header = NpyHeader.Read(handle, path);
        CheckedByteCount(handle, header, path);
        if (header.DType.IsFloatingPoint())
            throw new CheckpointFormatException(path, null, $"descr '{header.Descr}' is floating point; an integer or bool array was expected.");
        var result = new long[header.ElementCount];
        if (header.DType == DType.I64)
        {
            ReadExactly(handle, MemoryMarshal.AsBytes(result.AsSpan()), header.DataOffset, path);
            return (result, header.Shape);
        }
        ReadConverted(handle, header, result.Length, path, (raw, start, count) =>
        {
            if (!NpyConversion.TryToInt64(raw, header.DType, result.AsSpan(start, count), out string? problem))
                throw new CheckpointFormatException(path, null, $"descr '{header.Descr}': {problem}");
        });
        return (result, header.Shape);
    }

    /// <summary>Writes float32 <paramref name="data"/> of <paramref name="shape"/> as <c>&lt;f4</c> (version 1.0 header), replacing any existing file atomically.</summary>
    /// <param name="path">Destination file.</param>
    /// <param name="data">Elements in C order; <c>data.Length</c> must equal the product of <paramref name="shape"/>.</param>
    /// <param name="shape">Dimensions, outermost first; empty for a scalar.</param>
    /// <exception cref="ArgumentException">The element count does not match the shape, or a dimension is negative.</exception>
    public static void Write(string path, ReadOnlySpan<float> data, int[] shape) =>
        WriteCore(path, DType.F32, MemoryMarshal.AsBytes(data), data.Length, shape, null);

    /// <summary>Writes float32 <paramref name="data"/> as <see cref="Write(string, ReadOnlySpan{float}, int[])"/> does, with
    /// <paramref name="replace"/> deciding, at the rename, about a file found at <paramref name="path"/> (throw to refuse;
    /// a file appearing after that check is never replaced).</summary>
    /// <param name="path">Destination file.</param>
    /// <param name="data">Elements in C order.</param>
    /// <param name="shape">Dimensions, outermost first.</param>
    /// <param name="replace">The rule for a file found at <paramref name="path"/> at the rename (throw to refuse).</param>
    /// <param name="beforeRename">Called with the finished temporary file just before it is renamed into place.</param>
    public static void Write(string path, ReadOnlySpan<float> data, int[] shape, Action<string> replace, Action<string>? beforeRename = null) =>
        WriteCore(path, DType.F32, MemoryMarshal.AsBytes(data), data.Length, shape, replace, beforeRename);

    /// <summary>Writes int64 <paramref name="data"/> of <paramref name="shape"/> as <c>&lt;i8</c>, replacing any existing file atomically.</summary>
    /// <param name="path">Destination file.</param>
    /// <param name="data">Elements in C order; <c>data.Length</c> must equal the product of <paramref name="shape"/>.</param>
    /// <param name="shape">Dimensions, outermost first; empty for a scalar.</param>
    /// <exception cref="ArgumentException">The element count does not match the shape, or a dimension is negative.</exception>
    public static void Write(string path, ReadOnlySpan<long> data, int[] shape) =>
        WriteCore(path, DType.I64, MemoryMarshal.AsBytes(data), data.Length, shape, null);

    /// <summary>Writes <paramref name="array"/> with its own element type, replacing any existing file atomically.</summary>
    /// <exception cref="ArgumentException">The element type has no NumPy counterpart (bfloat16).</exception>
    public static void Write(string path, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(array);
        WriteCore(path, array.DType, array.Data, array.ElementCount, array.Shape, null);
    }

    private static void WriteCore(string path, DType dtype, ReadOnlySpan<byte> bytes, long count, int[] shape, Action<string>? replace, Action<string>? beforeRename = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(shape);
        long expected = NpyArray.ElementCountOf(shape);
        if (expected != count)
            throw new ArgumentException($"{count} elements do not fill shape {NpyArray.FormatShape(shape)} ({expected} elements).", nameof(shape));
        byte[] header = NpyHeader.Format(dtype, shape);
        using var file = AtomicFile.Create(path);
        file.Stream.Write(header);
        file.Stream.Write(bytes);
        file.Commit(replace, beforeRename);
    }

    private delegate void ConvertChunk(ReadOnlySpan<byte> raw, int start, int count);

    /// <summary>Reads the data in chunks of at most 1 Mi elements through a pooled staging buffer and converts each chunk.</summary>
    private static void ReadConverted(SafeFileHandle handle, NpyHeader header, int count, string path, ConvertChunk convert)
    {
        int size = header.DType.SizeOf();
        int chunk = Math.Min(count, 1 << 20);
        byte[] staging = ArrayPool<byte>.Shared.Rent(Math.Max(1, chunk * size));
        try
        {
            for (int start = 0; start < count; start += chunk)
            {
                int n = Math.Min(chunk, count - start);
                var raw = staging.AsSpan(0, n * size);
                ReadExactly(handle, raw, header.DataOffset + (long)start * size, path);
                convert(raw, start, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(staging);
        }
    }

    private static SafeFileHandle OpenRead(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: NPY array not found{(Directory.Exists(path) ? " (it is a folder)" : "")}.", path);
        return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
    }

    /// <summary>Bytes of data the header announces; the file must hold exactly that many after the header.</summary>
    private static long CheckedByteCount(SafeFileHandle handle, NpyHeader header, string path)
    {
        long count = header.ElementCount;
        long bytes = count * header.DType.SizeOf();
        long present = RandomAccess.GetLength(handle) - header.DataOffset;
        if (present < bytes)
            throw new CheckpointFormatException(path, null, $"truncated data: shape {NpyArray.FormatShape(header.Shape)} of '{header.Descr}' needs {bytes} bytes, {present} present.");
        if (present > bytes)
            throw new CheckpointFormatException(path, null, $"shape {NpyArray.FormatShape(header.Shape)} of '{header.Descr}' accounts for {bytes} bytes but {present} follow the header.");
        if (count > Array.MaxLength)
            throw new CheckpointFormatException(path, null, $"{count} elements exceed one .NET array.");
        return bytes;
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> destination, long offset, string path)
    {
        while (!destination.IsEmpty)
        {
            int n = RandomAccess.Read(handle, destination, offset);
            if (n == 0) throw new CheckpointFormatException(path, null, "file ended while reading the data.");
            destination = destination[n..];
            offset += n;
        }
    }
}
