#!/usr/bin/env bash
# GEMM GFLOP/s of MLNetMerge vs PyTorch (+OpenBLAS), 2 threads each, shape by shape (alternating, so a burst of
# load elsewhere hits both), --reps times (median per shape); then one thread per CPU-second (robust on a shared
# machine); then CART's truncated SVD vs torch.linalg.svd. Run from anywhere; keep the machine quiet.
# Usage: bench/gemm/run.sh [--isa native|avx512|avx2] [--reps 3]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
isa=native; reps=3
while (($#)); do
  case "$1" in
    --isa) isa=$2; shift ;;
    --reps) reps=$2; shift ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
# shellcheck source=../isa.sh
source "$root/bench/isa.sh"
bench_isa_setup "$isa"
threads="${THREADS:-2}"
out="${OUT_DIR:-$root/bench/out/gemm}"
mkdir -p "$out"
dotnet build -c Release bench/Gemm.Bench -v:q -nologo >/dev/null
bench() { env "${OURS_ENV[@]}" dotnet bench/Gemm.Bench/bin/Release/net10.0/Gemm.Bench.dll "$@"; }
torch() { env "${TORCH_ENV[@]}" PYENV_VERSION=system python3 "$@"; }
bench_isa_header "$threads" dotnet bench/Gemm.Bench/bin/Release/net10.0/Gemm.Bench.dll isa
bench kernel

: > "$out/two_threads.txt"
for ((r = 1; r <= reps; r++)); do
  grep -v '^#' bench/gemm/shapes.txt | while read -r line; do
    [ -z "$line" ] && continue
    echo "$line" > "$out/one_shape.txt"
    ours=$(bench "$out/one_shape.txt" "$threads")
    theirs=$(torch bench/gemm/torch_gemm.py "$out/one_shape.txt" "$threads")
    echo "$ours ${theirs##* }" >> "$out/two_threads.txt"
  done
done
echo "$threads threads, fastest call over >= 1.5 s, median of $reps runs per shape:"
python3 - "$out/two_threads.txt" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, m, n, k, ours, torch = line.split()
    rows.setdefault((name, m, n, k), []).append((float(ours), float(torch)))
print(f"{'shape':<16} {'M':>5} {'N':>5} {'K':>5} {'ours_GF/s':>10} {'torch_GF/s':>10} {'ratio':>7}")
for (name, m, n, k), v in rows.items():
    o, t = statistics.median(x for x, _ in v), statistics.median(y for _, y in v)
    print(f"{name:<16} {m:>5} {n:>5} {k:>5} {o:>10.1f} {t:>10.1f} {o / t:>7.3f}")
PY

echo
echo "One thread, GFLOP per second of CPU time (robust to other processes' load):"
printf "%-16s %5s %5s %5s %10s %10s %7s\n" shape M N K ours_GF/s torch_GF/s ratio
grep -v '^#' bench/gemm/shapes.txt | while read -r line; do
    [ -z "$line" ] && continue
    echo "$line" > "$out/one_shape.txt"
    ours=$(bench "$out/one_shape.txt" 1 cpu)
    theirs=$(torch bench/gemm/torch_gemm.py "$out/one_shape.txt" 1 cpu)
    read -r name m n k og <<<"$ours"
    read -r _ _ _ _ tg <<<"$theirs"
    printf "%-16s %5s %5s %5s %10s %10s %7.3f\n" "$name" "$m" "$n" "$k" "$og" "$tg" "$(echo "$og / $tg" | bc -l)"
done

echo
echo "CART's truncated SVD (r = 0.12·min(m,n), CART's defaults) vs torch.linalg.svd + truncation:"
bench rsvd "$out" > "$out/rsvd.txt"
torch bench/gemm/torch_svd.py "$out" "$out/rsvd.txt"
echo "== uptime after the run: $(uptime)"
