using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MLNetMerge.Tensors;

/// <summary>
/// The instructions the engine's arithmetic runs on here: the processor architecture, the GEMM kernel path and the widest
/// vector width .NET accelerates (TensorPrimitives and the fused kernels pick their width from it). Two machines with the
/// same string compute the same float32 bits for the same code and inputs; a zoo build records it, so a rebuild on
/// another instruction set is not expected to match byte for byte.
/// </summary>
internal static class InstructionSet
{
    /// <summary>E.g. <c>X64, GEMM Avx512, Vector512</c>.</summary>
    public static string Current { get; } =
        $"{RuntimeInformation.ProcessArchitecture}, GEMM {Gemm.BestPath}, " +
        (Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256" : Vector128.IsHardwareAccelerated ? "Vector128" : "scalar");
}
