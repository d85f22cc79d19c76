using System.Buffers.Binary;
using System.Numerics;
using Microsoft.Win32.SafeHandles;
using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints.PyTorch;

/// <summary>
/// Reads PyTorch's legacy (pre-1.6, <c>_use_new_zipfile_serialization=False</c>) format, laid out by
/// <c>torch.serialization._legacy_save</c> as five pickles followed by raw storages:
/// <c>pickle(magic 0x1950a86a20f9469cfc6c)</c>, <c>pickle(protocol 1001)</c>, <c>pickle(sys_info)</c>,
/// <c>pickle(obj)</c> (storages by persistent id), <c>pickle(sorted storage keys)</c>, then per key in that order
/// <c>int64 numel</c> (little-endian) and <c>numel × element size</c> bytes. The same restricted unpickler reads the pickles.
/// </summary>
internal static class LegacyTorchFile
{
    private const long ProtocolVersion = 1001;
    private static readonly BigInteger MagicNumber = BigInteger.Parse("1950a86a20f9469cfc6c", System.Globalization.NumberStyles.HexNumber);

    /// <summary>Reads the object pickle and locates every storage's bytes.</summary>
    /// <returns>The unpickled object and, per storage key, the absolute offset and length of its bytes.</returns>
    /// <exception cref="CheckpointFormatException">A header pickle is wrong, the data is big-endian, or the storages do not match the keys.</exception>
    public static (object? Root, Dictionary<string, (long Offset, long Length)> Storages) Read(
        SafeFileHandle file, long fileLength, string path, TorchPickleRebuild rebuild, long maxPickleBytes)
    {
        long pos = 0;
        var headerRebuild = new TorchPickleRebuild(path); // the header pickles hold plain values only
        if (ReadPickle(file, fileLength, ref pos, path, headerRebuild, maxPickleBytes) is not BigInteger magic || magic != MagicNumber)
            throw Bad(path, "legacy PyTorch file does not start with the magic number pickle.");
        if (ReadPickle(file, fileLength, ref pos, path, headerRebuild, maxPickleBytes) is not ProtocolVersion)
            throw Bad(path, $"legacy PyTorch file has an unknown protocol version (expected {ProtocolVersion}).");
        if (ReadPickle(file, fileLength, ref pos, path, headerRebuild, maxPickleBytes) is not PickleDict sysInfo)
            throw Bad(path, "legacy PyTorch file has no sys_info dict.");
        if (!sysInfo.TryGet("little_endian", out var little) || little is not true)
            throw Bad(path, "legacy PyTorch file was written big-endian (sys_info.little_endian is not True); only little-endian data is supported.");

        object? root = ReadPickle(file, fileLength, ref pos, path, rebuild, maxPickleBytes);
        if (ReadPickle(file, fileLength, ref pos, path, headerRebuild, maxPickleBytes) is not List<object?> keys)
            throw Bad(path, "legacy PyTorch file has no list of storage keys after the object pickle.");

        var storages = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        Span<byte> numelBytes = stackalloc byte[8]; // (8) int64 element count before each storage
        foreach (object? k in keys)
        {
            if (k is not string key) throw Bad(path, "legacy storage key list holds a non-string.");
            if (!rebuild.Storages.TryGetValue(key, out var storage))
                throw Bad(path, $"legacy storage '{key}' is listed but never referenced by the pickle.");
            if (pos + 8 > fileLength) throw Bad(path, $"file ends before storage '{key}' (truncated?).");
            StoredZipReader.ReadExactly(file, numelBytes, pos, path);
            long numel = BinaryPrimitives.ReadInt64LittleEndian(numelBytes);
            if (numel != storage.ElementCount)
                throw Bad(path, $"legacy storage '{key}' holds {numel} elements; the pickle declared {storage.ElementCount}.");
            long bytes = numel * storage.DType.SizeOf();
            if (pos + 8 + bytes > fileLength) throw Bad(path, $"storage '{key}' runs past the end of the file (truncated?).");
            if (!storages.TryAdd(key, (pos + 8, bytes))) throw Bad(path, $"legacy storage '{key}' is listed twice.");
            pos += 8 + bytes;
        }
        return (root, storages);
    }

    /// <summary>Unpickles the pickle at <paramref name="pos"/>, reading a growing window of the file until its STOP, and advances past it.</summary>
    private static object? ReadPickle(SafeFileHandle file, long fileLength, ref long pos, string path, TorchPickleRebuild rebuild, long maxPickleBytes)
    {
        long available = fileLength - pos;
        long window = Math.Min(available, 64 * 1024);
        while (true)
        {
            if (window > maxPickleBytes) throw Bad(path, $"legacy pickle at byte {pos} is longer than {maxPickleBytes} bytes.");
            byte[] buffer = new byte[window]; // (window) the file from pos on
            StoredZipReader.ReadExactly(file, buffer, pos, path);
            try
            {
                object? value = RestrictedUnpickler.LoadPrefix(buffer, buffer.Length, window == available, path,
                    $"legacy pickle (file byte {pos})", rebuild, out int consumed);
                pos += consumed;
                return value;
            }
            catch (EndOfStreamException)
            {
                window = Math.Min(available, window * 4);
            }
        }
    }

    private static CheckpointFormatException Bad(string path, string message) => new(path, null, message);
}
