using MLNetMerge.Checkpoints.Onnx.Protobuf;
using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints.Onnx;

/// <summary>Maps ONNX <c>TensorProto.DataType</c> codes to the library's <see cref="DType"/> and back.</summary>
internal static class OnnxDataTypes
{
    /// <summary>
    /// The <see cref="DType"/> of an ONNX element type code; false for types a checkpoint cannot hold
    /// (STRING, COMPLEX64/128, UNDEFINED, float8 and 4-bit types).
    /// </summary>
    public static bool TryToDType(int onnxType, out DType type)
    {
        switch ((TensorProto.Types.DataType)onnxType)
        {
            case TensorProto.Types.DataType.Float: type = DType.F32; return true;
            case TensorProto.Types.DataType.Float16: type = DType.F16; return true;
            case TensorProto.Types.DataType.Bfloat16: type = DType.BF16; return true;
            case TensorProto.Types.DataType.Double: type = DType.F64; return true;
            case TensorProto.Types.DataType.Int64: type = DType.I64; return true;
            case TensorProto.Types.DataType.Int32: type = DType.I32; return true;
            case TensorProto.Types.DataType.Int16: type = DType.I16; return true;
            case TensorProto.Types.DataType.Int8: type = DType.I8; return true;
            case TensorProto.Types.DataType.Uint8: type = DType.U8; return true;
            case TensorProto.Types.DataType.Uint16: type = DType.U16; return true;
            case TensorProto.Types.DataType.Uint32: type = DType.U32; return true;
            case TensorProto.Types.DataType.Uint64: type = DType.U64; return true;
            case TensorProto.Types.DataType.Bool: type = DType.Bool; return true;
            default: type = DType.F32; return false;
        }
    }

    /// <summary>The ONNX element type code of a <see cref="DType"/>.</summary>
    public static int ToOnnx(DType type) => (int)(type switch
    {
        DType.F32 => TensorProto.Types.DataType.Float,
        DType.F16 => TensorProto.Types.DataType.Float16,
        DType.BF16 => TensorProto.Types.DataType.Bfloat16,
        DType.F64 => TensorProto.Types.DataType.Double,
        DType.I64 => TensorProto.Types.DataType.Int64,
        DType.I32 => TensorProto.Types.DataType.Int32,
        DType.I16 => TensorProto.Types.DataType.Int16,
        DType.I8 => TensorProto.Types.DataType.Int8,
        DType.U8 => TensorProto.Types.DataType.Uint8,
        DType.U16 => TensorProto.Types.DataType.Uint16,
        DType.U32 => TensorProto.Types.DataType.Uint32,
        DType.U64 => TensorProto.Types.DataType.Uint64,
        DType.Bool => TensorProto.Types.DataType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "no ONNX element type"),
    });

    /// <summary>The ONNX spelling of an element type code, for messages (e.g. <c>FLOAT</c>).</summary>
    public static string Name(int onnxType) =>
        Enum.IsDefined(typeof(TensorProto.Types.DataType), onnxType)
            ? TensorProto.Descriptor.EnumTypes[0].FindValueByNumber(onnxType).Name
            : $"type {onnxType}";
}
