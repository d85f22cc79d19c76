# Sourced by the benchmark drivers (bench/*/run.sh): which instruction set both sides run on, and a header saying so.
#
#   source bench/isa.sh
#   bench_isa_setup ISA      # native | avx512 | avx2  ->  BENCH_ISA, OURS_ENV, TORCH_ENV
#   bench_isa_header DOTNET_ISA_CMD...   # prints uptime, our kernels' instruction sets, the torch reference's
#   bench_ort_isa_setup OUTDIR           # -> ORT_ENV: keeps ONNX Runtime on AVX2 too where BENCH_ISA is avx2
#
# avx512: ours as the runtime finds the CPU; torch with ATen's AVX-512 kernels and OpenBLAS's SkylakeX (AVX-512) core, so
#         the reference also runs its best code on an AVX-512 CPU.
# avx2:   ours with DOTNET_EnableAVX512=0 (.NET 10's switch; DOTNET_EnableAVX512F=0, the older name, is set too but no
#         longer turns AVX-512 off), torch with ATEN_CPU_CAPABILITY=avx2 and OPENBLAS_CORETYPE=Haswell. On an AVX-512 CPU
#         this emulates an AVX2-only machine (e.g. Zen 3) as far as instruction sets go; caches, clocks and ports stay this
#         CPU's. ONNX Runtime's MLAS picks its kernels from CPUID and has no switch: bench/engine/run.sh keeps it on AVX2
#         by answering its CPUID without AVX-512 (bench/engine/cpuid_mask.c, Linux CPUID faulting).
# native: avx512 when /proc/cpuinfo lists avx512f, else avx2.

bench_isa_setup() {
  local want=${1:-native}
  local has512=0
  grep -qw avx512f /proc/cpuinfo 2>/dev/null && has512=1
  case $want in
    native) if ((has512)); then want=avx512; else want=avx2; fi ;;
    avx512) if ((has512 == 0)); then echo "bench: --isa avx512 on a CPU without AVX-512" >&2; return 2; fi ;;
    avx2) ;;
    *) echo "bench: unknown --isa '$want' (native, avx512, avx2)" >&2; return 2 ;;
  esac
  BENCH_ISA=$want
  if [[ $want == avx2 ]]; then
    OURS_ENV=(DOTNET_EnableAVX512=0 DOTNET_EnableAVX512F=0)
    TORCH_ENV=(ATEN_CPU_CAPABILITY=avx2 OPENBLAS_CORETYPE=Haswell)
  else
    OURS_ENV=()
    TORCH_ENV=(ATEN_CPU_CAPABILITY=avx512 OPENBLAS_CORETYPE=SkylakeX)
  fi
  if ((has512)) && [[ $want == avx2 ]]; then BENCH_ISA_NOTE="AVX2 EMULATED on an AVX-512 CPU"; else BENCH_ISA_NOTE="$want native"; fi
  export BENCH_ISA BENCH_ISA_NOTE
}

# bench_isa_header TORCH_THREADS OURS_CMD...: one block of lines, also what run.sh scripts tee into their results.
bench_isa_header() {
  local threads=$1
  shift
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  echo "== isa: $BENCH_ISA ($BENCH_ISA_NOTE)"
  echo "== uptime: $(uptime)"
  echo "== ours:  $(env "${OURS_ENV[@]}" "$@")"
  echo "== torch: $(env "${TORCH_ENV[@]}" PYENV_VERSION=system python3 "$here/cpu_report.py" "$threads")"
}

# bench_ort_isa_setup OUTDIR: ORT_ENV, the environment that keeps ONNX Runtime (run inside our process) on BENCH_ISA. On an
# AVX-512 CPU with --isa avx2 it builds bench/engine/cpuid_mask.c into OUTDIR with gcc and names it in ORT_CPUID_MASK,
# which Engine.Bench loads before its first ONNX Runtime call; otherwise ORT_ENV is empty.
bench_ort_isa_setup() {
  local out=$1 here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  ORT_ENV=()
  if [[ $BENCH_ISA == avx2 ]] && grep -qw avx512f /proc/cpuinfo; then
    command -v gcc >/dev/null || { echo "bench: --isa avx2 on an AVX-512 CPU needs gcc to keep ONNX Runtime on AVX2" >&2; return 1; }
    grep -qw cpuid_fault /proc/cpuinfo || { echo "bench: no CPUID faulting on this CPU or kernel: ONNX Runtime cannot be kept on AVX2" >&2; return 1; }
    mkdir -p "$out"
    gcc -O2 -Wall -shared -fPIC -o "$out/libcpuidmask.so" "$here/engine/cpuid_mask.c"
    ORT_ENV=(ORT_CPUID_MASK="$out/libcpuidmask.so")
  fi
}

# bench_steal_start; …; bench_steal_pct: the hypervisor's steal as a share of all the machine's CPU time since
# bench_steal_start (from /proc/stat; "?" where there is none). On a shared VM it says how much of a slow run was the host.
bench_cpu_counters() { # "total steal" of the machine's CPU time so far
  awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $9}' /proc/stat 2>/dev/null || true
}
bench_steal_start() {
  BENCH_STEAL_MARK=$(bench_cpu_counters)
}
bench_steal_pct() {
  local now
  now=$(bench_cpu_counters)
  if [[ -z "${BENCH_STEAL_MARK:-}" || -z "$now" ]]; then echo "?"; return; fi
  echo "$BENCH_STEAL_MARK $now" | awk '{t = $3 - $1; printf "%.0f", (t > 0 ? 100 * ($4 - $2) / t : 0)}'
}
