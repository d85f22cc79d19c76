namespace MLNetMerge.Tensors;

/// <summary>Element types a checkpoint tensor may be stored in (safetensors' names).</summary>
internal enum DType
{
    /// <summary>IEEE 754 binary32.</summary>
    F32,
    /// <summary>IEEE 754 binary16.</summary>
    F16,
    /// <summary>bfloat16: the upper 16 bits of a binary32.</summary>
    BF16,
    /// <summary>IEEE 754 binary64.</summary>
    F64,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Signed 16-bit integer.</summary>
    I16,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>Unsigned 16-bit integer.</summary>
    U16,
    /// <summary>Unsigned 32-bit integer.</summary>
    U32,
    /// <summary>Unsigned 64-bit integer.</summary>
    U64,
    /// <summary>Boolean, one byte per element.</summary>
    Bool,
}

/// <summary>Facts about <see cref="DType"/> values: byte size, safetensors name, whether merging applies.</summary>
internal static class DTypes
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(this DType t) => t switch
    {
        DType.F64 or DType.I64 or DType.U64 => 8,
        DType.F32 or DType.I32 or DType.U32 => 4,
        DType.F16 or DType.BF16 or DType.I16 or DType.U16 => 2,
        _ => 1,
    };

    /// <summary>True for the floating-point types, which merge methods operate on; integer and bool tensors are copied from the base.</summary>
    public static bool IsFloatingPoint(this DType t) => t is DType.F32 or DType.F16 or DType.BF16 or DType.F64;

    /// <summary>The safetensors header spelling, e.g. <c>"BF16"</c>.</summary>
    public static string ToSafetensorsName(this DType t) => t == DType.Bool ? "BOOL" : t.ToString();

    /// <summary>Parses a safetensors dtype name; returns false for names this library does not know.</summary>
    public static bool TryParseSafetensors(string name, out DType type)
    {
        switch (name)
        {
            case "F32": type = DType.F32; return true;
            case "F16": type = DType.F16; return true;
            case "BF16": type = DType.BF16; return true;
            case "F64": type = DType.F64; return true;
            case "I64": type = DType.I64; return true;
            case "I32": type = DType.I32; return true;
            case "I16": type = DType.I16; return true;
            case "I8": type = DType.I8; return true;
            case "U8": type = DType.U8; return true;
            case "U16": type = DType.U16; return true;
            case "U32": type = DType.U32; return true;
            case "U64": type = DType.U64; return true;
            case "BOOL": type = DType.Bool; return true;
            default: type = DType.F32; return false;
        }
    }

    /// <summary>The recipe name of a floating-point dtype (<c>float32</c>, <c>float16</c>, <c>bfloat16</c>, <c>float64</c>),
    /// the one <see cref="TryParseRecipe"/> reads first.</summary>
    public static string ToRecipeName(this DType type) => type switch
    {
        DType.F32 => "float32",
        DType.F16 => "float16",
        DType.BF16 => "bfloat16",
        DType.F64 => "float64",
        _ => type.ToSafetensorsName().ToLowerInvariant(),
    };

    /// <summary>Parses a recipe's <c>dtype:</c> value (<c>float32</c>, <c>float16</c>, <c>bfloat16</c>, or safetensors names).</summary>
    public static bool TryParseRecipe(string name, out DType type)
    {
        switch (name.ToLowerInvariant())
        {
            case "float32" or "f32" or "fp32": type = DType.F32; return true;
            case "float16" or "f16" or "fp16" or "half": type = DType.F16; return true;
            case "bfloat16" or "bf16": type = DType.BF16; return true;
            case "float64" or "f64": type = DType.F64; return true;
            default: type = DType.F32; return false;
        }
    }
}
