using Microsoft.Win32.SafeHandles;
using System.Runtime.InteropServices;
using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints;

/// <summary>One tensor a <see cref="SafetensorsWriter"/> will hold: name, stored dtype and shape.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="DType">Element type written to the file.</param>
/// <param name="Shape">Dimensions.</param>
internal sealed record TensorEntry(string Name, DType DType, int[] Shape)
{
    /// <summary>Element count.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);

    /// <summary>Bytes stored.</summary>
    public long ByteLength => ElementCount * DType.SizeOf();
}

/// <summary>
/// Writes one safetensors file whose tensor list is fixed up front: the header (padded with spaces to a multiple of
/// 8 bytes, <c>__metadata__</c> first) is written on creation and every tensor has a known position, so tensors can
/// be written in any order and from several threads with positional writes. Nothing is buffered per tensor beyond
/// the dtype conversion.
/// </summary>
internal sealed class SafetensorsWriter : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly Dictionary<string, Slot> _layout = new(StringComparer.Ordinal); // a class value: the shared generic code, nothing compiled at start

    /// <summary>A tensor's entry and its byte offset in the data section.</summary>
    private sealed record Slot(TensorEntry Entry, long Offset);
    private readonly HashSet<string> _written = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _sliced = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    /// <summary>Creates <paramref name="path"/> (overwriting) with the given tensors, in order, and metadata.</summary>
    public SafetensorsWriter(string path, IReadOnlyList<TensorEntry> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Path = path;
        var entries = new (string, DType, int[], long, long)[tensors.Count];
        long pos = 0;
        for (int i = 0; i < entries.Length; i++)
        {
            var t = tensors[i];
            if (_layout.ContainsKey(t.Name)) throw new ArgumentException($"tensor '{t.Name}' listed twice for {path}.");
            entries[i] = (t.Name, t.DType, t.Shape, pos, pos + t.ByteLength);
            _layout[t.Name] = new Slot(t, pos);
            pos += t.ByteLength;
        }
        byte[] header = SafetensorsHeader.Encode(entries, metadata);
        DataStart = header.Length;
        _handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, FileOptions.None, preallocationSize: header.Length + pos);
        RandomAccess.SetLength(_handle, header.Length + pos);
        RandomAccess.Write(_handle, header, 0);
    }

    /// <summary>Names of the tensors in the layout.</summary>
    public IEnumerable<string> Names => _layout.Keys;

    /// <summary>The file being written.</summary>
    public string Path { get; }

    /// <summary>Byte offset of the data section (8 + padded header length).</summary>
    public long DataStart { get; }

    /// <summary>Writes float32 values converted to the tensor's declared dtype.</summary>
    public void WriteFloat32(string name, ReadOnlySpan<float> values)
    {
        var (entry, offset) = Claim(name);
        if (values.Length != entry.ElementCount)
            throw new ArgumentException($"tensor '{name}' expects {entry.ElementCount} values, got {values.Length}.");
        WriteConverted(entry, offset, 0, values);
    }

    /// <summary>
    /// Writes elements <c>[start, start + values.Length)</c> of a tensor (float32 converted to its dtype). Slices of one
    /// tensor may come in any order from any thread; the tensor counts as written once slices covering all its
    /// elements arrived (slices must not overlap).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The slice does not lie inside the tensor.</exception>
    public void WriteFloat32(string name, long start, ReadOnlySpan<float> values)
    {
        if (!_layout.TryGetValue(name, out var slot)) throw new ArgumentException($"tensor '{name}' is not in the layout of {Path}.");
        var (entry, offset) = slot;
        if (start < 0 || start + values.Length > entry.ElementCount)
            throw new ArgumentOutOfRangeException(nameof(start), $"elements [{start}, {start + values.Length}) are outside tensor '{name}' of {entry.ElementCount} elements.");
        WriteConverted(entry, offset, start, values);
        lock (_gate)
        {
            if (_written.Contains(name)) throw new InvalidOperationException($"tensor '{name}' written twice to {Path}.");
            long done = _sliced.GetValueOrDefault(name) + values.Length;
            if (done == entry.ElementCount) { _sliced.Remove(name); _written.Add(name); }
            else _sliced[name] = done;
        }
    }

    private void WriteConverted(TensorEntry entry, long offset, long first, ReadOnlySpan<float> values)
    {
        int size = entry.DType.SizeOf();
        long position = DataStart + offset + first * size;
        if (entry.DType == DType.F32)
        {
            WriteChunked(MemoryMarshal.AsBytes(values), position);
            return;
        }
        const int chunk = 1 << 24;
        byte[] buf = ByteBufferPool.Rent((long)Math.Min(chunk, values.Length) * size);
        try
        {
            for (int start = 0; start < values.Length; start += chunk)
            {
                int count = Math.Min(chunk, values.Length - start);
                var bytes = buf.AsSpan(0, count * size);
                DTypeConversion.FromFloat32(values.Slice(start, count), entry.DType, bytes);
                RandomAccess.Write(_handle, bytes, position + (long)start * size);
            }
        }
        finally
        {
            ByteBufferPool.Return(buf);
        }
    }

    /// <summary>
    /// Reads back elements <c>[start, start + values.Length)</c> of a tensor already written, converted to float32 (exact:
    /// every float16/bfloat16 value is a float32 value).
    /// </summary>
    /// <exception cref="InvalidOperationException">The tensor is not written yet.</exception>
    public void ReadFloat32(string name, long start, Span<float> values)
    {
        var (entry, offset) = WrittenSlot(name, start, values.Length);
        int size = entry.DType.SizeOf();
        long position = DataStart + offset + start * size;
        if (entry.DType == DType.F32)
        {
            ReadBack(MemoryMarshal.AsBytes(values), position, name);
            return;
        }
        byte[] buf = ByteBufferPool.Rent((long)values.Length * size);
        try
        {
            var bytes = buf.AsSpan(0, values.Length * size);
            ReadBack(bytes, position, name);
            DTypeConversion.ToFloat32(bytes, entry.DType, values);
        }
        finally
        {
            ByteBufferPool.Return(buf);
        }
    }

    /// <summary>Overwrites elements <c>[start, start + values.Length)</c> of a tensor already written (float32 converted to its dtype).</summary>
    /// <exception cref="InvalidOperationException">The tensor is not written yet.</exception>
    public void RewriteFloat32(string name, long start, ReadOnlySpan<float> values)
    {
        var (entry, offset) = WrittenSlot(name, start, values.Length);
        WriteConverted(entry, offset, start, values);
    }

    private Slot WrittenSlot(string name, long start, int count)
    {
        if (!_layout.TryGetValue(name, out var slot)) throw new ArgumentException($"tensor '{name}' is not in the layout of {Path}.");
        if (start < 0 || start + count > slot.Entry.ElementCount)
            throw new ArgumentOutOfRangeException(nameof(start), $"elements [{start}, {start + count}) are outside tensor '{name}' of {slot.Entry.ElementCount} elements.");
        lock (_gate)
        {
            if (!_written.Contains(name)) throw new InvalidOperationException($"tensor '{name}' of {Path} is not written yet; only a written tensor is read back or rewritten.");
        }
        return slot;
    }

    private void ReadBack(Span<byte> bytes, long position, string name)
    {
        if (SafetensorsReader.ReadFully(_handle, bytes, position) != bytes.Length)
            throw new IOException($"{Path}: file ended inside tensor '{name}'.");
    }

    /// <summary>Writes stored bytes unchanged (for integer tensors and copies in the same dtype).</summary>
    public void WriteRaw(string name, ReadOnlySpan<byte> bytes)
    {
        var (entry, offset) = Claim(name);
        if (bytes.Length != entry.ByteLength)
            throw new ArgumentException($"tensor '{name}' expects {entry.ByteLength} bytes, got {bytes.Length}.");
        WriteChunked(bytes, DataStart + offset);
    }

    /// <summary>
    /// Uses a float32 tensor's place in the file as scratch before its final write: writes <paramref name="values"/> there
    /// without counting the tensor as written (its <see cref="WriteFloat32(string, ReadOnlySpan{float})"/> later overwrites
    /// them). Returns false, writing nothing, when the tensor is stored in another dtype.
    /// </summary>
    /// <exception cref="InvalidOperationException">The tensor was already written.</exception>
    public bool WriteScratch(string name, ReadOnlySpan<float> values)
    {
        var (entry, offset) = ScratchSlot(name, values.Length);
        if (entry.DType != DType.F32) return false;
        lock (_gate)
        {
            if (_written.Contains(name)) throw new InvalidOperationException($"tensor '{name}' of {Path} is already written; scratch only comes before.");
        }
        WriteChunked(MemoryMarshal.AsBytes(values), DataStart + offset);
        return true;
    }

    /// <summary>Reads back the float32 values <see cref="WriteScratch"/> put at a tensor's place.</summary>
    public void ReadScratch(string name, Span<float> values)
    {
        var (entry, offset) = ScratchSlot(name, values.Length);
        if (entry.DType != DType.F32) throw new InvalidOperationException($"tensor '{name}' of {Path} is {entry.DType}; scratch is float32 only.");
        ReadBack(MemoryMarshal.AsBytes(values), DataStart + offset, name);
    }

    private Slot ScratchSlot(string name, int count)
    {
        if (!_layout.TryGetValue(name, out var slot)) throw new ArgumentException($"tensor '{name}' is not in the layout of {Path}.");
        if (count != slot.Entry.ElementCount) throw new ArgumentException($"tensor '{name}' expects {slot.Entry.ElementCount} values, got {count}.");
        return slot;
    }

    private void WriteChunked(ReadOnlySpan<byte> bytes, long position)
    {
        const int chunk = 1 << 30;
        for (int start = 0; start < bytes.Length; start += chunk)
        {
            int count = Math.Min(chunk, bytes.Length - start);
            RandomAccess.Write(_handle, bytes.Slice(start, count), position + start);
        }
    }

    private Slot Claim(string name)
    {
        if (!_layout.TryGetValue(name, out var slot)) throw new ArgumentException($"tensor '{name}' is not in the layout of {Path}.");
        lock (_gate)
        {
            if (!_written.Add(name)) throw new InvalidOperationException($"tensor '{name}' written twice to {Path}.");
        }
        return slot;
    }

    /// <summary>Checks every declared tensor was written, then flushes and closes the file.</summary>
    public void Complete()
    {
        var missing = _layout.Keys.Where(k => !_written.Contains(k)).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"{Path}: {missing.Count} tensors never written, first '{missing[0]}'.");
        _handle.Dispose();
    }

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();
}
