using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace MLNetMerge.Tensors;

/// <summary>
/// Conversion between stored element types and float32 compute, done once at the I/O boundary.
/// bfloat16 is converted by hand: widening is a 16-bit shift; narrowing rounds to nearest, ties to even,
/// and keeps NaN a quiet NaN. float16 goes through <see cref="TensorPrimitives"/>.
/// Bytes are little-endian, as in safetensors and PyTorch files.
/// </summary>
internal static class DTypeConversion
{
    /// <summary>Widens <paramref name="source"/> bytes stored as <paramref name="type"/> into float32 values: <c>dst[i] = (float)src[i]</c>.</summary>
    /// <exception cref="ArgumentException">The lengths disagree or the type is not floating point.</exception>
    public static void ToFloat32(ReadOnlySpan<byte> source, DType type, Span<float> destination)
    {
        int n = destination.Length;
        if (source.Length != (long)n * type.SizeOf())
            throw new ArgumentException($"{source.Length} bytes of {type} do not hold {n} elements.");
        switch (type)
        {
            case DType.F32:
                MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
                break;
            case DType.F16:
                TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(source), destination);
                break;
            case DType.BF16:
                Bf16ToFloat32(MemoryMarshal.Cast<byte, ushort>(source), destination);
                break;
            case DType.F64:
                TensorPrimitives.ConvertTruncating(MemoryMarshal.Cast<byte, double>(source), destination);
                break;
            default:
                throw new ArgumentException($"{type} is not a floating-point type; integer tensors are copied, not converted.");
        }
    }

    /// <summary>Narrows float32 values into bytes of <paramref name="type"/>: <c>dst[i] = (T)src[i]</c>, rounding to nearest even.</summary>
    public static void FromFloat32(ReadOnlySpan<float> source, DType type, Span<byte> destination)
    {
        int n = source.Length;
        if (destination.Length != (long)n * type.SizeOf())
            throw new ArgumentException($"{destination.Length} bytes of {type} do not hold {n} elements.");
        switch (type)
        {
            case DType.F32:
                MemoryMarshal.AsBytes(source).CopyTo(destination);
                break;
            case DType.F16:
                TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<byte, Half>(destination));
                break;
            case DType.BF16:
                Float32ToBf16(source, MemoryMarshal.Cast<byte, ushort>(destination));
                break;
            case DType.F64:
                {
                    var d = MemoryMarshal.Cast<byte, double>(destination);
                    for (int i = 0; i < n; i++) d[i] = source[i];
                    break;
                }
            default:
                throw new ArgumentException($"{type} is not a floating-point type.");
        }
    }

    /// <summary>bfloat16 → float32: <c>bits(dst[i]) = src[i] &lt;&lt; 16</c> (exact).</summary>
    public static void Bf16ToFloat32(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        var dst = MemoryMarshal.Cast<float, uint>(destination);
        for (int i = 0; i < source.Length; i++) dst[i] = (uint)source[i] << 16;
    }

    /// <summary>
    /// float32 → bfloat16 rounding to nearest, ties to even:
    /// <c>dst = (bits + 0x7FFF + ((bits &gt;&gt; 16) &amp; 1)) &gt;&gt; 16</c>; NaN maps to a quiet NaN with the sign kept.
    /// </summary>
    public static void Float32ToBf16(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        var src = MemoryMarshal.Cast<float, uint>(source);
        for (int i = 0; i < src.Length; i++) destination[i] = Float32ToBf16(src[i]);
    }

    /// <summary>One float32 bit pattern to bfloat16 bits (round to nearest even, NaN stays NaN).</summary>
    public static ushort Float32ToBf16(uint bits)
    {
        if ((bits & 0x7FFF_FFFFu) > 0x7F80_0000u) return (ushort)((bits >> 16) | 0x0040u);
        uint rounding = 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)((bits + rounding) >> 16);
    }

    /// <summary>Reads one little-endian element of an integer type as a 64-bit value (used for metadata-like integer tensors).</summary>
    public static long ReadInteger(ReadOnlySpan<byte> element, DType type) => type switch
    {
        DType.I64 => BinaryPrimitives.ReadInt64LittleEndian(element),
        DType.I32 => BinaryPrimitives.ReadInt32LittleEndian(element),
        DType.I16 => BinaryPrimitives.ReadInt16LittleEndian(element),
        DType.I8 => (sbyte)element[0],
        DType.U8 or DType.Bool => element[0],
        DType.U16 => BinaryPrimitives.ReadUInt16LittleEndian(element),
        DType.U32 => BinaryPrimitives.ReadUInt32LittleEndian(element),
        DType.U64 => (long)BinaryPrimitives.ReadUInt64LittleEndian(element),
        _ => throw new ArgumentException($"{type} is not an integer type."),
    };
}
