/*
 * cpuid_mask.c — answer CPUID without AVX-512, so that ONNX Runtime's MLAS (which picks its kernels from CPUID and has
 * no switch of its own) runs its AVX2 kernels on an AVX-512 CPU. Used by Engine.Bench when ORT_CPUID_MASK names the
 * built library (bench/engine/run.sh --isa avx2 builds it): the AVX2 rows then compare AVX2 with AVX2, as on an
 * AVX2-only machine (AMD Zen 3).
 *
 * How: Linux's CPUID faulting (arch_prctl(ARCH_SET_CPUID, 0); /proc/cpuinfo flag "cpuid_fault") makes every CPUID a
 * thread executes raise SIGSEGV. The handler below recognises the instruction (0F A2), executes CPUID itself with
 * faulting briefly off, clears the AVX-512 feature bits (and AVX-VNNI, which Zen 3 lacks), writes EAX..EDX and steps over
 * the two bytes. Any other SIGSEGV goes to the handler that was installed before (the .NET runtime's). The setting is
 * per thread and inherited by threads created afterwards, so it must be switched on before the first ONNX Runtime call,
 * on the thread that makes it: its thread pool is created after, and every CPUID there is answered the same way.
 *
 *   int  cpuid_mask_avx512(void);   0, or the errno of arch_prctl (e.g. ENODEV: no CPUID faulting on this CPU)
 *   long cpuid_mask_count(void);    CPUID instructions answered so far
 *
 * Build: gcc -O2 -shared -fPIC -o libcpuidmask.so cpuid_mask.c
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

/* Leaf 7 sub-leaf 0. EBX: AVX512F 16, DQ 17, IFMA 21, PF 26, ER 27, CD 28, BW 30, VL 31.
 * ECX: VBMI 1, VBMI2 6, VNNI 11, BITALG 12, VPOPCNTDQ 14. EDX: 4VNNIW 2, 4FMAPS 3, VP2INTERSECT 8, FP16 23.
 * Leaf 7 sub-leaf 1. EAX: AVX-VNNI 4, AVX512_BF16 5. */
#define LEAF7_EBX_AVX512 0xDC230000u
#define LEAF7_ECX_AVX512 0x00005842u
#define LEAF7_EDX_AVX512 0x0080010Cu
#define LEAF7_1_EAX_MASK 0x00000030u

static struct sigaction previous;
static volatile long answered;

static int set_cpuid_enabled(int on) { return (int)syscall(SYS_arch_prctl, ARCH_SET_CPUID, on); }

static void on_segv(int sig, siginfo_t* info, void* context)
{
    ucontext_t* uc = (ucontext_t*)context;
    greg_t* r = uc->uc_mcontext.gregs;
    const unsigned char* ip = (const unsigned char*)r[REG_RIP];
    if (info->si_code == SI_KERNEL && ip[0] == 0x0F && ip[1] == 0xA2)
    {
        unsigned leaf = (unsigned)r[REG_RAX], sub = (unsigned)r[REG_RCX], a, b, c, d;
        set_cpuid_enabled(1);
        __cpuid_count(leaf, sub, a, b, c, d);
        set_cpuid_enabled(0);
        if (leaf == 7 && sub == 0) { b &= ~LEAF7_EBX_AVX512; c &= ~LEAF7_ECX_AVX512; d &= ~LEAF7_EDX_AVX512; }
        if (leaf == 7 && sub == 1) a &= ~LEAF7_1_EAX_MASK;
        r[REG_RAX] = a; r[REG_RBX] = b; r[REG_RCX] = c; r[REG_RDX] = d;
        r[REG_RIP] += 2;
        __atomic_add_fetch(&answered, 1, __ATOMIC_RELAXED);
        return;
    }
    if (previous.sa_flags & SA_SIGINFO) { previous.sa_sigaction(sig, info, context); return; }
    if (previous.sa_handler == SIG_IGN) return;
    if (previous.sa_handler != SIG_DFL) { previous.sa_handler(sig); return; }
    signal(sig, SIG_DFL);                  /* default action: returning re-executes the fault, which now kills */
}

int cpuid_mask_avx512(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &previous) != 0) return errno;
    if (set_cpuid_enabled(0) != 0) { int e = errno; sigaction(SIGSEGV, &previous, NULL); return e; }
    return 0;
}

long cpuid_mask_count(void) { return __atomic_load_n(&answered, __ATOMIC_RELAXED); }
