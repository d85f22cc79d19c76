using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace MLNetMerge.Checkpoints.PyTorch;

/// <summary>
/// Reads the directory of a zip archive whose entries are stored uncompressed (the container of <c>torch.save</c>),
/// over <see cref="RandomAccess"/>: end of central directory (with the ZIP64 locator and record when present),
/// the central directory, and each entry's local header to find where its data starts.
/// Compressed or encrypted entries, multi-disk archives, and any offset or size beyond the file are rejected with
/// <see cref="CheckpointFormatException"/>. Field layouts follow PKWARE's APPNOTE.TXT sections 4.3.7–4.3.16.
/// </summary>
internal static class StoredZipReader
{
    private const uint LocalHeaderSignature = 0x04034b50;          // "PK\3\4"
    private const uint CentralHeaderSignature = 0x02014b50;        // "PK\1\2"
    private const uint EndOfCentralDirSignature = 0x06054b50;      // "PK\5\6"
    private const uint Zip64EndOfCentralDirSignature = 0x06064b50; // "PK\6\6"
    private const uint Zip64LocatorSignature = 0x07064b50;         // "PK\6\7"
    private const int EndOfCentralDirSize = 22;
    private const int Zip64LocatorSize = 20;
    private const int Zip64EndOfCentralDirSize = 56;
    private const int CentralHeaderSize = 46;
    private const int LocalHeaderSize = 30;
    private const ushort Zip64ExtraId = 0x0001;
    private const int MaxEntries = 1 << 20;
    private const long MaxCentralDirectoryBytes = 256L << 20;

    /// <summary>Reads every entry of the archive open as <paramref name="file"/>, in central-directory order.</summary>
    /// <param name="file">An open handle to the archive.</param>
    /// <param name="fileLength">The archive's length in bytes.</param>
    /// <param name="path">The archive's path, for error messages.</param>
    /// <exception cref="CheckpointFormatException">The archive is malformed, compressed, encrypted or truncated.</exception>
    public static List<StoredZipEntry> ReadEntries(SafeFileHandle file, long fileLength, string path)
    {
        (long cdOffset, long cdSize, long entryCount) = ReadEndOfCentralDirectory(file, fileLength, path);
        if (entryCount > MaxEntries) throw Bad(path, $"zip lists {entryCount} entries; at most {MaxEntries} are accepted.");
        if (cdSize > MaxCentralDirectoryBytes) throw Bad(path, $"zip central directory is {cdSize} bytes; at most {MaxCentralDirectoryBytes} are accepted.");
        if (cdOffset < 0 || cdSize < 0 || cdOffset + cdSize > fileLength)
            throw Bad(path, $"zip central directory [{cdOffset}, {cdOffset + cdSize}) lies outside the {fileLength}-byte file (truncated?).");

        byte[] cd = new byte[cdSize]; // (cdSize) the whole central directory
        ReadExactly(file, cd, cdOffset, path);
        var entries = new List<StoredZipEntry>((int)entryCount);
        var names = new HashSet<string>(StringComparer.Ordinal);
        int pos = 0;
        for (long i = 0; i < entryCount; i++)
        {
            if (pos + CentralHeaderSize > cd.Length) throw Bad(path, $"zip central directory ends inside entry {i} of {entryCount}.");
            ReadOnlySpan<byte> h = cd.AsSpan(pos);
            if (BinaryPrimitives.ReadUInt32LittleEndian(h) != CentralHeaderSignature)
                throw Bad(path, $"zip central directory entry {i} at byte {cdOffset + pos} has a bad signature.");
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(h[8..]);
            ushort method = BinaryPrimitives.ReadUInt16LittleEndian(h[10..]);
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(h[16..]);
            long compressed = BinaryPrimitives.ReadUInt32LittleEndian(h[20..]);
            long uncompressed = BinaryPrimitives.ReadUInt32LittleEndian(h[24..]);
            int nameLen = BinaryPrimitives.ReadUInt16LittleEndian(h[28..]);
            int extraLen = BinaryPrimitives.ReadUInt16LittleEndian(h[30..]);
            int commentLen = BinaryPrimitives.ReadUInt16LittleEndian(h[32..]);
            long diskStart = BinaryPrimitives.ReadUInt16LittleEndian(h[34..]);
            long localOffset = BinaryPrimitives.ReadUInt32LittleEndian(h[42..]);
            if (pos + CentralHeaderSize + nameLen + extraLen + commentLen > cd.Length)
                throw Bad(path, $"zip central directory entry {i} runs past the end of the directory.");
            string name = Encoding.UTF8.GetString(h.Slice(CentralHeaderSize, nameLen));
            ReadOnlySpan<byte> extra = h.Slice(CentralHeaderSize + nameLen, extraLen);
            ApplyZip64Extra(extra, ref uncompressed, ref compressed, ref localOffset, ref diskStart, path, name);

            if ((flags & 1) != 0) throw Bad(path, $"zip entry '{name}' is encrypted; PyTorch checkpoints are not.");
            if (method != 0) throw Bad(path, $"zip entry '{name}' uses compression method {method}; only stored entries (method 0), as torch.save writes them, are supported.");
            if (compressed != uncompressed) throw Bad(path, $"zip entry '{name}' is stored but its sizes differ ({compressed} vs {uncompressed}).");
            if (diskStart != 0) throw Bad(path, $"zip entry '{name}' lies on disk {diskStart}; multi-disk archives are not supported.");
            if (!names.Add(name)) throw Bad(path, $"zip entry '{name}' appears twice.");

            long dataOffset = ReadLocalHeader(file, fileLength, localOffset, name, path);
            if (dataOffset + uncompressed > fileLength)
                throw Bad(path, $"zip entry '{name}' data [{dataOffset}, {dataOffset + uncompressed}) lies outside the {fileLength}-byte file (truncated?).");
            entries.Add(new StoredZipEntry(name, dataOffset, uncompressed, crc));
            pos += CentralHeaderSize + nameLen + extraLen + commentLen;
        }
        return entries;
    }

