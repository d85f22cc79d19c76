using System.Runtime.InteropServices;

namespace MLNetMerge.Tensors;

/// <summary>
/// Keeps the GEMM pool's workers off the processor its caller is running on (Linux only; elsewhere, or where a call
/// fails, it does nothing).
/// <para>
/// Why: after the workers have slept a few milliseconds (a request served after a pause, the first product of a
/// forward), the kernel's wake-up placement can queue a woken worker on the caller's own processor, busy with part 0,
/// instead of the idle one; the worker then starts only when the scheduler's periodic balancing moves it, and the caller
/// ends up doing the product alone. Measured on a two-processor Zen 5 guest (`Engine.Bench pool-wake`, the caller busy
/// 5 ms in part 0): after pauses of 5–100 ms the worker started a median 1.6–2.0 ms (up to 5 ms) after its offer, after
/// pauses of 0–1 ms 42 µs; with the worker kept off the caller's processor 50–84 µs after any pause.
/// </para>
/// <para>
/// How: before offering parts, the pool reads the caller's processor (<c>sched_getcpu</c>, through the vDSO) and, when
/// it differs from the last one seen, sets each worker's affinity to the processors the process may use minus that
/// one (<c>sched_setaffinity</c> on the worker's thread id). A process restricted to one processor (taskset, a cgroup
/// cpuset) is left alone, and so is any mask the process changes later: the mask is the one the workers started with.
/// The arithmetic is untouched: which thread runs which part never changes a product's bits.
/// </para>
/// </summary>
internal static unsafe partial class WorkerPlacement
{
    private const int MaskWords = 16; // cpu_set_t: 1024 processors

    /// <summary>False where placement is off: not Linux, <c>MLNM_WORKER_PLACEMENT=0</c>, or a libc call missing.</summary>
    internal static bool Enabled { get; private set; } =
        OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("MLNM_WORKER_PLACEMENT") != "0";

    /// <summary>The calling thread's processor, or -1 when unknown.</summary>
    internal static int CurrentProcessor()
    {
        if (!Enabled) return -1;
        try { return GetCpu(); }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { Enabled = false; return -1; }
    }

    /// <summary>The calling thread's kernel thread id and the processors it may run on (as a <c>cpu_set_t</c> of
    /// <see cref="MaskWords"/> words), or (0, null) when placement is off or either call fails.</summary>
    internal static (int ThreadId, ulong[]? Allowed) DescribeCurrentThread()
    {
        if (!Enabled) return (0, null);
        try
        {
            int tid = ThreadId();
            if (tid <= 0) return (0, null);
            var mask = new ulong[MaskWords];
            fixed (ulong* m = mask)
                if (GetAffinity(0, MaskWords * sizeof(ulong), m) != 0) return (0, null);
            return (tid, mask);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { Enabled = false; return (0, null); }
    }

    /// <summary>
    /// Lets thread <paramref name="threadId"/> run on the processors of <paramref name="allowed"/> except
    /// <paramref name="avoid"/>; returns false (changing nothing) when that would leave none or the call fails.
    /// </summary>
    internal static bool AvoidProcessor(int threadId, ulong[] allowed, int avoid)
    {
        if (!Enabled || threadId <= 0 || avoid < 0 || avoid >= MaskWords * 64) return false;
        Span<ulong> mask = stackalloc ulong[MaskWords];
        allowed.AsSpan().CopyTo(mask);
        mask[avoid >> 6] &= ~(1UL << (avoid & 63));
        bool any = false;
        foreach (ulong w in mask) any |= w != 0;
        if (!any) return false;
        fixed (ulong* m = mask) return SetAffinity(threadId, MaskWords * sizeof(ulong), m) == 0;
    }

    /// <summary>The calling thread's kernel id: glibc's <c>gettid</c> (2.30 and later), else the raw system call.</summary>
    private static int ThreadId()
    {
        try { return GetTid(); }
        catch (EntryPointNotFoundException) { return ThreadIdBySystemCall(); }
    }

    /// <summary>The calling thread's kernel id by the <c>gettid</c> system call itself (for a libc without the wrapper),
    /// or 0 on an architecture whose call number is not listed here.</summary>
    internal static int ThreadIdBySystemCall()
    {
        long number = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 186,   // SYS_gettid, x86-64
            Architecture.Arm64 => 178, // SYS_gettid, the generic table
            _ => -1,
        };
        return number < 0 ? 0 : (int)SysCall(number);
    }

    [LibraryImport("libc", EntryPoint = "syscall")]
    private static partial long SysCall(long number);

    [LibraryImport("libc", EntryPoint = "sched_getcpu")]
    private static partial int GetCpu();

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();

    [LibraryImport("libc", EntryPoint = "sched_getaffinity")]
    private static partial int GetAffinity(int pid, nint size, ulong* mask);

    [LibraryImport("libc", EntryPoint = "sched_setaffinity")]
    private static partial int SetAffinity(int pid, nint size, ulong* mask);
}
