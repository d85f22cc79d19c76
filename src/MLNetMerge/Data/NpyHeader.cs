using System.Buffers.Binary;
using System.Text;
using MLNetMerge.Tensors;

namespace MLNetMerge.Data;

/// <summary>
/// The NPY preamble: magic <c>\x93NUMPY</c>, major and minor version bytes, the header length (u16 little-endian in
/// version 1.0, u32 in 2.0 and 3.0), then a Python dict literal <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c>
/// (latin-1 in 1.0/2.0, UTF-8 in 3.0) padded with spaces and a final <c>'\n'</c> so that the data starts at a multiple of 64.
/// </summary>
internal sealed record NpyHeader(DType DType, string Descr, int[] Shape, long DataOffset, int MajorVersion)
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private const int ArrayAlign = 64;            // NumPy's ARRAY_ALIGN
    private const int GrowthAxisMaxDigits = 21;   // NumPy's GROWTH_AXIS_MAX_DIGITS: spare spaces after the dict
    private const int MaxHeaderLength = 1 << 20;  // refuse absurd header lengths before allocating

    /// <summary>Number of elements: product of <see cref="Shape"/>.</summary>
    public long ElementCount => NpyArray.ElementCountOf(Shape);

    /// <summary>Reads and validates the preamble and header of the open file <paramref name="path"/>.</summary>
    /// <exception cref="CheckpointFormatException">Bad magic or version, truncated header, malformed literal, missing or extra
    /// keys, unsupported or big-endian descr, Fortran order, invalid shape.</exception>
    public static NpyHeader Read(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string path)
    {
        long fileLength = RandomAccess.GetLength(handle);
        Span<byte> prefix = stackalloc byte[12];
        int got = RandomAccess.Read(handle, prefix, 0);
        if (got < 10 || !prefix[..6].SequenceEqual(Magic))
            throw new CheckpointFormatException(path, null, "not a NumPy .npy file: the magic string \\x93NUMPY is missing.");
        int major = prefix[6], minor = prefix[7];
        if (major is < 1 or > 3 || minor != 0)
            throw new CheckpointFormatException(path, null, $"unsupported .npy format version {major}.{minor}; expected 1.0, 2.0 or 3.0.");
        long headerStart = major == 1 ? 10 : 12;
        if (got < headerStart) throw new CheckpointFormatException(path, null, "truncated .npy preamble.");
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        if (headerLength > MaxHeaderLength)
            throw new CheckpointFormatException(path, null, $"header length {headerLength} is implausibly large (limit {MaxHeaderLength}).");
        if (headerStart + headerLength > fileLength)
            throw new CheckpointFormatException(path, null, $"truncated header: {headerLength} bytes announced, {fileLength - headerStart} present.");
        var headerBytes = new byte[headerLength];
        RandomAccess.Read(handle, headerBytes, headerStart);
        string text = major == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        var (descr, fortran, shape) = ParseDict(text, path);
        if (fortran)
            throw new CheckpointFormatException(path, null, $"array is stored in Fortran order (fortran_order: True); only C order is supported — re-save with np.ascontiguousarray.");
        return new NpyHeader(ParseDescr(descr, path), descr, shape, headerStart + headerLength, major);
    }

    /// <summary>Builds the preamble and header NumPy itself writes for a C-order array (byte-identical to <c>np.save</c>).</summary>
    public static byte[] Format(DType dtype, IReadOnlyList<int> shape)
    {
        string dict = $"{{'descr': '{DescrOf(dtype)}', 'fortran_order': False, 'shape': {NpyArray.FormatShape(shape)}, }}";
        if (shape.Count > 0) dict += new string(' ', Math.Max(0, GrowthAxisMaxDigits - shape[0].ToString(System.Globalization.CultureInfo.InvariantCulture).Length));
        // Version 1.0 while the padded header length fits its u16, else 2.0 (the dict is ASCII, so 3.0 is never needed).
        int hlen = dict.Length + 1;                                  // + '\n'
        int major = hlen + PaddingAfter(10, hlen) <= ushort.MaxValue ? 1 : 2;
        int preamble = major == 1 ? 10 : 12;
        int padding = PaddingAfter(preamble, hlen);
        var bytes = new byte[preamble + hlen + padding];
        Magic.CopyTo(bytes);
        bytes[6] = (byte)major;
        bytes[7] = 0;
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)(hlen + padding));
        else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)(hlen + padding));
        Encoding.ASCII.GetBytes(dict, bytes.AsSpan(preamble));
        bytes.AsSpan(preamble + dict.Length, padding).Fill((byte)' ');
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    /// <summary>Spaces NumPy inserts so that data starts at a multiple of 64: 1..64, never 0.</summary>
    private static int PaddingAfter(int preamble, int hlen) => ArrayAlign - (preamble + hlen) % ArrayAlign;

    /// <summary>The NPY descr NumPy writes for <paramref name="dtype"/>: <c>&lt;f4</c>, <c>&lt;i8</c>, <c>|u1</c>, <c>|b1</c>, …</summary>
    public static string DescrOf(DType dtype) => dtype switch
    {
        DType.F16 => "<f2",
        DType.F32 => "<f4",
        DType.F64 => "<f8",
        DType.I64 => "<i8",
        DType.I32 => "<i4",
        DType.I16 => "<i2",
        DType.I8 => "|i1",
        DType.U64 => "<u8",
        DType.U32 => "<u4",
        DType.U16 => "<u2",
        DType.U8 => "|u1",
        DType.Bool => "|b1",
        _ => throw new ArgumentException($"{dtype} has no NumPy counterpart (bfloat16 is not a NumPy type).", nameof(dtype)),
    };

    private static DType ParseDescr(string descr, string path)
    {
        if (descr.Length < 3)
            throw new CheckpointFormatException(path, null, $"unsupported descr '{descr}'.");
        char order = descr[0];
        string kindSize = descr[1..];
        DType? type = kindSize switch
        {
            "f2" => DType.F16,
            "f4" => DType.F32,
            "f8" => DType.F64,
            "i8" => DType.I64,
            "i4" => DType.I32,
            "i2" => DType.I16,
            "i1" => DType.I8,
            "u8" => DType.U64,
            "u4" => DType.U32,
            "u2" => DType.U16,
            "u1" => DType.U8,
            "b1" => DType.Bool,
            _ => null,
        };
        if (type is null || order is not ('<' or '>' or '|' or '='))
            throw new CheckpointFormatException(path, null, $"unsupported descr '{descr}'; expected one of <f2 <f4 <f8 <i1..<i8 <u1..<u8 |b1.");
        if (order == '>' && type.Value.SizeOf() > 1)
            throw new CheckpointFormatException(path, null, $"big-endian data (descr '{descr}') is not supported; re-save with arr.astype('<{kindSize}').");
        if (order == '|' && type.Value.SizeOf() > 1)
            throw new CheckpointFormatException(path, null, $"descr '{descr}' has no byte order for a multi-byte type.");
        return type.Value;
    }

    private static (string Descr, bool Fortran, int[] Shape) ParseDict(string text, string path)
    {
        object? literal;
        try
        {
            literal = PythonLiteral.Parse(text);
        }
        catch (FormatException e)
        {
            throw new CheckpointFormatException(path, null, $"cannot parse the header literal {Quote(text)}: {e.Message}.", e);
        }
        if (literal is not Dictionary<string, object?> dict)
            throw new CheckpointFormatException(path, null, $"header is not a dict: {Quote(text)}.");
        if (dict.Count != 3 || !dict.TryGetValue("descr", out var descrValue) || !dict.TryGetValue("fortran_order", out var fortranValue)
            || !dict.TryGetValue("shape", out var shapeValue))
            throw new CheckpointFormatException(path, null, $"header keys are [{string.Join(", ", dict.Keys.Order(StringComparer.Ordinal))}]; expected exactly descr, fortran_order, shape.");
        if (descrValue is not string descr)
            throw new CheckpointFormatException(path, null, "descr is not a simple dtype string (structured dtypes are not supported).");
        if (fortranValue is not bool fortran)
            throw new CheckpointFormatException(path, null, "fortran_order is not True or False.");
        if (shapeValue is not PythonLiteral.PythonTuple tuple)
            throw new CheckpointFormatException(path, null, "shape is not a tuple.");
        var shape = new int[tuple.Items.Count];
        for (int i = 0; i < shape.Length; i++)
        {
            if (tuple.Items[i] is not long d || d < 0 || d > int.MaxValue)
                throw new CheckpointFormatException(path, null, $"shape entry {i} is not a dimension in [0, {int.MaxValue}].");
            shape[i] = (int)d;
        }
        return (descr, fortran, shape);
    }

    private static string Quote(string text) => "\"" + (text.Length > 200 ? text[..200] + "…" : text).TrimEnd() + "\"";
}
