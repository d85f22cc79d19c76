using System.Buffers.Binary;
using System.Runtime.InteropServices;
using MLNetMerge.Tensors;

namespace MLNetMerge.Data;

/// <summary>Element conversions for NPY data (little-endian bytes) into float32 and int64.</summary>
internal static class NpyConversion
{
    /// <summary><c>dst[i] = (float)src[i]</c> for any supported type; bool gives 0 or 1 (any non-zero byte is true, as in NumPy).</summary>
    public static void ToFloat32(ReadOnlySpan<byte> source, DType type, Span<float> destination)
    {
        if (type.IsFloatingPoint())
        {
            DTypeConversion.ToFloat32(source, type, destination);
            return;
        }
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = type switch
            {
                DType.I64 => BinaryPrimitives.ReadInt64LittleEndian(source[(8 * i)..]),
                DType.U64 => BinaryPrimitives.ReadUInt64LittleEndian(source[(8 * i)..]),
                DType.I32 => BinaryPrimitives.ReadInt32LittleEndian(source[(4 * i)..]),
                DType.U32 => BinaryPrimitives.ReadUInt32LittleEndian(source[(4 * i)..]),
                DType.I16 => BinaryPrimitives.ReadInt16LittleEndian(source[(2 * i)..]),
                DType.U16 => BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]),
                DType.I8 => (sbyte)source[i],
                DType.U8 => source[i],
                DType.Bool => source[i] != 0 ? 1f : 0f,
                _ => throw new ArgumentException($"{type} cannot be converted to float32."),
            };
        }
    }

    /// <summary><c>dst[i] = (long)src[i]</c> for integer and bool types; false with a reason for floats or uint64 overflow.</summary>
    public static bool TryToInt64(ReadOnlySpan<byte> source, DType type, Span<long> destination, out string? problem)
    {
        problem = null;
        if (type == DType.I64)
        {
            MemoryMarshal.Cast<byte, long>(source).CopyTo(destination);
            return true;
        }
        if (type.IsFloatingPoint())
        {
            problem = $"elements are {type}; an integer or bool array was expected.";
            return false;
        }
        for (int i = 0; i < destination.Length; i++)
        {
            switch (type)
            {
                case DType.U64:
                    ulong u = BinaryPrimitives.ReadUInt64LittleEndian(source[(8 * i)..]);
                    if (u > long.MaxValue)
                    {
                        problem = $"element {i} = {u} does not fit in int64.";
                        return false;
                    }
                    destination[i] = (long)u;
                    break;
                case DType.I32: destination[i] = BinaryPrimitives.ReadInt32LittleEndian(source[(4 * i)..]); break;
                case DType.U32: destination[i] = BinaryPrimitives.ReadUInt32LittleEndian(source[(4 * i)..]); break;
                case DType.I16: destination[i] = BinaryPrimitives.ReadInt16LittleEndian(source[(2 * i)..]); break;
                case DType.U16: destination[i] = BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]); break;
                case DType.I8: destination[i] = (sbyte)source[i]; break;
                case DType.U8: destination[i] = source[i]; break;
                case DType.Bool: destination[i] = source[i] != 0 ? 1 : 0; break;
                default:
                    problem = $"{type} cannot be converted to int64.";
                    return false;
            }
        }
        return true;
    }
}
