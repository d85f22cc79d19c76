using System.Globalization;
using System.Runtime.InteropServices;
using MLNetMerge.Checkpoints.Onnx.Protobuf;
using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints.Onnx;

/// <summary>Where an initializer's bytes are: in memory (raw_data or converted typed fields), or a range of an external file.</summary>
/// <param name="Bytes">The little-endian bytes when they live in the model file.</param>
/// <param name="ExternalFile">The absolute path of the external data file, or null.</param>
/// <param name="ExternalOffset">Byte offset in <paramref name="ExternalFile"/>.</param>
/// <param name="Length">Number of bytes.</param>
internal readonly record struct OnnxTensorLocation(ReadOnlyMemory<byte> Bytes, string? ExternalFile, long ExternalOffset, long Length);

/// <summary>
/// Resolves where an ONNX <c>TensorProto</c>'s data is, following the spec's rules: <c>raw_data</c> when set (fixed-width
/// little-endian); otherwise the typed field of its element type (<c>float_data</c> for FLOAT; <c>int32_data</c> for
/// INT32/INT16/INT8/UINT16/UINT8/BOOL and the bits of FLOAT16/BFLOAT16; <c>int64_data</c> for INT64;
/// <c>double_data</c> for DOUBLE; <c>uint64_data</c> for UINT32/UINT64); or, with <c>data_location = EXTERNAL</c>, the
/// <c>external_data</c> entries <c>location</c> (relative to the model's directory), <c>offset</c> and <c>length</c>.
/// </summary>
internal static class OnnxTensorData
{
    /// <summary>Finds (and for typed fields, converts) the bytes of <paramref name="tensor"/>, checked against its element count.</summary>
    /// <exception cref="CheckpointFormatException">Data of the wrong size, a typed field the element type cannot use, bad external data entries, or a missing external file.</exception>
    public static OnnxTensorLocation Locate(TensorProto tensor, DType dtype, long elementCount, string modelPath)
    {
        string name = tensor.Name;
        long expected = elementCount * dtype.SizeOf();
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External || tensor.ExternalData.Count > 0)
            return LocateExternal(tensor, expected, modelPath);

        ReadOnlyMemory<byte> bytes;
        if (tensor.HasRawData) bytes = tensor.RawData.Memory;
        else bytes = FromTypedFields(tensor, dtype, modelPath);
        if (bytes.Length != expected)
            throw new CheckpointFormatException(modelPath, name,
                $"holds {bytes.Length} bytes of data, but {dtype} [{string.Join(", ", tensor.Dims)}] needs {expected}.");
        return new OnnxTensorLocation(bytes, null, 0, expected);
    }

    private static ReadOnlyMemory<byte> FromTypedFields(TensorProto t, DType dtype, string modelPath)
    {
        int used = (t.FloatData.Count > 0 ? 1 : 0) + (t.Int32Data.Count > 0 ? 1 : 0) + (t.Int64Data.Count > 0 ? 1 : 0)
                   + (t.DoubleData.Count > 0 ? 1 : 0) + (t.Uint64Data.Count > 0 ? 1 : 0);
        if (used > 1) throw new CheckpointFormatException(modelPath, t.Name, "sets more than one typed data field.");
        if (used == 0) return ReadOnlyMemory<byte>.Empty;
        switch (dtype)
        {
            case DType.F32 when t.FloatData.Count > 0:
                return MemoryMarshal.AsBytes(t.FloatData.ToArray().AsSpan()).ToArray();
            case DType.F64 when t.DoubleData.Count > 0:
                return MemoryMarshal.AsBytes(t.DoubleData.ToArray().AsSpan()).ToArray();
            case DType.I64 when t.Int64Data.Count > 0:
                return MemoryMarshal.AsBytes(t.Int64Data.ToArray().AsSpan()).ToArray();
            case DType.U64 when t.Uint64Data.Count > 0:
                return MemoryMarshal.AsBytes(t.Uint64Data.ToArray().AsSpan()).ToArray();
            case DType.U32 when t.Uint64Data.Count > 0:
                return MemoryMarshal.AsBytes(t.Uint64Data.Select(v => (uint)v).ToArray().AsSpan()).ToArray();
            case DType.I32 when t.Int32Data.Count > 0:
                return MemoryMarshal.AsBytes(t.Int32Data.ToArray().AsSpan()).ToArray();
            case DType.I16 or DType.U16 or DType.F16 or DType.BF16 when t.Int32Data.Count > 0:
                return MemoryMarshal.AsBytes(t.Int32Data.Select(v => (ushort)v).ToArray().AsSpan()).ToArray();
            case DType.I8 or DType.U8 or DType.Bool when t.Int32Data.Count > 0:
                return t.Int32Data.Select(v => (byte)v).ToArray();
            default:
                throw new CheckpointFormatException(modelPath, t.Name,
                    $"is {OnnxDataTypes.Name(t.DataType)} but stores its values in a typed field that type does not use.");
        }
    }

    private static OnnxTensorLocation LocateExternal(TensorProto t, long expected, string modelPath)
    {
        string? location = null;
        long offset = 0, length = -1;
        foreach (var entry in t.ExternalData)
        {
            switch (entry.Key)
            {
                case "location": location = entry.Value; break;
                case "offset": offset = ParseCount(entry.Value, "offset", t.Name, modelPath); break;
                case "length": length = ParseCount(entry.Value, "length", t.Name, modelPath); break;
            }
        }
        if (string.IsNullOrEmpty(location))
            throw new CheckpointFormatException(modelPath, t.Name, "has external data without a 'location' entry.");
        string directory = Path.GetDirectoryName(Path.GetFullPath(modelPath)) ?? ".";
        string file = Path.GetFullPath(Path.Combine(directory, location));
        if (Path.IsPathRooted(location) || !file.StartsWith(directory + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new CheckpointFormatException(modelPath, t.Name, $"external data location '{location}' must be a relative path inside the model's directory.");
        if (!File.Exists(file))
            throw new CheckpointFormatException(modelPath, t.Name, $"external data file '{location}' (expected at {file}) is missing.");
        if (length < 0) length = expected;
        if (length != expected)
            throw new CheckpointFormatException(modelPath, t.Name, $"external data length {length} does not match the {expected} bytes its type and shape need.");
        long fileLength = new FileInfo(file).Length;
        if (offset + length > fileLength)
            throw new CheckpointFormatException(modelPath, t.Name,
                $"external data [{offset}, {offset + length}) runs past the end of '{location}' ({fileLength} bytes): the file is truncated.");
        return new OnnxTensorLocation(ReadOnlyMemory<byte>.Empty, file, offset, length);
    }

    private static long ParseCount(string text, string key, string tensor, string modelPath) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v)
            ? v
            : throw new CheckpointFormatException(modelPath, tensor, $"external data '{key}' is '{text}', not a non-negative integer.");
}
