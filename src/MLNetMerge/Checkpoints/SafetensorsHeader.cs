using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints;

/// <summary>
/// Parses and validates a safetensors header: an 8-byte little-endian length N, then N bytes of UTF-8 JSON mapping
/// tensor names to <c>{"dtype", "shape", "data_offsets": [begin, end]}</c> (offsets relative to the byte after the
/// header) and an optional <c>"__metadata__"</c> string map. Every violation raises
/// <see cref="CheckpointFormatException"/> naming the file and, where there is one, the tensor.
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>Largest header accepted (the reference implementation's limit is 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>What a file that is not safetensors is, from its first 8 bytes: a NumPy array, a zip archive, JSON, text
    /// (YAML, CSV), or null when unknown.</summary>
    internal static string? ForeignFile(ReadOnlySpan<byte> prefix)
    {
        if (prefix.Length < 8) return null;
        if (prefix[0] == 0x93 && prefix[1..6].SequenceEqual("NUMPY"u8)) return "a NumPy .npy array";
        if (prefix[0] == (byte)'P' && prefix[1] == (byte)'K') return "a zip archive";
        if (prefix[0] == 0x80) return "a Python pickle";
        foreach (byte b in prefix)
            if (b is not ((>= 0x20 and < 0x7F) or (byte)'\n' or (byte)'\r' or (byte)'\t')) return null;
        return prefix[0] is (byte)'{' or (byte)'[' ? "a JSON file" : "a text file (YAML, CSV or similar)";
    }

    /// <summary>Validates the header and returns tensors sorted by their data offset, plus metadata.</summary>
    /// <param name="file">File name for messages and for <see cref="TensorInfo.File"/>.</param>
    /// <param name="prefix">The first 8 bytes of the file.</param>
    /// <param name="readHeader">Reads the JSON bytes given N.</param>
    /// <param name="fileLength">Total file length in bytes.</param>
    public static (List<TensorInfo> Tensors, Dictionary<string, string> Metadata) Parse(
        string file, ReadOnlySpan<byte> prefix, Func<int, byte[]> readHeader, long fileLength)
    {
        if (fileLength < 8 || prefix.Length < 8)
            throw new CheckpointFormatException(file, null, $"file is {fileLength} bytes; a safetensors file starts with an 8-byte header length.");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderBytes)
            throw new CheckpointFormatException(file, null, ForeignFile(prefix) is { } kind
                ? $"is {kind}, not a checkpoint (a safetensors file starts with an 8-byte header length; checkpoints are .safetensors, .bin/.pt, .onnx or a model folder)."
                : $"header length {n} exceeds the {MaxHeaderBytes}-byte limit (not a safetensors file?).");
        if ((long)n > fileLength - 8)
            throw new CheckpointFormatException(file, null, $"header length {n} runs past the end of the {fileLength}-byte file (truncated?).");
        if (n < 2)
            throw new CheckpointFormatException(file, null, $"header length {n} is too short for a JSON object.");
        byte[] json = readHeader((int)n);
        long dataStart = 8 + (long)n;
        long dataLength = fileLength - dataStart;
        // JsonDocument accepts invalid UTF-8 inside strings and only fails when a name or value is decoded
        // (InvalidOperationException), so check the encoding first.
        if (!System.Text.Unicode.Utf8.IsValid(json.AsSpan(0, (int)n)))
            throw new CheckpointFormatException(file, null, "header is not valid UTF-8.");

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.AsMemory(0, (int)n), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(file, null, $"header is not valid JSON ({e.Message}).", e);
        }

        var tensors = new List<TensorInfo>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointFormatException(file, null, "header must be a JSON object.");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(prop.Name))
                    throw new CheckpointFormatException(file, prop.Name, "appears twice in the header.");
                if (prop.Name == "__metadata__")
                {
                    ReadMetadata(file, prop.Value, metadata);
                    continue;
                }
                tensors.Add(ReadEntry(file, prop.Name, prop.Value, dataStart, dataLength));
            }
        }
        CheckNoOverlap(file, tensors, dataStart);
        return (tensors, metadata);
    }

    private static void ReadMetadata(string file, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointFormatException(file, "__metadata__", "must be an object of strings.");
        foreach (var m in value.EnumerateObject())
        {
            if (m.Value.ValueKind != JsonValueKind.String)
                throw new CheckpointFormatException(file, "__metadata__", $"value of '{m.Name}' must be a string.");
            metadata[m.Name] = m.Value.GetString()!;
        }
    }

    private static TensorInfo ReadEntry(string file, string name, JsonElement e, long dataStart, long dataLength)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw new CheckpointFormatException(file, name, "entry must be an object with dtype, shape and data_offsets.");
        if (!e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String)
            throw new CheckpointFormatException(file, name, "missing string field 'dtype'.");
        if (!DTypes.TryParseSafetensors(dt.GetString()!, out var dtype))
            throw new CheckpointFormatException(file, name, $"unknown dtype '{dt.GetString()}'; expected one of F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL.");
        if (!e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array)
            throw new CheckpointFormatException(file, name, "missing array field 'shape'.");
        var shape = new int[sh.GetArrayLength()];
        long count = 1;
        int i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v) || v < 0 || v > int.MaxValue)
                throw new CheckpointFormatException(file, name, $"shape entry {i} must be a non-negative integer below 2^31.");
            shape[i++] = (int)v;
            count = count > long.MaxValue / Math.Max(v, 1) ? long.MaxValue : count * v;
        }
        if (!e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new CheckpointFormatException(file, name, "missing field 'data_offsets' = [begin, end].");
        long begin = ReadOffset(file, name, off[0]);
        long end = ReadOffset(file, name, off[1]);
        if (end < begin)
            throw new CheckpointFormatException(file, name, $"data_offsets [{begin}, {end}] end before they begin.");
        if (end > dataLength)
            throw new CheckpointFormatException(file, name, $"data_offsets [{begin}, {end}] run past the {dataLength} data bytes of the file (truncated?).");
        // The byte count of the shape, without wrapping: 2^62 F32 elements need 2^64 bytes, not 0.
        int size = dtype.SizeOf();
        if (count > long.MaxValue / size)
            throw new CheckpointFormatException(file, name, $"{dtype} shape [{string.Join(", ", shape)}] needs more than 2^63 bytes; its data_offsets span {end - begin}.");
        long expected = count * size;
        if (end - begin != expected)
            throw new CheckpointFormatException(file, name, $"data_offsets span {end - begin} bytes but {dtype} shape [{string.Join(", ", shape)}] needs {expected}.");
        foreach (var key in e.EnumerateObject())
            if (key.Name is not ("dtype" or "shape" or "data_offsets"))
                throw new CheckpointFormatException(file, name, $"unexpected field '{key.Name}' in the entry.");
        return new TensorInfo(name, dtype, shape, file, dataStart + begin, end - begin);
    }

    private static long ReadOffset(string file, string name, JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long x) || x < 0)
            throw new CheckpointFormatException(file, name, "data_offsets must be non-negative integers.");
        return x;
    }

    private static void CheckNoOverlap(string file, List<TensorInfo> tensors, long dataStart)
    {
        tensors.Sort((a, b) => a.Offset != b.Offset ? a.Offset.CompareTo(b.Offset) : string.CompareOrdinal(a.Name, b.Name));
        long prevEnd = dataStart;
        string? prevName = null;
        foreach (var t in tensors)
        {
            if (t.ByteLength == 0) continue;
            if (t.Offset < prevEnd)
                throw new CheckpointFormatException(file, t.Name, $"data_offsets overlap those of '{prevName}'.");
            prevEnd = t.Offset + t.ByteLength;
            prevName = t.Name;
        }
    }

    /// <summary>
    /// Encodes a header for the given entries (in order, contiguous from 0) and metadata (keys in ordinal order, first),
    /// padded with spaces to a multiple of 8. Written by hand, compact, escaped as a relaxed-escaping JSON writer escapes
    /// (the bytes <c>Utf8JsonWriter</c> with <c>UnsafeRelaxedJsonEscaping</c> writes, without the ~15 ms its encoder
    /// tables cost at start-up).
    /// </summary>
    /// <exception cref="ArgumentException">A name or value holds an unpaired surrogate (not encodable as UTF-8).</exception>
    public static byte[] Encode(ReadOnlySpan<(string Name, DType DType, int[] Shape, long Begin, long End)> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var sb = new StringBuilder(64 + 96 * entries.Length);
        sb.Append('{');
        bool first = true;
        if (metadata is { Count: > 0 })
        {
            sb.Append("\"__metadata__\":{");
            // Keys sorted into an array (no LINQ ordering over key-value pairs: its generic code is compiled at first use,
            // ~5 ms of every merge's start).
            var keys = new string[metadata.Count];
            int n = 0;
            foreach (var key in metadata.Keys) keys[n++] = key;
            Array.Sort(keys, StringComparer.Ordinal);
            foreach (var key in keys)
            {
                if (!first) sb.Append(',');
                first = false;
                AppendString(sb, key);
                sb.Append(':');
                AppendString(sb, metadata[key]);
            }
            sb.Append('}');
            first = false;
        }
        foreach (var e in entries)
        {
            if (!first) sb.Append(',');
            first = false;
            AppendString(sb, e.Name);
            sb.Append(":{\"dtype\":");
            AppendString(sb, e.DType.ToSafetensorsName());
            sb.Append(",\"shape\":[");
            for (int i = 0; i < e.Shape.Length; i++)
            {
                if (i > 0) sb.Append(',');
                sb.Append(e.Shape[i].ToString(CultureInfo.InvariantCulture));
            }
            sb.Append("],\"data_offsets\":[").Append(e.Begin.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(e.End.ToString(CultureInfo.InvariantCulture)).Append("]}");
        }
        sb.Append('}');
        byte[] json = Utf8.GetBytes(sb.ToString());
        int len = json.Length;
        int padded = (len + 7) / 8 * 8;
        var result = new byte[8 + padded];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)padded);
        json.CopyTo(result.AsSpan(8));
        result.AsSpan(8 + len).Fill((byte)' ');
        return result;
    }

    /// <summary>
    /// Appends <paramref name="value"/> as a JSON string literal: quotes and backslashes escaped, control characters as
    /// <c>\b \f \n \r \t</c> or <c>\u00XX</c>, DEL and characters outside the Basic Multilingual Plane (surrogate
    /// pairs) as <c>\uXXXX</c>, as a relaxed-escaping JSON writer does; the rest raw.
    /// </summary>
    /// <exception cref="ArgumentException">An unpaired surrogate.</exception>
    private static void AppendString(StringBuilder sb, string value)
    {
        sb.Append('"');
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                    {
                        Escape(sb, c);
                        Escape(sb, value[++i]);
                    }
                    else if (char.IsSurrogate(c))
                        throw new ArgumentException($"'{value[..i]}…' holds an unpaired surrogate and cannot be written as UTF-8.", nameof(value));
                    else if (c < ' ' || c == '\u007f') Escape(sb, c);
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    private static void Escape(StringBuilder sb, char c) => sb.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));

    /// <summary>UTF-8 without BOM, as the format requires.</summary>
    public static readonly Encoding Utf8 = new UTF8Encoding(false);
}
