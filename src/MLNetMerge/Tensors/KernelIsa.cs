using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MLNetMerge.Tensors;

/// <summary>
/// What the kernels of this process run on: the CPU model, and per kernel family the instruction set the runtime lets
/// them dispatch to. Benchmarks print <see cref="Describe"/> next to every figure. The .NET runtime decides what
/// <c>Avx512F.IsSupported</c> and <c>Vector512.IsHardwareAccelerated</c> say; on .NET 10 <c>DOTNET_EnableAVX512=0</c>
/// turns both off (the older <c>DOTNET_EnableAVX512F=0</c> no longer does), which is how an AVX2-only machine is emulated
/// on an AVX-512 one.
/// </summary>
internal static class KernelIsa
{
    /// <summary>The processor's model name from <c>/proc/cpuinfo</c> (with family and model numbers when given), else the architecture.</summary>
    public static string CpuModel { get; } = ReadCpuModel();

    /// <summary>True when <c>/proc/cpuinfo</c> lists <c>avx512f</c> for the processor, whatever the runtime allows.</summary>
    public static bool CpuHasAvx512 { get; } = CpuInfoFlags().Contains("avx512f");

    /// <summary>The GEMM micro-kernel in use.</summary>
    public static string GemmKernel => Gemm.BestPath switch
    {
        GemmPath.Avx512 => $"AVX-512 ({GemmKernels.Avx512Mr}x{GemmKernels.Avx512Nr} FMA tile)",
        GemmPath.Avx2 => $"AVX2+FMA ({GemmKernels.Avx2Mr}x{GemmKernels.Avx2Nr} FMA tile)",
        _ => "scalar",
    };

    /// <summary>Widest hardware vector (bits) that width-adaptive kernels (TensorPrimitives, the fused TA sweep) use.</summary>
    public static int ElementwiseBits =>
        Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 32;

    /// <summary>True when the CPU has AVX-512 but the runtime was told not to use it.</summary>
    public static bool Avx2Emulated => CpuHasAvx512 && !Avx512F.IsSupported;

    /// <summary>Short name of the instruction set the kernels use: <c>avx512</c>, <c>avx2</c> or <c>scalar</c>.</summary>
    public static string Name => Gemm.BestPath switch { GemmPath.Avx512 => "avx512", GemmPath.Avx2 => "avx2", _ => "scalar" };

    /// <summary>
    /// One line: CPU model, logical processors, the GEMM kernel, the vector widths of the element-wise families, and
    /// whether AVX2 is emulated on an AVX-512 CPU.
    /// </summary>
    public static string Describe()
    {
        int vec = Vector<float>.Count * 32;
        int fixed256 = Vector256.IsHardwareAccelerated ? 256 : 32;
        string line = $"cpu: {CpuModel}, {Environment.ProcessorCount} logical processors | isa: {Name}"
            + $" | GEMM: {GemmKernel}"
            + $" | element-wise: TensorPrimitives and fused TA {ElementwiseBits}-bit, TIES merge {(Vector512.IsHardwareAccelerated ? 512 : fixed256)}-bit,"
            + $" TIES counts and EMR kernels {fixed256}-bit,"
            + $" engine kernels (attention, GELU, layer norm) Vector<T> {vec}-bit, quick GELU {(Vector512.IsHardwareAccelerated ? 512 : vec)}-bit";
        if (Avx2Emulated) line += " | AVX2 EMULATED: this CPU has AVX-512, turned off for .NET by DOTNET_EnableAVX512=0";
        return line;
    }

    private static string ReadCpuModel()
    {
        string? name = null, family = null, model = null;
        foreach (var line in CpuInfoLines())
        {
            int colon = line.IndexOf(':');
            if (colon < 0) continue;
            string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
            if (key == "model name") name ??= value;
            else if (key == "cpu family") family ??= value;
            else if (key == "model") model ??= value;
            if (line.Length == 0 && name != null) break;
        }
        if (name == null) return RuntimeInformation.ProcessArchitecture.ToString();
        return family != null && model != null ? $"{name} (family {family}, model {model})" : name;
    }

    private static HashSet<string> CpuInfoFlags()
    {
        foreach (var line in CpuInfoLines())
            if (line.StartsWith("flags", StringComparison.Ordinal) && line.Contains(':'))
                return [.. line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        return [];
    }

    private static IEnumerable<string> CpuInfoLines()
    {
        const string path = "/proc/cpuinfo";
        if (!File.Exists(path)) return [];
        try { return File.ReadLines(path).Take(64).ToList(); }
        catch (IOException) { return []; }
        catch (UnauthorizedAccessException) { return []; }
    }
}
