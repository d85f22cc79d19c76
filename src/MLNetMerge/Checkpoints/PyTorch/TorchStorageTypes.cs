using MLNetMerge.Tensors;

namespace MLNetMerge.Checkpoints.PyTorch;

/// <summary>
/// Maps the globals a torch pickle names for a storage's element type to <see cref="DType"/>:
/// legacy typed storages (<c>torch.FloatStorage</c> … <c>torch.BoolStorage</c>), <c>torch.UntypedStorage</c> (bytes),
/// and dtype globals (<c>torch.float32</c>, <c>torch.bfloat16</c>, <c>torch.uint16</c>, …).
/// </summary>
internal static class TorchStorageTypes
{
    /// <summary>Resolves a storage-type or dtype global; false when it names something else (complex, quantized, or not torch at all).</summary>
    public static bool TryGetDType(PickleGlobal type, out DType dtype)
    {
        dtype = DType.U8;
        if (type.Module is not ("torch" or "torch.storage" or "torch.cuda")) return false;
        DType? found = type.Name switch
        {
            "FloatStorage" or "float32" or "float" => DType.F32,
            "HalfStorage" or "float16" or "half" => DType.F16,
            "BFloat16Storage" or "bfloat16" => DType.BF16,
            "DoubleStorage" or "float64" or "double" => DType.F64,
            "LongStorage" or "int64" or "long" => DType.I64,
            "IntStorage" or "int32" or "int" => DType.I32,
            "ShortStorage" or "int16" or "short" => DType.I16,
            "CharStorage" or "int8" => DType.I8,
            "ByteStorage" or "uint8" or "UntypedStorage" => DType.U8,
            "BoolStorage" or "bool" => DType.Bool,
            "uint16" => DType.U16,
            "uint32" => DType.U32,
            "uint64" => DType.U64,
            _ => null,
        };
        if (found is null) return false;
        dtype = found.Value;
        return true;
    }
}
