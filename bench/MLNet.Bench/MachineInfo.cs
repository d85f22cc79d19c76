using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

/// <summary>What a benchmark prints first: CPU model, the widest vector instructions .NET uses, cores and load.</summary>
internal static class MachineInfo
{
    public static string CpuModel()
    {
        const string info = "/proc/cpuinfo";
        if (!File.Exists(info)) return "unknown CPU";
        var line = File.ReadLines(info).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line is null ? "unknown CPU" : line[(line.IndexOf(':') + 1)..].Trim();
    }

    public static string InstructionSet() =>
        Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? "AVX-512F"
        : Avx2.IsSupported && Fma.IsSupported ? "AVX2+FMA"
        : Vector128.IsHardwareAccelerated ? "128-bit SIMD" : "scalar";

    public static string Load() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";

    public static void Print()
    {
        Console.WriteLine($"cpu: {CpuModel()}; instruction set: {InstructionSet()}; {Environment.ProcessorCount} logical cores; load average {Load()}");
    }
}
