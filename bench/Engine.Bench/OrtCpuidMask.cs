using System.Runtime.InteropServices;

/// <summary>
/// ORT_CPUID_MASK=path/libcpuidmask.so (built from bench/engine/cpuid_mask.c by bench/engine/run.sh --isa avx2): from this
/// call on, CPUID on this thread and every thread it creates answers without AVX-512, so ONNX Runtime's MLAS — which reads
/// CPUID and has no switch of its own — picks its AVX2 kernels. Must run before the first ONNX Runtime call. Without the
/// variable it does nothing and says so.
/// </summary>
internal static class OrtCpuidMask
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate int MaskFn();
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate long CountFn();

    private static CountFn? count;

    /// <summary>Switches the mask on where ORT_CPUID_MASK asks for it; returns the line to print about ORT's instruction set.</summary>
    internal static string Apply()
    {
        string? path = Environment.GetEnvironmentVariable("ORT_CPUID_MASK");
        if (string.IsNullOrEmpty(path))
            return "MLAS picks its kernels from CPUID (AVX-512 wherever the CPU has it; DOTNET_EnableAVX512 does not reach it)";
        var lib = NativeLibrary.Load(path);
        var mask = Marshal.GetDelegateForFunctionPointer<MaskFn>(NativeLibrary.GetExport(lib, "cpuid_mask_avx512"));
        count = Marshal.GetDelegateForFunctionPointer<CountFn>(NativeLibrary.GetExport(lib, "cpuid_mask_count"));
        int rc = mask();
        if (rc != 0)
            throw new InvalidOperationException($"{path}: CPUID faulting refused (errno {rc}); this CPU or kernel cannot hide AVX-512 from ONNX Runtime");
        return "MLAS on AVX2: CPUID answered without AVX-512 (ORT_CPUID_MASK, CPUID faulting)";
    }

    /// <summary>"; N CPUID answered without AVX-512" once the mask is on, else empty.</summary>
    internal static string Answered() => count is null ? "" : $"; {count()} CPUID instructions answered without AVX-512";
}
