using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints.PyTorch;

/// <summary>
/// Reads a PyTorch checkpoint written by <c>torch.save</c> (<c>.bin</c>, <c>.pt</c>, <c>.pth</c>) without executing any
/// of its pickle: the zip format of PyTorch ≥ 1.6, and the legacy format (<c>_use_new_zipfile_serialization=False</c>,
/// pickle protocol 2). The content may be a state dict (optionally nested, e.g. <c>{"state_dict": …}</c>, flattened with
/// dots) or a whole pickled <c>nn.Module</c> (named as its <c>state_dict()</c> would be).
/// Globals other than the tensor-rebuild allow-list are rejected with <see cref="CheckpointFormatException"/> naming them.
/// For a contiguous tensor, <see cref="TensorInfo.Offset"/> and <see cref="TensorInfo.ByteLength"/> give its bytes in the
/// file; a non-contiguous view (e.g. a saved transpose) has <see cref="TensorInfo.Offset"/> at its first element and is
/// gathered into row-major order by <see cref="ReadRaw"/> and <see cref="ReadFloat32"/> (see <see cref="IsContiguous"/>).
/// Reads use <see cref="RandomAccess"/> and are safe to run concurrently.
/// </summary>
internal sealed class PyTorchCheckpointReader : ICheckpointReader
{
    private const long MaxPickleBytes = 1L << 30;

