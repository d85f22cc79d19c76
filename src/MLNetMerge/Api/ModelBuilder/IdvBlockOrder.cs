using System.Buffers.Binary;

namespace MLNetMerge;

/// <summary>
/// Puts the data blocks of an ML.NET binary data view (<c>.idv</c>, format 1.1.1.4 and later) in one canonical order.
/// ML.NET's <c>BinarySaver</c> compresses blocks on several threads and, unless asked for a deterministic order (which
/// the steps that save tables inside a model, such as <c>MapValue</c>'s <c>DefaultMap.idv</c>, do not ask for), writes
/// each block when its compression finishes; the lookup tables record where each landed. So two saves of one table
/// hold the same blocks at different offsets. This moves the blocks into the order the deterministic mode writes —
/// row block by row block, columns in order within each — and rewrites the lookup tables' offsets; every other byte
/// (header, table of contents, metadata, tail) stays as it is, since the blocks keep their sizes and region.
/// <para>Layout read (little-endian): header of 256 bytes (signature, version, compatible version, table-of-contents
/// offset at 24, tail offset at 32, row count at 40, column count at 48); per column in the table of contents: name
/// (LEB128-length UTF-8), codec name, codec parameters (LEB128 length + bytes), compression (byte), rows per block
/// (LEB128), lookup table offset (long), metadata table offset (long); per block of a column a lookup entry of 16
/// bytes: offset (long), stored length (int), uncompressed length (int).</para>
/// </summary>
internal static class IdvBlockOrder
{
    private const ulong Signature = 0x00425644004C4D43;
    private const ulong FirstVersionWithMetadataTable = 0x0001000100010004;

    /// <summary>The data view <paramref name="idv"/> with its blocks in canonical order (a new array).</summary>
    /// <exception cref="InvalidDataException">Not a binary data view this reader understands, or blocks that do not
    /// tile one region.</exception>
    public static byte[] Canonicalise(byte[] idv)
    {
        ArgumentNullException.ThrowIfNull(idv);
        var span = idv.AsSpan();
        if (idv.Length < 256 || BinaryPrimitives.ReadUInt64LittleEndian(span) != Signature)
            throw new InvalidDataException("not an ML.NET binary data view (.idv): no 'CML\\0DVB\\0' signature.");
        if (BinaryPrimitives.ReadUInt64LittleEndian(span[8..]) < FirstVersionWithMetadataTable)
            throw new InvalidDataException("an .idv older than format 1.1.1.4; its table of contents is not read here.");
        long toc = BinaryPrimitives.ReadInt64LittleEndian(span[24..]);
        long rows = BinaryPrimitives.ReadInt64LittleEndian(span[40..]);
        int columns = BinaryPrimitives.ReadInt32LittleEndian(span[48..]);

        // (column, block) → position of its lookup entry; block extents.
        var blocks = new List<(int Column, long Block, int Entry, long Offset, int Length)>();
        int pos = checked((int)toc);
        for (int c = 0; c < columns; c++)
        {
            Skip(span, ref pos, Leb(span, ref pos));        // name
            Skip(span, ref pos, Leb(span, ref pos));        // codec name
            Skip(span, ref pos, Leb(span, ref pos));        // codec parameters
            pos += 1;                                       // compression kind
            long perBlock = Leb(span, ref pos);
            long lookup = BinaryPrimitives.ReadInt64LittleEndian(span[pos..]);
            pos += 16;                                      // lookup table offset, metadata table offset
            if (perBlock <= 0) throw new InvalidDataException($".idv column {c}: {perBlock} rows per block.");
            long count = (rows + perBlock - 1) / perBlock;
            for (long b = 0; b < count; b++)
            {
                int entry = checked((int)(lookup + 16 * b));
                blocks.Add((c, b, entry, BinaryPrimitives.ReadInt64LittleEndian(span[entry..]), BinaryPrimitives.ReadInt32LittleEndian(span[(entry + 8)..])));
            }
        }
        var result = (byte[])idv.Clone();
        if (blocks.Count == 0) return result;
        long start = blocks.Min(b => b.Offset), end = blocks.Max(b => b.Offset + b.Length);
        if (end - start != blocks.Sum(b => (long)b.Length) || end > idv.Length)
            throw new InvalidDataException($".idv blocks do not tile one region ({blocks.Count} blocks, {blocks.Sum(b => (long)b.Length)} bytes in [{start}, {end})).");
        long at = start;
        foreach (var b in blocks.OrderBy(b => b.Block).ThenBy(b => b.Column))
        {
            span.Slice(checked((int)b.Offset), b.Length).CopyTo(result.AsSpan(checked((int)at)));
            BinaryPrimitives.WriteInt64LittleEndian(result.AsSpan(b.Entry), at);
            at += b.Length;
        }
        return result;
    }

    private static long Leb(ReadOnlySpan<byte> span, ref int pos)
    {
        long value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = span[pos++];
            value |= (long)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
            if (shift > 56) throw new InvalidDataException(".idv: a LEB128 number longer than 64 bits.");
        }
    }

    private static void Skip(ReadOnlySpan<byte> span, ref int pos, long count)
    {
        if (count < 0 || pos + count > span.Length) throw new InvalidDataException(".idv: a table-of-contents field runs past the end.");
        pos += (int)count;
    }
}