    /// <summary>Finds the end-of-central-directory record (searching back over a comment) and, when fields overflow, the ZIP64 record.</summary>
    private static (long Offset, long Size, long Count) ReadEndOfCentralDirectory(SafeFileHandle file, long fileLength, string path)
    {
        if (fileLength < EndOfCentralDirSize) throw Bad(path, $"file is {fileLength} bytes, too short for a zip archive (truncated?).");
        int tailLen = (int)Math.Min(fileLength, EndOfCentralDirSize + ushort.MaxValue);
        byte[] tail = new byte[tailLen]; // (tailLen) the end of the file, where the record and its comment lie
        long tailStart = fileLength - tailLen;
        ReadExactly(file, tail, tailStart, path);
        int eocd = -1;
        for (int p = tailLen - EndOfCentralDirSize; p >= 0; p--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(p)) == EndOfCentralDirSignature
                && p + EndOfCentralDirSize + BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(p + 20)) == tailLen)
            {
                eocd = p;
                break;
            }
        }
        if (eocd < 0) throw Bad(path, "no zip end-of-central-directory record found: not a zip archive, or truncated.");

        ReadOnlySpan<byte> e = tail.AsSpan(eocd);
        int disk = BinaryPrimitives.ReadUInt16LittleEndian(e[4..]);
        int cdDisk = BinaryPrimitives.ReadUInt16LittleEndian(e[6..]);
        long countHere = BinaryPrimitives.ReadUInt16LittleEndian(e[8..]);
        long count = BinaryPrimitives.ReadUInt16LittleEndian(e[10..]);
        long size = BinaryPrimitives.ReadUInt32LittleEndian(e[12..]);
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(e[16..]);

        long eocdAbs = tailStart + eocd;
        bool needsZip64 = count == 0xFFFF || countHere == 0xFFFF || size == 0xFFFFFFFF || offset == 0xFFFFFFFF || disk == 0xFFFF || cdDisk == 0xFFFF;
        bool hasLocator = eocdAbs >= Zip64LocatorSize
            && eocd >= Zip64LocatorSize
            && BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(eocd - Zip64LocatorSize)) == Zip64LocatorSignature;
        if (hasLocator)
        {
            ReadOnlySpan<byte> loc = tail.AsSpan(eocd - Zip64LocatorSize);
            long recordOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(loc[8..]);
            if (recordOffset < 0 || recordOffset + Zip64EndOfCentralDirSize > eocdAbs - Zip64LocatorSize)
                throw Bad(path, $"zip64 end-of-central-directory offset {recordOffset} is out of range.");
            byte[] z = new byte[Zip64EndOfCentralDirSize]; // (56) the fixed part of the ZIP64 record
            ReadExactly(file, z, recordOffset, path);
            if (BinaryPrimitives.ReadUInt32LittleEndian(z) != Zip64EndOfCentralDirSignature)
                throw Bad(path, $"zip64 end-of-central-directory record at byte {recordOffset} has a bad signature.");
            disk = (int)BinaryPrimitives.ReadUInt32LittleEndian(z.AsSpan(16));
            cdDisk = (int)BinaryPrimitives.ReadUInt32LittleEndian(z.AsSpan(20));
            countHere = (long)BinaryPrimitives.ReadUInt64LittleEndian(z.AsSpan(24));
            count = (long)BinaryPrimitives.ReadUInt64LittleEndian(z.AsSpan(32));
            size = (long)BinaryPrimitives.ReadUInt64LittleEndian(z.AsSpan(40));
            offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(z.AsSpan(48));
        }
        else if (needsZip64)
        {
            throw Bad(path, "zip end-of-central-directory needs a ZIP64 record, but no ZIP64 locator precedes it.");
        }
        if (disk != 0 || cdDisk != 0 || countHere != count)
            throw Bad(path, "multi-disk zip archives are not supported.");
        if (count < 0 || size < 0 || offset < 0) throw Bad(path, "zip end-of-central-directory holds out-of-range values.");
        return (offset, size, count);
    }

    /// <summary>Replaces overflowed (0xFFFFFFFF / 0xFFFF) central-directory fields with the ZIP64 extended-information extra field's values, in APPNOTE order.</summary>
    private static void ApplyZip64Extra(ReadOnlySpan<byte> extra, ref long uncompressed, ref long compressed, ref long localOffset, ref long diskStart, string path, string name)
    {
        bool any = uncompressed == 0xFFFFFFFF || compressed == 0xFFFFFFFF || localOffset == 0xFFFFFFFF || diskStart == 0xFFFF;
        if (!any) return;
        while (extra.Length >= 4)
        {
            ushort id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
            int len = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            if (4 + len > extra.Length) break;
            if (id == Zip64ExtraId)
            {
                ReadOnlySpan<byte> z = extra.Slice(4, len);
                if (uncompressed == 0xFFFFFFFF) uncompressed = TakeU64(ref z, path, name);
                if (compressed == 0xFFFFFFFF) compressed = TakeU64(ref z, path, name);
                if (localOffset == 0xFFFFFFFF) localOffset = TakeU64(ref z, path, name);
                if (diskStart == 0xFFFF)
                {
                    if (z.Length < 4) throw Bad(path, $"zip entry '{name}' has a short ZIP64 extra field.");
                    diskStart = BinaryPrimitives.ReadUInt32LittleEndian(z);
                }
                return;
            }
            extra = extra[(4 + len)..];
        }
        throw Bad(path, $"zip entry '{name}' has overflowed size or offset fields but no ZIP64 extra field.");
    }

    private static long TakeU64(ref ReadOnlySpan<byte> z, string path, string name)
    {
        if (z.Length < 8) throw Bad(path, $"zip entry '{name}' has a short ZIP64 extra field.");
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(z);
        z = z[8..];
        if (v > long.MaxValue) throw Bad(path, $"zip entry '{name}' has a ZIP64 value {v} out of range.");
        return (long)v;
    }

    /// <summary>Reads an entry's local header and returns the absolute offset of its data (header + name + local extra, which torch uses for 64-byte alignment).</summary>
    private static long ReadLocalHeader(SafeFileHandle file, long fileLength, long localOffset, string name, string path)
    {
        if (localOffset < 0 || localOffset + LocalHeaderSize > fileLength)
            throw Bad(path, $"zip entry '{name}' local header at byte {localOffset} lies outside the {fileLength}-byte file (truncated?).");
        Span<byte> h = stackalloc byte[LocalHeaderSize]; // (30) fixed local header
        ReadExactly(file, h, localOffset, path);
        if (BinaryPrimitives.ReadUInt32LittleEndian(h) != LocalHeaderSignature)
            throw Bad(path, $"zip entry '{name}' local header at byte {localOffset} has a bad signature.");
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(h[6..]);
        ushort method = BinaryPrimitives.ReadUInt16LittleEndian(h[8..]);
        int nameLen = BinaryPrimitives.ReadUInt16LittleEndian(h[26..]);
        int extraLen = BinaryPrimitives.ReadUInt16LittleEndian(h[28..]);
        if ((flags & 1) != 0) throw Bad(path, $"zip entry '{name}' is encrypted; PyTorch checkpoints are not.");
        if (method != 0) throw Bad(path, $"zip entry '{name}' uses compression method {method} in its local header; only stored entries are supported.");
        long nameAt = localOffset + LocalHeaderSize;
        if (nameAt + nameLen + extraLen > fileLength) throw Bad(path, $"zip entry '{name}' local header runs past the end of the file (truncated?).");
        byte[] localName = new byte[nameLen]; // (nameLen) the name as the local header spells it
        ReadExactly(file, localName, nameAt, path);
        if (!Encoding.UTF8.GetString(localName).Equals(name, StringComparison.Ordinal))
            throw Bad(path, $"zip entry '{name}' local header names '{Encoding.UTF8.GetString(localName)}' instead.");
        return nameAt + nameLen + extraLen;
    }

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="offset"/>; a short read means the file is truncated.</summary>
    internal static void ReadExactly(SafeFileHandle file, Span<byte> buffer, long offset, string path)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int n = RandomAccess.Read(file, buffer[done..], offset + done);
            if (n <= 0) throw Bad(path, $"unexpected end of file at byte {offset + done} while reading {buffer.Length} bytes at {offset} (truncated?).");
            done += n;
        }
    }

    private static CheckpointFormatException Bad(string path, string message) => new(path, null, message);
}