    /// <summary>The first bytes of the legacy (pre-1.6) format: PROTO 2, then LONG1 of the magic number 0x1950a86a20f9469cfc6c.</summary>
    private static ReadOnlySpan<byte> LegacyMagic => [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

    private readonly SafeFileHandle _file;
    private readonly Dictionary<string, (TensorInfo Info, TorchTensorLayout Layout)> _byName;

    private PyTorchCheckpointReader(string path, SafeFileHandle file, List<TensorInfo> tensors,
        Dictionary<string, (TensorInfo, TorchTensorLayout)> byName, Dictionary<string, string> metadata)
    {
        Path = path;
        _file = file;
        Tensors = tensors;
        _byName = byName;
        Metadata = metadata;
    }

    /// <inheritdoc/>
    public string Path { get; }

    /// <inheritdoc/>
    public IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>The checkpoint's scalar entries (strings, integers, floats, bools), flattened like tensor names, e.g. <c>epoch</c>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Whether <paramref name="path"/> names a PyTorch checkpoint by its ending (<c>.bin</c>, <c>.pt</c>, <c>.pth</c>).</summary>
    public static bool IsPyTorchPath(string path) =>
        path.EndsWith(".bin", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pt", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pth", StringComparison.OrdinalIgnoreCase);

    /// <summary>Opens a <c>torch.save</c> checkpoint, reads its directory and pickle, and checks every tensor against its storage.</summary>
    /// <param name="path">The <c>.bin</c> / <c>.pt</c> / <c>.pth</c> file.</param>
    /// <exception cref="CheckpointFormatException">Not a torch.save file, a damaged or truncated zip, a compressed or encrypted entry, a forbidden global or opcode in the pickle, big-endian data, or a tensor outside its storage.</exception>
    public static PyTorchCheckpointReader Open(string path)
    {
        var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            long length = RandomAccess.GetLength(file);
            var rebuild = new TorchPickleRebuild(path);
            var (root, storages) = IsLegacy(file, length)
                ? LegacyTorchFile.Read(file, length, path, rebuild, MaxPickleBytes)
                : ReadZip(file, length, path, rebuild);
            var (named, metadata) = TorchStateDictFlattener.Flatten(root, path);
            if (rebuild.Defects.Count > 0)
                throw new CheckpointFormatException(path, null, rebuild.Defects[0].Problem + " (a tensor outside the state dict)");

            var tensors = new List<TensorInfo>(named.Count);
            var byName = new Dictionary<string, (TensorInfo, TorchTensorLayout)>(named.Count, StringComparer.Ordinal);
            foreach (var (name, t) in named)
            {
                if (!storages.TryGetValue(t.Storage.Key, out var data))
                    throw new CheckpointFormatException(path, name, $"the bytes of storage '{t.Storage.Key}' are missing from the file.");
                long storageBytes = t.Storage.ElementCount > data.Length ? -1 : t.Storage.ElementCount * t.Storage.DType.SizeOf();
                if (data.Length != storageBytes)
                    throw new CheckpointFormatException(path, name,
                        $"storage '{t.Storage.Key}' should hold {t.Storage.ElementCount} elements of {t.Storage.DType}, but the file has {data.Length} bytes for it.");
                var layout = TorchTensorLayout.Create(t, data.Offset, path, name);
                long count = 1;
                try { foreach (int d in t.Shape) count = checked(count * d * layout.ElementSize) / layout.ElementSize; }
                catch (OverflowException) { throw new CheckpointFormatException(path, name, "element count overflows."); }
                var info = new TensorInfo(name, t.Storage.DType, t.Shape.ToArray(), path, layout.FirstElementOffset, count * layout.ElementSize);
                tensors.Add(info);
                byName[name] = (info, layout);
            }
            return new PyTorchCheckpointReader(path, file, tensors, byName, metadata);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public bool TryGetTensor(string name, out TensorInfo info)
    {
        if (_byName.TryGetValue(name, out var found)) { info = found.Info; return true; }
        info = null!;
        return false;
    }

    /// <summary>True when the tensor's bytes are one row-major run at <see cref="TensorInfo.Offset"/>; false for a strided view that reads gather.</summary>
    public bool IsContiguous(TensorInfo tensor) => LayoutOf(tensor).Contiguous;

    /// <inheritdoc/>
    public void ReadFloat32(TensorInfo tensor, Span<float> destination)
    {
        var layout = LayoutOf(tensor);
        if (!tensor.DType.IsFloatingPoint())
            throw new CheckpointFormatException(Path, tensor.Name, $"is {tensor.DType}, not a floating-point type; read it with ReadRaw.");
        if (destination.Length != tensor.ElementCount)
            throw new ArgumentException($"destination holds {destination.Length} floats; tensor '{tensor.Name}' has {tensor.ElementCount}.", nameof(destination));
        if (tensor.DType == DType.F32)
        {
            ReadInto(tensor, layout, MemoryMarshal.AsBytes(destination));
            return;
        }
        byte[] raw = ByteBufferPool.Rent(tensor.ByteLength); // (ByteLength) stored bytes before widening
        try
        {
            Span<byte> bytes = raw.AsSpan(0, (int)tensor.ByteLength);
            ReadInto(tensor, layout, bytes);
            DTypeConversion.ToFloat32(bytes, tensor.DType, destination);
        }
        finally
        {
            ByteBufferPool.Return(raw);
        }
    }

    /// <inheritdoc/>
    public void ReadRaw(TensorInfo tensor, Span<byte> destination)
    {
        var layout = LayoutOf(tensor);
        if (destination.Length != tensor.ByteLength)
            throw new ArgumentException($"destination holds {destination.Length} bytes; tensor '{tensor.Name}' has {tensor.ByteLength}.", nameof(destination));
        ReadInto(tensor, layout, destination);
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _file.Dispose();

    private void ReadInto(TensorInfo tensor, TorchTensorLayout layout, Span<byte> destination)
    {
        if (destination.Length == 0) return;
        if (layout.Contiguous)
        {
            StoredZipReader.ReadExactly(_file, destination, layout.FirstElementOffset, Path);
            return;
        }
        long spanBytes = layout.SpanElements * layout.ElementSize;
        if (spanBytes > Array.MaxLength)
            throw new CheckpointFormatException(Path, tensor.Name, $"strided view spans {spanBytes} bytes of its storage; at most {Array.MaxLength} can be gathered.");
        byte[] span = ByteBufferPool.Rent(spanBytes); // (SpanElements × ElementSize) storage bytes covering the view
        try
        {
            StoredZipReader.ReadExactly(_file, span.AsSpan(0, (int)spanBytes), layout.FirstElementOffset, Path);
            layout.Gather(span.AsSpan(0, (int)spanBytes), destination);
        }
        finally
        {
            ByteBufferPool.Return(span);
        }
    }

    private TorchTensorLayout LayoutOf(TensorInfo tensor)
    {
        if (!_byName.TryGetValue(tensor.Name, out var found) || !ReferenceEquals(found.Info, tensor) && found.Info != tensor)
            throw new ArgumentException($"tensor '{tensor.Name}' does not belong to checkpoint '{Path}'.", nameof(tensor));
        return found.Layout;
    }

    /// <summary>True when the file starts with the legacy format's magic-number pickle.</summary>
    private static bool IsLegacy(SafeFileHandle file, long length)
    {
        Span<byte> head = stackalloc byte[14]; // (14) PROTO 2 + LONG1 magic
        if (length < head.Length) return false;
        return RandomAccess.Read(file, head, 0) == head.Length && head.SequenceEqual(LegacyMagic);
    }

    /// <summary>The torch.save zip container: checks byte order, reads and checks <c>data.pkl</c>, and maps each storage key to its <c>data/&lt;key&gt;</c> entry.</summary>
    private static (object? Root, Dictionary<string, (long Offset, long Length)> Storages) ReadZip(
        SafeFileHandle file, long length, string path, TorchPickleRebuild rebuild)
    {
        Span<byte> head = stackalloc byte[4]; // (4) zip local header signature
        int n = length >= 4 ? RandomAccess.Read(file, head, 0) : 0;
        if (n < 4 || head[0] != (byte)'P' || head[1] != (byte)'K' || head[2] != 3 || head[3] != 4)
            throw new CheckpointFormatException(path, null,
                "is not a PyTorch checkpoint: it starts neither with a zip local header ('PK\\x03\\x04', torch.save since 1.6) nor with the legacy magic number.");
        var entries = StoredZipReader.ReadEntries(file, length, path).ToDictionary(e => e.Name, StringComparer.Ordinal);
        string prefix = FindArchivePrefix(entries.Keys, path);

        if (entries.TryGetValue(prefix + "byteorder", out var byteOrder))
        {
            string order = Encoding.ASCII.GetString(ReadEntry(file, byteOrder, 64, path)).Trim();
            if (order != "little")
                throw new CheckpointFormatException(path, null, $"byteorder is '{order}'; only little-endian checkpoints are supported.");
        }

        var pickleEntry = entries[prefix + "data.pkl"];
        byte[] pickle = ReadEntry(file, pickleEntry, MaxPickleBytes, path);
        if (Crc32.Compute(pickle) != pickleEntry.Crc32)
            throw new CheckpointFormatException(path, null, $"{pickleEntry.Name} fails its CRC-32 check (corrupt file).");
        object? root = RestrictedUnpickler.Load(pickle, path, pickleEntry.Name, rebuild);

        string dataPrefix = prefix + "data/";
        var storages = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        foreach (var e in entries.Values)
            if (e.Name.StartsWith(dataPrefix, StringComparison.Ordinal))
                storages[e.Name[dataPrefix.Length..]] = (e.DataOffset, e.Length);
        return (root, storages);
    }

    /// <summary>The archive folder, e.g. <c>archive/</c>: the prefix of the single top-level <c>&lt;name&gt;/data.pkl</c> entry.</summary>
    private static string FindArchivePrefix(IEnumerable<string> names, string path)
    {
        var pickles = names.Where(n => n.EndsWith("/data.pkl", StringComparison.Ordinal) && n.IndexOf('/') == n.Length - "/data.pkl".Length).ToList();
        if (pickles.Count == 0) throw new CheckpointFormatException(path, null, "zip archive has no '<archive>/data.pkl' entry: not a torch.save checkpoint.");
        if (pickles.Count > 1) throw new CheckpointFormatException(path, null, $"zip archive has {pickles.Count} data.pkl entries ({string.Join(", ", pickles)}).");
        return pickles[0][..^"data.pkl".Length];
    }

    private static byte[] ReadEntry(SafeFileHandle file, StoredZipEntry entry, long maxBytes, string path)
    {
        if (entry.Length > maxBytes)
            throw new CheckpointFormatException(path, null, $"zip entry '{entry.Name}' is {entry.Length} bytes; at most {maxBytes} are accepted.");
        byte[] bytes = new byte[entry.Length]; // (entry.Length) the entry's data
        StoredZipReader.ReadExactly(file, bytes, entry.DataOffset, path);
        return bytes;
    }
}
