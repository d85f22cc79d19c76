using System.Buffers.Binary;
using System.IO.Compression;

namespace MLNetMerge.Data;

/// <summary>An unsigned-byte array read from an IDX file: the shape (outermost first) and the elements in C order.</summary>
/// <param name="Shape">Dimensions, outermost first: (N) for labels, (N, rows, cols) for images.</param>
/// <param name="Data">Elements in row-major order (length = product of <paramref name="Shape"/>).</param>
internal sealed record IdxArray(int[] Shape, byte[] Data)
{
    /// <summary>Number of items (the first dimension).</summary>
    public int Count => Shape[0];

    /// <summary>Elements per item (product of the inner dimensions; 1 for a label vector).</summary>
    public int ItemLength => Shape.Length == 1 ? 1 : Data.Length / Shape[0];
}

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST (LeCun et al.), plain or gzipped (detected by the gzip magic
/// <c>1f 8b</c>). Header: a big-endian magic <c>00 00 08 nd</c> (type 0x08 = unsigned byte; <c>nd</c> = 1 for label files,
/// 3 for image files), then <c>nd</c> big-endian int32 dimensions, then the bytes in C order.
/// </summary>
internal static class IdxFile
{
    /// <summary>Magic of a one-dimensional unsigned-byte file (labels).</summary>
    public const int LabelMagic = 0x0801;

    /// <summary>Magic of a three-dimensional unsigned-byte file (images N × rows × cols).</summary>
    public const int ImageMagic = 0x0803;

    /// <summary>Reads a whole IDX file.</summary>
    /// <exception cref="CheckpointFormatException">The magic is not 0x0801/0x0803, a dimension is not positive, or the data is truncated or has trailing bytes; the message names the file.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static IdxArray Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
        {
            try
            {
                using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
                using var ms = new MemoryStream();
                gz.CopyTo(ms);
                bytes = ms.ToArray();
            }
            catch (InvalidDataException e)
            {
                throw new CheckpointFormatException(path, null, $"is not a valid gzip stream: {e.Message}", e);
            }
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses the bytes of an (uncompressed) IDX file.</summary>
    /// <param name="bytes">The file's content.</param>
    /// <param name="path">File name used in error messages.</param>
    /// <exception cref="CheckpointFormatException">Malformed header or wrong data length.</exception>
    public static IdxArray Parse(ReadOnlySpan<byte> bytes, string path)
    {
        if (bytes.Length < 4) throw new CheckpointFormatException(path, null, $"is {bytes.Length} bytes long; an IDX file starts with a 4-byte magic.");
        int magic = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (magic != LabelMagic && magic != ImageMagic)
            throw new CheckpointFormatException(path, null, $"has IDX magic 0x{magic:x8}; expected 0x00000801 (unsigned-byte labels) or 0x00000803 (unsigned-byte images).");
        int dims = magic & 0xff;
        int headerLength = 4 + 4 * dims;
        if (bytes.Length < headerLength) throw new CheckpointFormatException(path, null, $"ends inside the header: {dims} dimensions need {headerLength} bytes, the file has {bytes.Length}.");
        var shape = new int[dims];
        long count = 1;
        for (int d = 0; d < dims; d++)
        {
            shape[d] = BinaryPrimitives.ReadInt32BigEndian(bytes[(4 + 4 * d)..]);
            if (shape[d] <= 0) throw new CheckpointFormatException(path, null, $"dimension {d} is {shape[d]}; expected a positive size.");
            count *= shape[d];
        }
        long available = bytes.Length - headerLength;
        if (available != count)
            throw new CheckpointFormatException(path, null, $"holds {available} data bytes; shape [{string.Join(", ", shape)}] needs exactly {count}.");
        return new IdxArray(shape, bytes[headerLength..].ToArray());
    }
}
